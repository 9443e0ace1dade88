#include "tools/record_trace/recorder.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "one_collect/export/universal_exporter.h"
#include "one_collect/export_linux/linux_export_session.h"
#include "tools/record_trace/exit_codes.h"
#include "tools/record_trace/help.h"
#include "tools/record_trace/options.h"
#include "tools/record_trace/outputs.h"
#include "tools/record_trace/preflight.h"
#include "tools/record_trace/summary.h"

namespace one_collect::record_trace {

namespace {

using Clock = std::chrono::steady_clock;

// Set up before the handlers are installed; the handler only loads it
// (lock-free) and calls the session's signal-safe request_stop().
std::atomic<LinuxExportSession*> g_session{nullptr};
volatile std::sig_atomic_t g_signals = 0;

extern "C" void on_stop_signal(int) {
  if (g_signals != 0) {
    static const char kMsg[] = "\nrecord-trace: aborted (second interrupt); nothing written\n";
    ssize_t ignored = ::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    ::_exit(kExitAborted);
  }
  g_signals = 1;
  if (LinuxExportSession* s = g_session.load(std::memory_order_relaxed)) s->request_stop();
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  // A closed pipe on stdout (e.g. --live | head) must not kill us before export.
  std::signal(SIGPIPE, SIG_IGN);
}

void print_error(std::string_view message) {
  std::fprintf(stderr, "record-trace: %.*s\n", static_cast<int>(message.size()), message.data());
}

std::size_t terminal_width() {
  struct winsize ws {};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
  return 120;
}

std::string join(std::span<const std::string> words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// Exit status for a failure, with the message and any advice printed.
int report_failure(const Status& status) {
  print_error(status.message());
  if (status.code() == ErrorCode::kPermissionDenied) print_error(permission_advice());
  return exit_code_for(status);
}

ExportSettings make_settings(const RecordOptions& o) {
  ExportSettings s;
  (void)s.set_cpu_sampling_frequency(o.frequency_hz);  // range checked by the parser
  // After the frequency, which turns sampling on: --off-cpu or --event alone
  // record no CPU samples.
  s.enable_cpu_sampling(o.cpu_sampling());
  s.set_callstack_mode(o.callstacks);
  // Reading DWARF line tables costs time and memory after collection; only
  // formats that show lines ask for it.
  bool lines = false;
  for (const OutputFormat* f : o.effective_formats()) lines = lines || f->shows_source_lines;
  s.enable_source_lines(lines);
  s.enable_context_switches(o.off_cpu);
  for (std::uint32_t pid : o.pids) s.add_target_pid(pid);
  for (const TracepointName& e : o.events) {
    ExtraEvent extra;
    extra.system = e.system;
    extra.name = e.name;
    extra.as_samples = false;
    (void)s.add_event(std::move(extra));  // names checked by the parser
  }
  s.set_output_path(o.out);
  return s;
}

}  // namespace

int run_record_trace(std::span<const std::string> args) {
  Result<RecordOptions> parsed = parse_command_line(args);
  if (!parsed.ok()) {
    print_error(parsed.status().message());
    if (parsed.status().code() == ErrorCode::kInvalidArgument) {
      std::fputs(usage_hint().c_str(), stderr);
    }
    return exit_code_for(parsed.status());
  }
  const RecordOptions& o = *parsed;
  if (o.help) {
    std::fputs(help_text(std::min<std::size_t>(terminal_width(), 100)).c_str(), stdout);
    return kExitOk;
  }
  if (o.version) {
    std::fputs(version_text().c_str(), stdout);
    return kExitOk;
  }

  // ---- checks a person can act on, before anything is opened
  Result<OutputPlan> plan = plan_outputs(o.out, o.effective_formats());
  if (!plan.ok()) {
    print_error(plan.status().message());
    return plan.status().code() == ErrorCode::kPermissionDenied ? kExitPermission : kExitUsage;
  }
  if (Status s = check_pids(o.pids); !s.ok()) {
    print_error(s.message());
    return kExitUsage;
  }
  if (!o.command.empty()) {
    CommandCheck c = check_command(o.command[0], std::getenv("PATH"));
    if (c.exit_code != 0) {
      print_error(c.message);
      return c.exit_code;
    }
  }
  if (Status s = check_events(o.events); !s.ok()) {
    print_error(s.message());  // its own advice: tracefs, not perf_event_paranoid
    return exit_code_for(s);
  }

  // ---- the session
  LinuxSessionOptions session_options;
  session_options.command = o.command;
  session_options.ring_bytes = o.buffer_bytes;
  session_options.stack_size = o.stack_size;
  // errno of the first failed write of --live output (EPIPE: the reader,
  // e.g. `head`, went away; SIGPIPE is ignored). It stops the recording.
  int live_error = 0;
  if (o.live) {
    session_options.live_output = [&live_error](std::string_view line) {
      if (live_error != 0) return;
      if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() ||
          std::fputc('\n', stdout) == EOF) {
        live_error = errno != 0 ? errno : EIO;
      }
    };
  }
  auto session_owner = std::make_unique<LinuxExportSession>(std::move(session_options));
  LinuxExportSession* session = session_owner.get();
  UniversalExporter exporter(make_settings(o), std::move(session_owner));

  const bool cpu = o.cpu_sampling();
  std::vector<WrittenFile> written;
  Clock::time_point collection_end{};
  Clock::time_point export_end{};
  std::string command_line = "record-trace " + join(args);
  // Set once the session started (a later failure is a runtime error).
  bool recording_started = false;
  exporter.add_parsed_hook([&](ExportMachine& m) {
    recording_started = true;
    m.metadata().command_line = command_line;
    return ok_status();
  });
  exporter.add_export_hook([&](const ExportMachine& m, const ExportSettings&) {
    Status s = write_outputs(m, *plan, kinds_to_export(m, cpu, o.off_cpu), written);
    export_end = Clock::now();
    return s;
  });

  g_session.store(session, std::memory_order_relaxed);
  install_signal_handlers();

  const bool status_line = !o.live && !o.quiet && ::isatty(STDERR_FILENO);
  const Clock::time_point start = Clock::now();
  // --duration counts from the first round, once the session is set up, so
  // a slow start (many processes to read) does not shorten the recording.
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point next_status = start;
  bool announced = false;
  auto should_stop = [&]() -> bool {
    Clock::time_point now = Clock::now();
    collection_end = now;
    recording_started = true;
    if (!announced) {
      announced = true;
      if (o.duration_s) {
        deadline = now + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(*o.duration_s));
      }
      if (!o.quiet) {
        std::string what = !o.command.empty() ? "'" + join(o.command) + "' until it exits"
                           : o.pids.empty()   ? std::string("the whole machine")
                                              : "pid " + std::to_string(o.pids[0]) +
                                                  (o.pids.size() > 1 ? " and others" : "");
        std::fprintf(stderr, "record-trace: recording %s%s\n", what.c_str(),
                     o.duration_s ? "" : " (Ctrl-C to stop)");
      }
    }
    if (g_signals != 0 || now >= deadline) return true;
    // Each round's lines reach the reader now, and a closed pipe is seen.
    if (o.live && live_error == 0 && std::fflush(stdout) != 0) live_error = errno ? errno : EIO;
    if (live_error != 0) return true;
    if (status_line && now >= next_status) {
      next_status = now + std::chrono::milliseconds(250);
      LinuxSessionProgress p = session->progress();
      double elapsed = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr, "\r\033[K%.1f s  %s samples  %s lost  %s processes", elapsed,
                   with_commas(p.samples).c_str(), with_commas(p.lost).c_str(),
                   with_commas(p.processes).c_str());
      std::fflush(stderr);
    }
    return false;
  };

  Status status = exporter.collect_until("record-trace", should_stop);
  g_session.store(nullptr, std::memory_order_relaxed);
  if (status_line) std::fputs("\r\033[K", stderr);
  if (g_signals != 0 && !o.quiet) std::fputs("record-trace: stopped, exporting\n", stderr);
  if (live_error == EPIPE) {
    if (!o.quiet) std::fputs("record-trace: standard output closed; stopped, exporting\n", stderr);
  } else if (live_error != 0) {
    print_error(std::string("writing --live output: ") + std::strerror(live_error) +
                "; stopped, exporting");
  }
  double wall = std::chrono::duration<double>(collection_end - start).count();

  for (const std::string& note : session->notes()) {
    if (!o.quiet) std::fprintf(stderr, "note: %s\n", note.c_str());
  }
  if (!status.ok()) {
    // Files that were written before another writer failed are still listed.
    for (const WrittenFile& f : written) {
      std::fprintf(stderr, "  wrote %s (%s)\n", f.path.c_str(), human_bytes(f.bytes).c_str());
    }
    int code = report_failure(status);
    // Once recording ran, a failure (e.g. the output directory removed
    // meanwhile) is a runtime error whatever the writer's code says.
    return recording_started ? kExitRuntime : code;
  }

  RecordingFacts facts;
  facts.wall_seconds = wall;
  facts.live_lost = session->progress().lost;
  facts.files = written;
  std::string out;
  exporter.machine().read([&](const ExportMachine& m) {
    out = format_recording_summary(m, facts);
    if (export_end > collection_end) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "post-processing (symbols and export): %.2f s\n",
                    std::chrono::duration<double>(export_end - collection_end).count());
      out += buf;
    }
    if (!o.quiet) {
      for (SampleKind kind : kinds_to_export(m, cpu, o.off_cpu)) {
        // Tracepoint records carry no stack: no functions to rank.
        std::string_view name = m.sample_kind_name(kind);
        if (name != kCpuKind && name != kOffCpuKind) continue;
        HotFunctions hot = hottest_functions(m, kind, 10);
        if (hot.samples == 0) continue;
        out += '\n';
        out += format_hot_functions(m, hot, terminal_width());
      }
    }
  });
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);

  if (live_error != 0 && live_error != EPIPE) return kExitRuntime;
  if (!o.command.empty()) {
    if (std::optional<int> code = session->command_exit_code()) return *code;
  }
  return kExitOk;
}

}  // namespace one_collect::record_trace
