#include "one_collect/linux/perf_time_merge.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace one_collect {
namespace {

constexpr std::uint64_t kType =
    PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;

// A SWITCH record (empty body) with a trailer carrying `time`.
void append_switch(std::vector<std::uint8_t>& out, std::uint64_t time, std::uint32_t cpu) {
  std::uint8_t rec[40] = {};
  std::uint32_t type = PERF_RECORD_SWITCH;
  std::uint16_t size = sizeof(rec);
  std::memcpy(rec, &type, 4);
  std::memcpy(rec + 6, &size, 2);
  std::memcpy(rec + 16, &time, 8);
  std::memcpy(rec + 24, &cpu, 4);
  std::uint64_t id = 1;
  std::memcpy(rec + 32, &id, 8);
  const std::size_t at = out.size();
  out.resize(at + sizeof(rec));
  std::memcpy(out.data() + at, rec, sizeof(rec));
}

struct Fixture {
  PerfRecordParser parser;
  std::vector<std::uint64_t> times;
  std::vector<std::uint32_t> cpus;
  int released = 0;
  TimeOrderMerger merger{parser, [this](RecordChunk&&) { ++released; }};
  Fixture() {
    SampleLayout l;
    l.sample_type = kType;
    l.sample_id_all = true;
    parser.add_id(1, parser.add_layout(l), nullptr, false);
    parser.kernel_events().switch_task.add_callback([this](const EventData& d) -> Status {
      times.push_back(parser.refs().time.get_u64(d.full_data).value());
      cpus.push_back(parser.refs().cpu.get_u32(d.full_data).value());
      return ok_status();
    });
  }
  void add(std::uint32_t cpu, std::vector<std::uint64_t> ts) {
    RecordChunk c;
    c.cpu = cpu;
    for (auto t : ts) append_switch(c.bytes, t, cpu);
    merger.add_chunk(std::move(c));
  }
};

TEST(TimeOrderMerger, MergesCpusInTimeOrderUpToTheWatermark) {
  Fixture f;
  f.add(0, {10, 30, 50, 70});
  f.add(1, {20, 40});
  f.merger.emit_until(35);
  EXPECT_EQ(f.times, (std::vector<std::uint64_t>{10, 20, 30}));
  // CPU 1's ring was empty after 40 when this round read it; records that
  // land there later (45, 60) but are older than what CPU 0 still holds
  // (50, 70) come out in order, because the watermark held those back.
  f.add(1, {45, 60});
  f.merger.emit_all();
  EXPECT_EQ(f.times, (std::vector<std::uint64_t>{10, 20, 30, 40, 45, 50, 60, 70}));
  EXPECT_EQ(f.parser.stats().out_of_order, 0u);
  EXPECT_EQ(f.released, 3);
  EXPECT_EQ(f.merger.pending_records(), 0u);
}

TEST(TimeOrderMerger, SortsAChunkWhoseStampsAreOutOfOrder) {
  Fixture f;
  f.add(0, {10, 5, 20});
  f.merger.emit_all();
  EXPECT_EQ(f.times, (std::vector<std::uint64_t>{5, 10, 20}));
}

TEST(TimeOrderMerger, CountsRecordsOlderThanWhatWasEmitted) {
  Fixture f;
  f.add(0, {100});
  f.merger.emit_all();
  f.add(1, {50});
  f.merger.emit_all();
  EXPECT_EQ(f.times, (std::vector<std::uint64_t>{100, 50}));
  EXPECT_EQ(f.parser.stats().out_of_order, 1u);
}

TEST(TimeOrderMerger, TruncatedChunkIsCountedAndTheRestKept) {
  Fixture f;
  RecordChunk c;
  append_switch(c.bytes, 1, 0);
  append_switch(c.bytes, 2, 0);
  c.bytes[40 + 6] = 0xF0;  // second record claims 240 bytes
  f.merger.add_chunk(std::move(c));
  f.merger.emit_all();
  EXPECT_EQ(f.times, (std::vector<std::uint64_t>{1}));
  EXPECT_GE(f.parser.stats().malformed, 1u);
}

}  // namespace
}  // namespace one_collect
