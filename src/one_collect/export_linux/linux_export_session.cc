#include "one_collect/export_linux/linux_export_session.h"

#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "one_collect/core/strings.h"
#include "one_collect/event/field_closures.h"
#include "one_collect/export_linux/linux_symbol_resolver.h"
#include "one_collect/fs/find_program.h"
#include "one_collect/linux/perf_session.h"
#include "one_collect/process/process_table.h"
#include "one_collect/unwind/callstack.h"

namespace one_collect {
namespace {

std::uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Field refs of a kernel record Event, resolved once.
struct Refs {
  EventFieldRef pid, tid, ppid, addr, len, pgoff, maj, min, ino, build_id_size, build_id, prot,
      filename, comm, lost;
};

EventFieldRef ref_of(const Event& event, std::string_view name) {
  auto r = event.format().get_field_ref(name);
  return r.ok() ? *r : EventFieldRef{};
}

// Copies a u64 array out of a record when it is not 8-byte aligned (records
// in the reader's buffer usually are; this keeps the unaligned case defined).
std::span<const std::uint64_t> as_u64s(ByteSpan bytes, std::vector<std::uint64_t>& scratch) {
  std::size_t n = bytes.size() / 8;
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(std::uint64_t) == 0) {
    return {reinterpret_cast<const std::uint64_t*>(bytes.data()), n};
  }
  scratch.resize(n);
  std::memcpy(scratch.data(), bytes.data(), n * 8);
  return scratch;
}

// "command not found" is an error before anything is opened rather than an
// exit code 127 afterwards.
Status check_command(const std::vector<std::string>& command) {
  return find_program(command.front(), std::getenv("PATH")).status();
}

}  // namespace

struct LinuxExportSession::State {
  ExportSettings settings;
  Writable<ExportMachine> machine;
  std::unique_ptr<PerfSession> session;
  ProcessTable processes;
  std::unique_ptr<unwind::CallstackReader> callstacks;
  std::unique_ptr<LinuxSymbolResolver> resolver;
  std::array<std::uint64_t, 512> frames{};
  std::vector<std::uint64_t> chain_scratch;
  std::vector<std::uint64_t> regs_scratch;
  std::unordered_set<std::uint32_t> seen_pids;
  SampleKind cpu_kind = 0;
  std::uint64_t cpu_period_ns = 0;
  std::size_t bp_index = 0, sp_index = 0, ip_index = 0;  // in the user register set
  std::atomic<std::uint64_t> samples{0};
  std::atomic<std::uint64_t> lost{0};
  std::atomic<std::uint64_t> process_count{0};
  std::uint64_t unopened_files = 0;
  std::string last_file_error;
  mutable std::mutex notes_mutex;
  std::vector<std::string> notes;
  bool stopped = false;

  State() : machine() {}
  void note(std::string text) {
    std::lock_guard lock(notes_mutex);
    notes.push_back(std::move(text));
  }
};

LinuxExportSession::LinuxExportSession(LinuxSessionOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {}

LinuxExportSession::~LinuxExportSession() {
  if (state_ && state_->session && !state_->stopped) (void)state_->session->stop();
}

SymbolResolver* LinuxExportSession::symbol_resolver() { return state_->resolver.get(); }

LinuxSessionProgress LinuxExportSession::progress() const {
  return LinuxSessionProgress{state_->samples.load(std::memory_order_relaxed),
                              state_->lost.load(std::memory_order_relaxed),
                              state_->process_count.load(std::memory_order_relaxed)};
}

void LinuxExportSession::request_stop() {
  if (state_->session) state_->session->request_stop();
}

std::optional<int> LinuxExportSession::command_exit_code() const {
  if (!state_->session) return std::nullopt;
  return state_->session->command_exit_code();
}

std::vector<std::string> LinuxExportSession::notes() const {
  std::lock_guard lock(state_->notes_mutex);
  return state_->notes;
}

Status LinuxExportSession::start(std::string_view name, const ExportSettings& settings,
                                 const Writable<ExportMachine>& machine) {
  OC_RETURN_IF_ERROR(settings.validate());
  if (!options_.command.empty()) OC_RETURN_IF_ERROR(check_command(options_.command));
  State& st = *state_;
  st.settings = settings;
  st.machine = machine;

  // ---- what the kernel must send
  StackOptions stacks;
  unwind::CallstackOptions unwind_options;
  switch (settings.callstack_mode()) {
    case CallstackMode::kNone:
      unwind_options.mode = unwind::CallstackMode::kIpOnly;
      break;
    case CallstackMode::kFramePointer:
      stacks.callchain = true;
      unwind_options.mode = unwind::CallstackMode::kFramePointer;
      break;
    case CallstackMode::kDwarf:
      stacks.callchain = true;
      stacks.exclude_user_callchain = true;
      stacks.user_regs = true;
      stacks.user_stack_bytes = options_.stack_size;
      unwind_options.mode = unwind::CallstackMode::kDwarf;
      unwind_options.stack_size = options_.stack_size;
      break;
  }
  OC_RETURN_IF_ERROR(unwind::validate(unwind_options));
  st.callstacks = std::make_unique<unwind::CallstackReader>(st.processes, unwind_options);

  // Where BP, SP and IP sit in the register set the session requests.
  std::uint64_t mask = default_user_regs_mask();
  auto index_of = [mask](unsigned bit) {
    return static_cast<std::size_t>(__builtin_popcountll(mask & ((std::uint64_t{1} << bit) - 1)));
  };
  st.bp_index = index_of(6);
  st.sp_index = index_of(7);
  st.ip_index = index_of(8);

  RingBufSessionBuilder builder;
  if (options_.ring_bytes != 0) builder.with_ring_bytes(options_.ring_bytes);
  for (auto pid : settings.target_pids()) builder.with_target_pid(static_cast<pid_t>(pid));
  if (!options_.command.empty()) builder.with_command(options_.command);
  KernelRecordOptions kernel;
  kernel.context_switch = settings.context_switches();
  builder.with_kernel_events(kernel);
  builder.with_stacks(stacks);
  if (settings.cpu_sampling()) {
    if (settings.cpu_interval_ns() != 0) {
      builder.with_cpu_sampling(cpu_clock_spec(0, settings.cpu_interval_ns()));
    } else {
      builder.with_cpu_sampling(settings.cpu_frequency_hz());
    }
  }
  if (settings.context_switches()) builder.with_cswitch_sampling();

  auto built = builder.build();
  if (!built.ok()) return std::move(built).status().with_context("opening perf events");
  st.session = std::move(*built);
  for (const auto& n : st.session->notes()) st.note(n);

  st.machine.write([&](ExportMachine& m) {
    CollectionMetadata& md = m.metadata();
    utsname u{};
    if (uname(&u) == 0) {
      md.host = u.nodename;
      md.kernel = std::string(u.sysname) + " " + u.release;
    }
    md.cpu_count = static_cast<std::uint32_t>(st.session->cpus().size());
    md.sample_frequency_hz = settings.cpu_sampling() ? settings.cpu_frequency_hz() : 0;
    md.sample_period_ns = settings.cpu_sampling() ? settings.cpu_period_ns() : 0;
    md.command_line = std::string(name);
    for (auto h : settings.sample_hooks()) m.add_sample_hook(std::move(h));
    st.cpu_kind = *m.find_sample_kind(kCpuKind);
  });
  st.cpu_period_ns = settings.cpu_period_ns();

  // ---- process and mapping records
  PerfKernelEvents& k = st.session->kernel_events();
  const PerfSessionRefs& refs = st.session->refs();
  auto* state = &st;
  auto live = options_.live_output;

  Refs mm{};
  mm.pid = ref_of(k.mmap2, "pid");
  mm.addr = ref_of(k.mmap2, "addr");
  mm.len = ref_of(k.mmap2, "len");
  mm.pgoff = ref_of(k.mmap2, "pgoff");
  mm.maj = ref_of(k.mmap2, "maj");
  mm.min = ref_of(k.mmap2, "min");
  mm.ino = ref_of(k.mmap2, "ino");
  mm.build_id_size = ref_of(k.mmap2, "build_id_size");
  mm.build_id = ref_of(k.mmap2, "build_id");
  mm.prot = ref_of(k.mmap2, "prot");
  mm.filename = ref_of(k.mmap2, "filename");
  k.mmap2.add_callback([state, mm, &refs](const EventData& d) -> Status {
    const EventFormat& f = d.format;
    OC_ASSIGN_OR_RETURN(std::uint32_t pid, f.get_u32(mm.pid, d.event_data));
    if (pid == static_cast<std::uint32_t>(-1)) return ok_status();  // kernel modules
    OC_ASSIGN_OR_RETURN(std::uint64_t addr, f.get_u64(mm.addr, d.event_data));
    OC_ASSIGN_OR_RETURN(std::uint64_t len, f.get_u64(mm.len, d.event_data));
    OC_ASSIGN_OR_RETURN(std::uint64_t pgoff, f.get_u64(mm.pgoff, d.event_data));
    OC_ASSIGN_OR_RETURN(std::string_view path, f.get_str(mm.filename, d.event_data));
    auto prot = f.get_u32(mm.prot, d.event_data);
    MmapEvent ev;
    ev.pid = pid;
    ev.start = addr;
    ev.len = len;
    ev.pgoff = pgoff;
    ev.path = path;
    ev.time = refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
    ev.executable = !prot.ok() || (*prot & PROT_EXEC) != 0;
    std::string build_id;
    auto misc = refs.misc.try_get<std::uint16_t>(d.full_data).value_or(0);
    if (misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
      auto size = f.get_u8(mm.build_id_size, d.event_data);
      auto bytes = f.get_data(mm.build_id, d.event_data);
      if (size.ok() && bytes.ok() && *size <= bytes->size()) {
        ev.build_id = bytes->first(*size);
        build_id = to_hex(ev.build_id);
      }
    } else {
      auto maj = f.get_u32(mm.maj, d.event_data);
      auto min = f.get_u32(mm.min, d.event_data);
      auto ino = f.get_u64(mm.ino, d.event_data);
      if (maj.ok() && min.ok()) ev.dev = makedev(*maj, *min);
      if (ino.ok()) ev.ino = *ino;
    }
    if (!ev.executable) return ok_status();
    Status opened = state->processes.on_mmap(ev);
    if (!opened.ok()) {
      ++state->unopened_files;
      state->last_file_error = opened.message();
    }
    state->machine.write([&](ExportMachine& m) {
      m.add_mapping(pid, ev.time, addr, addr + len, pgoff, path, build_id);
    });
    return ok_status();
  });

  EventFieldRef comm_pid = ref_of(k.comm, "pid");
  EventFieldRef comm_tid = ref_of(k.comm, "tid");
  EventFieldRef comm_name = ref_of(k.comm, "comm");
  k.comm.add_callback([state, comm_pid, comm_tid, comm_name, &refs](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(std::uint32_t pid, d.format.get_u32(comm_pid, d.event_data));
    OC_ASSIGN_OR_RETURN(std::uint32_t tid, d.format.get_u32(comm_tid, d.event_data));
    OC_ASSIGN_OR_RETURN(std::string_view comm, d.format.get_str(comm_name, d.event_data));
    auto time = refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
    bool exec = (refs.misc.try_get<std::uint16_t>(d.full_data).value_or(0) &
                 PERF_RECORD_MISC_COMM_EXEC) != 0;
    if (exec) state->processes.on_exec(pid, time);
    if (pid != tid) return ok_status();  // a thread renamed itself
    state->machine.write([&](ExportMachine& m) {
      bool known = m.find_process(pid) != nullptr;
      if (exec && !known) {
        m.add_process_start(pid, time, comm);
      } else {
        m.set_comm(pid, comm);
      }
      state->process_count.store(m.processes().size(), std::memory_order_relaxed);
    });
    return ok_status();
  });

  EventFieldRef fork_pid = ref_of(k.fork, "pid");
  EventFieldRef fork_ppid = ref_of(k.fork, "ppid");
  EventFieldRef fork_tid = ref_of(k.fork, "tid");
  k.fork.add_callback([state, fork_pid, fork_ppid, fork_tid, &refs](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(std::uint32_t pid, d.format.get_u32(fork_pid, d.event_data));
    OC_ASSIGN_OR_RETURN(std::uint32_t ppid, d.format.get_u32(fork_ppid, d.event_data));
    OC_ASSIGN_OR_RETURN(std::uint32_t tid, d.format.get_u32(fork_tid, d.event_data));
    if (pid != tid || pid == ppid) return ok_status();  // a new thread, not a process
    auto time = refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
    state->processes.on_fork(ppid, pid, time);
    state->machine.write([&](ExportMachine& m) {
      m.add_fork(ppid, pid, time);
      state->process_count.store(m.processes().size(), std::memory_order_relaxed);
    });
    return ok_status();
  });

  EventFieldRef exit_pid = ref_of(k.exit, "pid");
  EventFieldRef exit_tid = ref_of(k.exit, "tid");
  k.exit.add_callback([state, exit_pid, exit_tid, &refs](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(std::uint32_t pid, d.format.get_u32(exit_pid, d.event_data));
    OC_ASSIGN_OR_RETURN(std::uint32_t tid, d.format.get_u32(exit_tid, d.event_data));
    if (pid != tid) return ok_status();
    auto time = refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
    // The table keeps the mappings: samples of the exiting process may still
    // arrive from other CPUs.
    state->processes.on_exit(pid, time);
    state->machine.write([&](ExportMachine& m) { m.add_process_exit(pid, time); });
    return ok_status();
  });

  EventFieldRef lost_count = ref_of(k.lost, "lost");
  k.lost.add_callback([state, lost_count](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(std::uint64_t n, d.format.get_u64(lost_count, d.event_data));
    state->lost.fetch_add(n, std::memory_order_relaxed);
    state->machine.write([&](ExportMachine& m) { m.add_lost(kCpuKind, n); });
    return ok_status();
  });
  EventFieldRef lost_samples_count = ref_of(k.lost_samples, "lost");
  k.lost_samples.add_callback([state, lost_samples_count](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(std::uint64_t n, d.format.get_u64(lost_samples_count, d.event_data));
    state->lost.fetch_add(n, std::memory_order_relaxed);
    state->machine.write([&](ExportMachine& m) { m.add_lost(kCpuKind, n); });
    return ok_status();
  });

  // ---- samples: unwound now, the stack copy dropped right after.
  auto unwind_sample = [state, &refs](const EventData& d, std::uint32_t& pid, std::uint32_t& tid,
                                      std::uint64_t& time, std::uint32_t& cpu,
                                      std::size_t& count) -> Status {
    ByteSpan full = d.full_data;
    pid = refs.pid.try_get<std::uint32_t>(full).value_or(0);
    tid = refs.tid.try_get<std::uint32_t>(full).value_or(0);
    time = refs.time.try_get<std::uint64_t>(full).value_or(0);
    cpu = refs.cpu.try_get<std::uint32_t>(full).value_or(0);
    unwind::SampleStackInput in;
    in.pid = pid;
    in.time = time;
    in.ip = refs.ip.try_get<std::uint64_t>(full).value_or(0);
    if (auto chain = refs.callchain.get_data(full); chain.ok()) {
      in.callchain = as_u64s(*chain, state->chain_scratch);
    }
    in.regs_abi = refs.regs_user_abi.try_get<std::uint64_t>(full).value_or(0);
    std::array<std::uint64_t, 3> bp_sp_ip{};
    if (auto regs = refs.regs_user.get_data(full); regs.ok() && in.regs_abi != 0) {
      auto values = as_u64s(*regs, state->regs_scratch);
      if (values.size() > state->ip_index) {
        bp_sp_ip = {values[state->bp_index], values[state->sp_index], values[state->ip_index]};
        in.user_regs = bp_sp_ip;
      }
    }
    if (auto stack = refs.stack_user.get_data(full); stack.ok()) in.user_stack = *stack;
    auto result = state->callstacks->read(in, state->frames);
    count = result.count;
    if (count == 0 && in.ip != 0) {
      state->frames[0] = in.ip;
      count = 1;
    }
    return ok_status();
  };

  if (Event* cpu_event = st.session->cpu_profile_event()) {
    cpu_event->add_callback([state, unwind_sample, live, &refs](const EventData& d) -> Status {
      std::uint32_t pid, tid, cpu;
      std::uint64_t time;
      std::size_t count = 0;
      OC_RETURN_IF_ERROR(unwind_sample(d, pid, tid, time, cpu, count));
      std::uint64_t leaf = count ? state->frames[0] : 0;
      std::span<const std::uint64_t> rest(state->frames.data() + (count ? 1 : 0),
                                          count ? count - 1 : 0);
      state->machine.write([&](ExportMachine& m) {
        m.add_sample(time, MetricValue::duration(state->cpu_period_ns), pid, tid,
                     static_cast<std::uint16_t>(cpu), state->cpu_kind, leaf, rest);
        if (live) {
          char line[160];
          auto* p = m.find_process(pid);
          std::snprintf(line, sizeof line,
                        "%" PRIu64 ".%09" PRIu64 " cpu%u %s %u/%u cpu ip=0x%" PRIx64 " frames=%zu",
                        static_cast<std::uint64_t>(time / 1'000'000'000u),
                        static_cast<std::uint64_t>(time % 1'000'000'000u), cpu,
                        p ? std::string(m.string(p->comm)).c_str() : "?", pid, tid, leaf, count);
          live(line);
        }
      });
      (void)refs;
      state->samples.fetch_add(1, std::memory_order_relaxed);
      return ok_status();
    });
  }

  if (Event* cs = st.session->cswitch_profile_event()) {
    cs->add_callback([state, unwind_sample](const EventData& d) -> Status {
      std::uint32_t pid, tid, cpu;
      std::uint64_t time;
      std::size_t count = 0;
      OC_RETURN_IF_ERROR(unwind_sample(d, pid, tid, time, cpu, count));
      if (tid == 0) return ok_status();  // the idle task waits for nothing
      std::uint64_t leaf = count ? state->frames[0] : 0;
      std::span<const std::uint64_t> rest(state->frames.data() + (count ? 1 : 0),
                                          count ? count - 1 : 0);
      state->machine.write([&](ExportMachine& m) {
        m.on_switch_out(pid, tid, static_cast<std::uint16_t>(cpu), time, leaf, rest);
      });
      return ok_status();
    });
    auto switch_in = [state, &refs](const EventData& d) -> Status {
      auto misc = refs.misc.try_get<std::uint16_t>(d.full_data).value_or(0);
      if (misc & PERF_RECORD_MISC_SWITCH_OUT) return ok_status();
      auto tid = refs.tid.try_get<std::uint32_t>(d.full_data);
      auto time = refs.time.try_get<std::uint64_t>(d.full_data);
      if (!tid || !time) return error(ErrorCode::kMalformed, "switch record without tid/time");
      bool emitted = false;
      state->machine.write([&](ExportMachine& m) { emitted = m.on_switch_in(*tid, *time); });
      if (emitted) state->samples.fetch_add(1, std::memory_order_relaxed);
      return ok_status();
    };
    k.switch_task.add_callback(switch_in);
    k.switch_cpu_wide.add_callback(switch_in);
  }

  // ---- extra tracepoints
  for (const ExtraEvent& extra : settings.events()) {
    std::string full_name = extra.system + ":" + extra.name;
    auto added = st.session->add_tracepoint(full_name);
    if (!added.ok()) return std::move(added).status().with_context("event " + full_name);
    Event* event = *added;
    auto format = std::make_shared<const EventFormat>(event->format());
    std::uint32_t record_type = 0;
    SampleKind kind = 0;
    st.machine.write([&](ExportMachine& m) {
      if (extra.as_samples) {
        kind = m.sample_kind(extra.sample_kind.empty() ? extra.name : extra.sample_kind,
                             MetricKind::kCount);
      } else {
        ExportRecordType type;
        type.name = m.intern(extra.system + "/" + extra.name);
        type.provider = m.intern(extra.system);
        type.event_id = static_cast<std::uint32_t>(event->id());
        type.format = format;
        record_type = m.record_type(type);
      }
    });
    FieldWriter writer = make_event_writer(event->format());
    std::string label = full_name;
    bool as_samples = extra.as_samples;
    event->add_callback([state, unwind_sample, as_samples, kind, record_type, writer, label, live,
                         &refs](const EventData& d) -> Status {
      if (live) {
        std::string line = label + " ";
        writer(d.event_data, line);
        live(line);
      }
      if (as_samples) {
        std::uint32_t pid, tid, cpu;
        std::uint64_t time;
        std::size_t count = 0;
        OC_RETURN_IF_ERROR(unwind_sample(d, pid, tid, time, cpu, count));
        std::uint64_t leaf = count ? state->frames[0] : 0;
        std::span<const std::uint64_t> rest(state->frames.data() + (count ? 1 : 0),
                                            count ? count - 1 : 0);
        state->machine.write([&](ExportMachine& m) {
          m.add_sample(time, MetricValue::count(1), pid, tid, static_cast<std::uint16_t>(cpu), kind,
                       leaf, rest);
        });
        state->samples.fetch_add(1, std::memory_order_relaxed);
        return ok_status();
      }
      auto pid = refs.pid.try_get<std::uint32_t>(d.full_data).value_or(0);
      auto tid = refs.tid.try_get<std::uint32_t>(d.full_data).value_or(0);
      auto time = refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
      auto cpu = refs.cpu.try_get<std::uint32_t>(d.full_data).value_or(0);
      state->machine.write([&](ExportMachine& m) {
        std::uint32_t record = m.add_record(record_type, d.event_data);
        // Records ride on a count sample without a stack so formats that only
        // know samples still show when and where they happened.
        m.add_sample(time, MetricValue::count(1), pid, tid, static_cast<std::uint16_t>(cpu),
                     m.sample_kind(label), 0, {}, record);
      });
      return ok_status();
    });
  }

  // ---- processes that already run, then go
  Status env = st.session->capture_environment();
  if (!env.ok()) st.note("could not read every running process: " + env.to_string());
  st.machine.write([&](ExportMachine& m) {
    m.metadata().start_time = clock_ns(CLOCK_MONOTONIC);
    m.metadata().start_unix_ns = clock_ns(CLOCK_REALTIME);
  });
  st.resolver = std::make_unique<LinuxSymbolResolver>();
  return st.session->enable();
}

Status LinuxExportSession::parse_until(const std::function<bool()>& should_stop) {
  if (!state_->session) return error(ErrorCode::kInvalidArgument, "session not started");
  return state_->session->parse_until(should_stop);
}

Status LinuxExportSession::stop() {
  State& st = *state_;
  if (!st.session) return error(ErrorCode::kInvalidArgument, "session not started");
  if (st.stopped) return ok_status();
  st.stopped = true;
  Status status = st.session->stop();
  PerfSessionStats stats = st.session->stats();
  std::uint64_t ours = stats.dropped_samples;
  st.machine.write([&](ExportMachine& m) {
    if (ours != 0) m.add_lost(kCpuKind, ours);
    m.metadata().end_time = clock_ns(CLOCK_MONOTONIC);
  });
  st.lost.fetch_add(ours, std::memory_order_relaxed);
  if (stats.cut_stacks != 0) {
    st.note(std::to_string(stats.cut_stacks) +
            " samples kept without their stack copy to avoid losing them (reader buffer full)");
  }
  if (stats.parse.malformed != 0) {
    st.note(std::to_string(stats.parse.malformed) + " malformed records skipped");
  }
  if (st.unopened_files != 0) {
    st.note(std::to_string(st.unopened_files) +
            " mapped files could not be opened (last: " + st.last_file_error + ")");
  }
  if (!st.session->errors().empty()) {
    st.note("errors raised while processing events:\n" + st.session->errors().to_string());
  }
  return status;
}

}  // namespace one_collect
