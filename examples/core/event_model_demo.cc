// A tour of the event model: describe a payload with an EventFormat,
// resolve fields once, register closures, dispatch records, filter, render
// them for a live view, intern what repeats, and collect errors without
// stopping.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "one_collect/event/event.h"
#include "one_collect/event/field_closures.h"
#include "one_collect/intern/interned_callstacks.h"
#include "one_collect/intern/interned_strings.h"
#include "one_collect/sharing/shared.h"

using namespace one_collect;

namespace {

// A payload laid out like the kernel's sched_switch tracepoint (abridged).
struct SwitchPayload {
  std::uint16_t common_type;
  std::uint8_t flags;
  std::uint8_t preempt;
  std::int32_t common_pid;
  char prev_comm[16];
  std::int32_t prev_pid;
  std::int32_t prev_prio;
  std::int64_t prev_state;
  char next_comm[16];
  std::int32_t next_pid;
  std::int32_t next_prio;
};

Status add_field(Event& event, const char* name, const char* type, std::size_t offset,
                 std::size_t size) {
  OC_ASSIGN_OR_RETURN(EventField field,
                      EventField::create(name, type, static_cast<std::uint32_t>(offset),
                                         static_cast<std::uint32_t>(size)));
  return event.format().add_field(std::move(field));
}

std::vector<std::uint8_t> make_record(const char* prev, int prev_pid, const char* next,
                                      int next_pid) {
  SwitchPayload p{};
  p.common_type = 316;
  std::strncpy(p.prev_comm, prev, sizeof p.prev_comm - 1);
  std::strncpy(p.next_comm, next, sizeof p.next_comm - 1);
  p.prev_pid = prev_pid;
  p.next_pid = next_pid;
  p.prev_prio = p.next_prio = 120;
  std::vector<std::uint8_t> bytes(sizeof p);
  std::memcpy(bytes.data(), &p, sizeof p);
  return bytes;
}

}  // namespace

int main() {
  Event sched_switch(316, "sched:sched_switch");
#define FIELD(name, type)                                                          \
  if (auto s = add_field(sched_switch, #name, type, offsetof(SwitchPayload, name), \
                         sizeof(SwitchPayload::name));                             \
      !s.ok()) {                                                                   \
    std::fprintf(stderr, "format: %s\n", s.to_string().c_str());                   \
    return 1;                                                                      \
  }
  FIELD(common_type, "unsigned short")
  FIELD(common_pid, "int")
  FIELD(prev_comm, "char[16]")
  FIELD(prev_pid, "int")
  FIELD(prev_prio, "int")
  FIELD(prev_state, "long")
  FIELD(next_comm, "char[16]")
  FIELD(next_pid, "int")
  FIELD(next_prio, "int")
#undef FIELD

  // Resolve once, outside the closures. A Result is read only after ok():
  // value() on an error stops the program.
  const EventFormat& format = sched_switch.format();
  auto next_comm_ref = format.get_field_ref("next_comm");
  auto next_pid_ref = format.get_field_ref("next_pid");
  if (!next_comm_ref.ok() || !next_pid_ref.ok()) {
    const Status& s = next_comm_ref.ok() ? next_pid_ref.status() : next_comm_ref.status();
    std::fprintf(stderr, "field: %s\n", s.to_string().c_str());
    return 1;
  }
  EventFieldRef next_comm = *next_comm_ref;
  EventFieldRef next_pid = *next_pid_ref;

  // Shared state the closures write and the report reads.
  Writable<std::vector<std::uint32_t>> switches_in;  // interned comm ids, one per switch
  InternedStrings comms;
  auto filter = make_field_filter(format, "next_comm", CompareOp::kStartsWith, "python");
  if (!filter.ok()) {
    std::fprintf(stderr, "filter: %s\n", filter.status().to_string().c_str());
    return 1;
  }
  auto only_python = std::move(filter).value();
  FieldWriter live_view = make_event_writer(format);

  sched_switch.add_callback([&, switches_in](const EventData& data) {
    OC_ASSIGN_OR_RETURN(std::string_view comm, data.format.get_str(next_comm, data.event_data));
    switches_in.write([&](auto& ids) { ids.push_back(comms.intern(comm)); });
    return ok_status();
  });
  sched_switch.add_callback([&](const EventData& data) {
    if (!only_python(data.event_data)) return ok_status();
    std::string line;
    live_view(data.event_data, line);
    std::printf("live: %s\n", line.c_str());
    return ok_status();
  });
  sched_switch.add_callback([&](const EventData& data) {
    OC_ASSIGN_OR_RETURN(std::int32_t pid, data.format.get_s32(next_pid, data.event_data));
    if (pid < 0) return error(ErrorCode::kMalformed, "negative pid");
    return ok_status();
  });

  EventErrors errors;
  std::vector<std::vector<std::uint8_t>> records = {
      make_record("bash", 100, "python3", 200),       make_record("python3", 200, "nginx", 300),
      make_record("nginx", 300, "python3", 200),      make_record("python3", 200, "bash", 100),
      make_record("swapper/0", 0, "kworker/0:1", -1),
  };
  records.push_back(std::vector<std::uint8_t>(records[0].begin(), records[0].begin() + 20));

  for (const auto& r : records) sched_switch.process(ByteSpan(r), ByteSpan(r), errors);

  std::printf("\n%zu records, %zu distinct commands switched in:\n", records.size(),
              comms.size() - 1);
  switches_in.read([&](const auto& ids) {
    for (std::uint32_t id = 1; id < comms.size(); ++id) {
      std::size_t n = 0;
      for (auto x : ids) n += (x == id);
      std::printf("  %-12s %zu\n", std::string(*comms.get(id)).c_str(), n);
    }
  });

  InternedCallstacks stacks;
  std::uint64_t a[] = {0x401000, 0x401200, 0x401400};
  std::uint64_t b[] = {0x401000, 0x401200};
  std::printf("\ncallstacks interned: %u %u %u (ids; equal stacks share one)\n", stacks.intern(a),
              stacks.intern(b), stacks.intern(a));

  std::printf("\nerrors collected while processing went on (%llu):\n%s",
              static_cast<unsigned long long>(errors.total()), errors.to_string().c_str());
  return 0;
}
