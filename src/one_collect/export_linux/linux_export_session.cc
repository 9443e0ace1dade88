#include "one_collect/export_linux/linux_export_session.h"

#include <sys/utsname.h>
#include <time.h>

#include <cstdlib>

#include "one_collect/export_linux/linux_session_handlers.h"
#include "one_collect/export_linux/linux_symbol_resolver.h"
#include "one_collect/fs/find_program.h"
#include "one_collect/linux/perf_session.h"

namespace one_collect {

using linux_session::State;

namespace {

std::uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// "command not found" is an error before anything is opened rather than an
// exit code 127 afterwards.
Status check_command(const std::vector<std::string>& command) {
  return find_program(command.front(), std::getenv("PATH")).status();
}

// What the kernel must send with each sample for the settings' callstack
// mode, and how the samples are then unwound.
struct StackPlan {
  StackOptions kernel;
  unwind::CallstackOptions unwind;
};

StackPlan plan_stacks(const ExportSettings& settings, std::uint32_t stack_size) {
  StackPlan plan;
  plan.unwind.mode = settings.callstack_mode();
  switch (settings.callstack_mode()) {
    case CallstackMode::kNone:
      break;
    case CallstackMode::kFramePointer:
      plan.kernel.callchain = true;
      break;
    case CallstackMode::kDwarf:
      plan.kernel.callchain = true;
      plan.kernel.exclude_user_callchain = true;
      plan.kernel.user_regs = true;
      plan.kernel.user_stack_bytes = stack_size;
      plan.unwind.stack_size = stack_size;
      break;
  }
  return plan;
}

// Where BP, SP and IP sit in the register set the session requests.
void locate_user_regs(State& st) {
  std::uint64_t mask = default_user_regs_mask();
  auto index_of = [mask](unsigned bit) {
    return static_cast<std::size_t>(__builtin_popcountll(mask & ((std::uint64_t{1} << bit) - 1)));
  };
  st.bp_index = index_of(6);
  st.sp_index = index_of(7);
  st.ip_index = index_of(8);
}

// Opens the perf events: targets, kernel records, stacks, sampling.
Result<std::unique_ptr<PerfSession>> open_events(const ExportSettings& settings,
                                                 const LinuxSessionOptions& options,
                                                 const StackOptions& stacks) {
  RingBufSessionBuilder builder;
  if (options.ring_bytes != 0) builder.with_ring_bytes(options.ring_bytes);
  for (auto pid : settings.target_pids()) builder.with_target_pid(static_cast<pid_t>(pid));
  if (!options.command.empty()) builder.with_command(options.command);
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
  return std::move(*built);
}

// Host, kernel, CPUs, sampling rate and command line; the sample hooks.
void write_metadata(State& st, std::string_view name) {
  const ExportSettings& settings = st.settings;
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
}

// mmap2, comm, fork, exit and lost records -> process table and machine.
void register_process_handlers(State& st) {
  PerfKernelEvents& k = st.session->kernel_events();
  State* state = &st;
  k.mmap2.add_callback([state, f = linux_session::MmapFields::of(k.mmap2)](const EventData& d) {
    return linux_session::on_mmap(*state, f, d);
  });
  k.comm.add_callback([state, f = linux_session::CommFields::of(k.comm)](const EventData& d) {
    return linux_session::on_comm(*state, f, d);
  });
  k.fork.add_callback([state, f = linux_session::TaskFields::of(k.fork)](const EventData& d) {
    return linux_session::on_fork(*state, f, d);
  });
  k.exit.add_callback([state, f = linux_session::TaskFields::of(k.exit)](const EventData& d) {
    return linux_session::on_exit(*state, f, d);
  });
  k.lost.add_callback([state, f = linux_session::LostFields::of(k.lost)](const EventData& d) {
    return linux_session::on_lost(*state, f, d);
  });
  k.lost_samples.add_callback(
      [state, f = linux_session::LostFields::of(k.lost_samples)](const EventData& d) {
        return linux_session::on_lost(*state, f, d);
      });
}

// CPU samples, and with context switches the switch-out samples and the
// switch records that end off-CPU intervals.
void register_sample_handlers(State& st) {
  State* state = &st;
  if (Event* cpu_event = st.session->cpu_profile_event()) {
    cpu_event->add_callback(
        [state](const EventData& d) { return linux_session::on_cpu_sample(*state, d); });
  }
  if (Event* cs = st.session->cswitch_profile_event()) {
    cs->add_callback(
        [state](const EventData& d) { return linux_session::on_switch_out_sample(*state, d); });
    PerfKernelEvents& k = st.session->kernel_events();
    auto switch_in = [state](const EventData& d) { return linux_session::on_switch(*state, d); };
    k.switch_task.add_callback(switch_in);
    k.switch_cpu_wide.add_callback(switch_in);
  }
}

// The settings' extra tracepoints: each as samples of its own kind or as
// records of its own type.
Status register_tracepoints(State& st) {
  State* state = &st;
  for (const ExtraEvent& extra : st.settings.events()) {
    std::string full_name = extra.system + ":" + extra.name;
    auto added = st.session->add_tracepoint(full_name);
    if (!added.ok()) return std::move(added).status().with_context("event " + full_name);
    Event* event = *added;
    auto format = std::make_shared<const EventFormat>(event->format());
    linux_session::TracepointTarget target;
    target.as_samples = extra.as_samples;
    st.machine.write([&](ExportMachine& m) {
      if (extra.as_samples) {
        target.kind = m.sample_kind(extra.sample_kind.empty() ? extra.name : extra.sample_kind,
                                    MetricKind::kCount);
      } else {
        ExportRecordType type;
        type.name = m.intern(extra.system + "/" + extra.name);
        type.provider = m.intern(extra.system);
        type.event_id = static_cast<std::uint32_t>(event->id());
        type.format = format;
        target.record_type = m.record_type(type);
      }
    });
    target.writer = make_event_writer(event->format());
    target.label = full_name;
    event->add_callback([state, target = std::move(target)](const EventData& d) {
      return linux_session::on_tracepoint(*state, target, d);
    });
  }
  return ok_status();
}

// Processes that already run (a /proc rundown), the start time, then go.
Status rundown_and_enable(State& st) {
  Status env = st.session->capture_environment();
  if (!env.ok()) st.note("could not read every running process: " + env.to_string());
  st.machine.write([&](ExportMachine& m) {
    m.metadata().start_time = clock_ns(CLOCK_MONOTONIC);
    m.metadata().start_unix_ns = clock_ns(CLOCK_REALTIME);
  });
  // The resolver reads the files the process table holds open (one parse each).
  st.resolver = std::make_unique<LinuxSymbolResolver>(&st.processes);
  return st.session->enable();
}

}  // namespace

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
  st.live_output = options_.live_output;

  StackPlan stacks = plan_stacks(settings, options_.stack_size);
  OC_RETURN_IF_ERROR(unwind::validate(stacks.unwind));
  st.callstacks = std::make_unique<unwind::CallstackReader>(
      st.processes, stacks.unwind, options_.make_unwinder ? options_.make_unwinder() : nullptr);
  locate_user_regs(st);

  OC_ASSIGN_OR_RETURN(st.session, open_events(settings, options_, stacks.kernel));
  st.refs = &st.session->refs();
  for (const auto& n : st.session->notes()) st.note(n);
  write_metadata(st, name);

  register_process_handlers(st);
  register_sample_handlers(st);
  OC_RETURN_IF_ERROR(register_tracepoints(st));
  return rundown_and_enable(st);
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
