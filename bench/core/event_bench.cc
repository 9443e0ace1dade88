// Dispatch of one event to one callback that reads three fields: the cost
// every record pays on its way through the pipeline.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "one_collect/event/event.h"
#include "one_collect/event/field_closures.h"

namespace one_collect {
namespace {

Event make_event() {
  Event event(1, "bench");
  for (auto [name, type, offset, size] :
       {std::tuple{"pid", "int", 0u, 4u}, std::tuple{"tid", "int", 4u, 4u},
        std::tuple{"time", "u64", 8u, 8u}}) {
    auto field = EventField::create(name, type, offset, size);
    (void)event.format().add_field(std::move(*field));
  }
  return event;
}

void BM_DispatchOneCallbackThreeFields(benchmark::State& state) {
  Event event = make_event();
  auto pid = *event.format().get_field_ref("pid");
  auto tid = *event.format().get_field_ref("tid");
  auto time = *event.format().get_field_ref("time");
  std::uint64_t sum = 0;
  event.add_callback([&sum, pid, tid, time](const EventData& data) {
    auto p = data.format.get_s32(pid, data.event_data);
    auto t = data.format.get_s32(tid, data.event_data);
    auto ts = data.format.get_u64(time, data.event_data);
    if (!p.ok() || !t.ok() || !ts.ok()) return error(ErrorCode::kMalformed, "short");
    sum += static_cast<std::uint64_t>(*p + *t) + *ts;
    return ok_status();
  });
  std::vector<std::uint8_t> payload(16);
  std::int32_t p = 100;
  std::int32_t t = 101;
  std::uint64_t ts = 123456789;
  std::memcpy(payload.data(), &p, 4);
  std::memcpy(payload.data() + 4, &t, 4);
  std::memcpy(payload.data() + 8, &ts, 8);
  EventErrors errors;
  ByteSpan data(payload);
  for (auto _ : state) {
    event.process(data, data, errors);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  if (!errors.empty()) state.SkipWithError("callback failed");
}
BENCHMARK(BM_DispatchOneCallbackThreeFields);

void BM_FieldFilterNumeric(benchmark::State& state) {
  Event event = make_event();
  auto filter = *make_field_filter(event.format(), "pid", CompareOp::kEq, "100");
  std::vector<std::uint8_t> payload(16);
  std::int32_t p = 100;
  std::memcpy(payload.data(), &p, 4);
  std::size_t hits = 0;
  for (auto _ : state) hits += filter(ByteSpan(payload));
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FieldFilterNumeric);

}  // namespace
}  // namespace one_collect

BENCHMARK_MAIN();
namespace one_collect {
namespace {
void BM_DispatchEmptyCallback(benchmark::State& state) {
  Event event = make_event();
  std::uint64_t n = 0;
  event.add_callback([&n](const EventData&) {
    ++n;
    return ok_status();
  });
  std::vector<std::uint8_t> payload(16);
  EventErrors errors;
  ByteSpan data(payload);
  for (auto _ : state) event.process(data, data, errors);
  benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_DispatchEmptyCallback);
}  // namespace
}  // namespace one_collect
