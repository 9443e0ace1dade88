// tracepoint_fields: subscribe to a kernel tracepoint through one_collect and
// print three of its fields for the first COUNT records, then exit.
//
//   tracepoint_fields [COUNT=10]        (root, or CAP_PERFMON with tracefs access)
//
// One line per sched:sched_switch record, in time order:
//   prev_comm=bash prev_pid=1234 next_comm=swapper/1
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "one_collect/linux/perf_session.h"

using namespace one_collect;

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::atol(argv[1]) : 10;
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "tracepoint_fields: %s\n", s.to_string().c_str());
    return 1;
  };
  // System-wide, with no sampling: the session carries just the tracepoint.
  Result<std::unique_ptr<PerfSession>> built = RingBufSessionBuilder().build();
  if (!built.ok()) return fail(built.status());
  PerfSession& session = **built;
  // The Event's format is the tracepoint's own (from tracefs).
  Result<Event*> sched_switch = session.add_tracepoint("sched:sched_switch");
  if (!sched_switch.ok()) return fail(sched_switch.status());
  // Resolve field names once; the callback then reads by reference.
  const EventFormat& format = (*sched_switch)->format();
  Result<EventFieldRef> prev_comm = format.get_field_ref("prev_comm");
  Result<EventFieldRef> prev_pid = format.get_field_ref("prev_pid");
  Result<EventFieldRef> next_comm = format.get_field_ref("next_comm");
  for (const auto* ref : {&prev_comm, &prev_pid, &next_comm}) {
    if (!ref->ok()) return fail(ref->status());
  }
  long printed = 0;
  (*sched_switch)->add_callback([&](const EventData& d) -> Status {
    if (printed >= count) return ok_status();
    OC_ASSIGN_OR_RETURN(std::string_view prev, d.format.get_str(*prev_comm, d.event_data));
    OC_ASSIGN_OR_RETURN(std::int64_t pid, d.format.get_signed(*prev_pid, d.event_data));
    OC_ASSIGN_OR_RETURN(std::string_view next, d.format.get_str(*next_comm, d.event_data));
    std::printf("prev_comm=%.*s prev_pid=%lld next_comm=%.*s\n", static_cast<int>(prev.size()),
                prev.data(), static_cast<long long>(pid), static_cast<int>(next.size()),
                next.data());
    ++printed;
    return ok_status();
  });
  if (Status s = session.enable(); !s.ok()) return fail(s);
  // Callbacks run on this thread, inside parse_*; `done` is checked each round.
  Status parsed = session.parse_until([&] { return printed >= count; });
  if (Status s = session.stop(); !s.ok()) return fail(s);
  if (!parsed.ok()) return fail(parsed);
  // A callback's error (e.g. a malformed record) is collected, not fatal.
  if (!session.errors().empty()) {
    std::fprintf(stderr, "tracepoint_fields: %s\n", session.errors().to_string().c_str());
  }
  return printed >= count ? 0 : 1;
}
