// perf_switch: context switches to a Chrome trace (JSON, open it in
// chrome://tracing or ui.perfetto.dev).
//
// The per-CPU kernel-record leader reports every context switch
// (PERF_RECORD_SWITCH_CPU_WIDE). The record's sample_id trailer names the
// task switched out (misc SWITCH_OUT) or in; a slice is a task's time on a
// CPU from its switch-in to its switch-out. COMM records name the threads.
//
//   perf_switch OUTPUT.json [SECONDS=2]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "one_collect/core/strings.h"
#include "one_collect/linux/perf_session.h"

using namespace one_collect;

namespace {

// A JSON string literal, quotes included.
std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// Field refs are resolved once; a kernel format without the field is a bug
// worth a clear message, not a crash.
EventFieldRef field_or_exit(const EventFormat& format, const char* name) {
  auto ref = format.get_field_ref(name);
  if (!ref.ok()) {
    std::fprintf(stderr, "perf_switch: %s\n", ref.status().to_string().c_str());
    std::exit(1);
  }
  return *ref;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: perf_switch OUTPUT.json [SECONDS=2]\n");
    return 2;
  }
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 2;
  FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  KernelRecordOptions kernel;
  kernel.mmap = false;
  auto built = RingBufSessionBuilder().with_kernel_events(kernel).build();
  if (!built.ok()) {
    std::fprintf(stderr, "perf_switch: %s\n", built.status().to_string().c_str());
    return 1;
  }
  PerfSession& session = **built;
  const PerfSessionRefs& refs = session.refs();
  std::map<std::uint32_t, std::pair<std::uint32_t, std::string>> names;  // tid -> (pid, comm)
  const EventFormat& comm_format = session.kernel_events().comm.format();
  EventFieldRef comm_ref = field_or_exit(comm_format, "comm");
  EventFieldRef comm_tid = field_or_exit(comm_format, "tid");
  EventFieldRef comm_pid = field_or_exit(comm_format, "pid");
  session.kernel_events().comm.add_callback([&](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(auto tid, d.format.get_u32(comm_tid, d.event_data));
    OC_ASSIGN_OR_RETURN(auto pid, d.format.get_u32(comm_pid, d.event_data));
    OC_ASSIGN_OR_RETURN(auto name, d.format.get_str(comm_ref, d.event_data));
    names[tid] = {pid, std::string(name)};
    return ok_status();
  });
  // Names of the threads already running, through the same COMM callback.
  (void)session.capture_environment();

  struct Running {
    std::uint32_t pid = 0, tid = 0;
    std::uint64_t since = 0;
    bool valid = false;
  };
  std::vector<Running> running(1024);
  std::uint64_t first_time = 0;
  std::size_t slices = 0;
  std::fprintf(out, "{\"traceEvents\":[\n");
  bool first = true;
  session.kernel_events().switch_cpu_wide.add_callback([&](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(std::uint64_t time, refs.time.get_u64(d.full_data));
    OC_ASSIGN_OR_RETURN(std::uint32_t cpu, refs.cpu.get_u32(d.full_data));
    OC_ASSIGN_OR_RETURN(std::uint32_t pid, refs.pid.get_u32(d.full_data));
    OC_ASSIGN_OR_RETURN(std::uint32_t tid, refs.tid.get_u32(d.full_data));
    OC_ASSIGN_OR_RETURN(std::uint16_t misc, refs.misc.get_u16(d.full_data));
    if (first_time == 0) first_time = time;
    Running& r = running[cpu & 1023];
    if (misc & PERF_RECORD_MISC_SWITCH_OUT) {
      if (r.valid && r.tid == tid && tid != 0) {
        auto it = names.find(tid);
        std::fprintf(
            out,
            "%s{\"name\":%s,\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
            "\"dur\":%.3f,\"args\":{\"cpu\":%u}}",
            first ? "" : ",\n",
            json_string(it == names.end() ? std::to_string(tid) : it->second.second).c_str(), pid,
            tid, static_cast<double>(r.since - first_time) / 1e3,
            static_cast<double>(time - r.since) / 1e3, cpu);
        first = false;
        ++slices;
      }
      r.valid = false;
    } else {
      r = Running{pid, tid, time, true};
    }
    return ok_status();
  });
  if (Status s = session.enable(); !s.ok()) {
    std::fprintf(stderr, "perf_switch: %s\n", s.to_string().c_str());
    return 1;
  }
  (void)session.parse_for_duration(std::chrono::seconds(seconds));
  (void)session.stop();
  for (const auto& [tid, who] : names) {
    std::fprintf(out,
                 "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
                 "\"args\":{\"name\":%s}}",
                 first ? "" : ",\n", who.first, tid, json_string(who.second).c_str());
    first = false;
  }
  std::fprintf(out, "\n]}\n");
  std::fclose(out);
  PerfSessionStats st = session.stats();
  std::printf("%zu slices written to %s (lost %llu, errors %llu)\n", slices, argv[1],
              static_cast<unsigned long long>(st.lost),
              static_cast<unsigned long long>(session.errors().total()));
  return 0;
}
