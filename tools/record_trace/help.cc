#include "tools/record_trace/help.h"

#include <string_view>
#include <vector>

#include "one_collect/formats/format_registry.h"
#include "tools/record_trace/exit_codes.h"
#include "tools/record_trace/options.h"

namespace one_collect::record_trace {

namespace {

// Appends `text` wrapped at `width`, every line indented by `indent`.
void wrap(std::string& out, std::string_view text, std::size_t indent, std::size_t width) {
  std::size_t col = 0;
  while (!text.empty()) {
    std::size_t space = text.find(' ');
    std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (word.empty()) continue;
    if (col == 0) {
      out.append(indent, ' ');
      col = indent;
    } else if (col + 1 + word.size() > width) {
      out += '\n';
      out.append(indent, ' ');
      col = indent;
    } else {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
  }
  out += '\n';
}

constexpr std::string_view kDescription[] = {
    "record-trace records what a machine, some processes or one command do, using Linux "
    "perf_events, and writes the result in the formats people already open: PerfView "
    "(nettrace, PerfView XML), pprof, speedscope, flame-graph folded stacks and Chrome/Perfetto "
    "traces. Stacks are unwound while recording (DWARF call frame information, so programs "
    "built without frame pointers get full stacks) and symbols are resolved once at the end, "
    "in process: there is no separate report step.",
    "By default it samples on-CPU time at 1000 Hz with DWARF callstacks across the whole "
    "machine and writes trace.nettrace into the current directory. With a command after --, "
    "it launches the command, records it and its children until it exits, and exits with the "
    "command's exit status. Otherwise it records until --duration passes or Ctrl-C (or "
    "SIGTERM or SIGHUP): these stop cleanly and still write every file; a second Ctrl-C "
    "aborts without writing. An output that cannot be written is reported before recording "
    "starts.",
    "While recording, a status line on standard error (when it is a terminal) shows the "
    "elapsed time, samples, lost samples and processes seen. At the end a summary lists the "
    "samples, losses, duration and files written with their sizes, then the ten hottest "
    "functions by self and by total (inclusive) share, like a compact perf report.",
    "Needs root, CAP_PERFMON (Linux 5.8 and later) or CAP_SYS_ADMIN, or a permissive "
    "kernel.perf_event_paranoid sysctl; --event also needs tracefs, which record-trace mounts "
    "at /sys/kernel/tracing when it is missing.",
};

struct Example {
  std::string_view command;
  std::string_view what;
};
constexpr Example kExamples[] = {
    {"record-trace --duration 10",
     "Sample the whole machine for 10 s; write ./trace.nettrace and print the hottest "
     "functions."},
    {"record-trace --format pprof,speedscope --out /tmp/prof -- ./my_server --port 8080",
     "Launch a command, record it until it exits, write /tmp/prof/trace.pb.gz and "
     "trace.speedscope.json (when /tmp/prof is a directory), exit with its status."},
    {"record-trace --pid 1234 --pid 1240 --on-cpu --off-cpu --format perfview-xml --out out/",
     "Record two running processes, CPU and blocked time, as PerfView XML stack files."},
    {"record-trace -F 4000 --callstacks fp --format folded -o cpu.folded -d 5",
     "5 s at 4 kHz with frame-pointer stacks into cpu.folded (flamegraph.pl cpu.folded > "
     "cpu.svg)."},
    {"record-trace --event sched:sched_process_exec --live -d 30",
     "Print every sample and every exec as it happens for 30 s."},
};

}  // namespace

std::string help_text(std::size_t width) {
  std::string out;
  out += "NAME\n";
  wrap(out,
       "record-trace - record CPU, off-CPU and tracepoint profiles with perf_events and "
       "export them to PerfView, pprof, speedscope, flame graphs and Perfetto",
       7, width);
  out += "\nSYNOPSIS\n";
  wrap(out, "record-trace [OPTIONS] [--duration SECONDS]", 7, width);
  wrap(out, "record-trace [OPTIONS] --pid PID [--pid PID ...]", 7, width);
  wrap(out, "record-trace [OPTIONS] -- COMMAND [ARGS...]", 7, width);
  out += "\nDESCRIPTION\n";
  bool first = true;
  for (std::string_view paragraph : kDescription) {
    if (!first) out += '\n';
    first = false;
    wrap(out, paragraph, 7, width);
  }
  out += "\nOPTIONS\n";
  for (const OptionSpec& spec : option_table()) {
    std::string head;
    if (spec.short_name != 0) {
      head += "-";
      head += spec.short_name;
      head += ", ";
    }
    head += "--";
    head += spec.name;
    if (spec.kind != ValueKind::kFlag) {
      head += " ";
      head += spec.value_name;
    }
    if (spec.repeatable) head += "  (repeatable)";
    wrap(out, head, 7, width);
    std::string body(spec.help);
    if (!spec.default_text.empty()) {
      body += " Default: ";
      body += spec.default_text;
      body += ".";
    }
    wrap(out, body, 11, width);
    out += '\n';
  }
  wrap(out, "-- COMMAND [ARGS...]", 7, width);
  wrap(out,
       "Launch COMMAND and record it (and the children it starts) until it exits; "
       "record-trace then exits with the command's exit status (128+N when a signal N "
       "killed it). The first argument that is not an option also starts the command.",
       11, width);
  // Generated from the format registry: exactly the names --format accepts.
  out += "\nFORMATS\n";
  for (const OutputFormat& f : output_formats()) {
    wrap(out, std::string(f.name) + " (" + output_file_pattern(f, "trace") + ")", 7, width);
    std::string body(f.description);
    if (&f == &default_output_format()) body += " The default.";
    wrap(out, body, 11, width);
  }
  out += "\nEXAMPLES\n";
  for (const Example& e : kExamples) {
    wrap(out, e.command, 7, width);
    wrap(out, e.what, 11, width);
    out += '\n';
  }
  out += "EXIT STATUS\n";
  for (const ExitCodeDoc& doc : exit_code_docs()) {
    std::string line = std::to_string(doc.code);
    wrap(out, line, 7, width);
    wrap(out, doc.meaning, 11, width);
  }
  wrap(out, "With -- COMMAND, a successful recording exits with the command's own status.", 7,
       width);
  out += "\nFILES\n";
  struct FileDoc {
    std::string_view name;
    std::string_view what;
  };
  constexpr FileDoc kFiles[] = {
      {"/proc/sys/kernel/perf_event_paranoid",
       "who may use perf_events; 'sysctl kernel.perf_event_paranoid=1' allows unprivileged "
       "per-process recording, -1 everything."},
      {"/sys/kernel/tracing", "tracefs: the tracepoints --event can name (available_events)."},
  };
  // The files of each format are listed under FORMATS.
  std::vector<std::string_view> per_kind;
  for (const OutputFormat& f : output_formats()) {
    if (f.files == FormatFiles::kPerKind) per_kind.push_back(f.name);
  }
  std::string kinds_note;
  for (std::size_t i = 0; i < per_kind.size(); ++i) {
    if (i != 0) kinds_note += i + 1 == per_kind.size() ? " and " : ", ";
    kinds_note += per_kind[i];
  }
  kinds_note +=
      " files hold one sample kind each: with both --on-cpu and --off-cpu, the off-CPU profile "
      "goes to a second file with this name.";
  wrap(out, "trace.off_cpu.<ext>", 7, width);
  wrap(out, kinds_note, 11, width);
  for (const FileDoc& f : kFiles) {
    wrap(out, f.name, 7, width);
    wrap(out, f.what, 11, width);
  }
  return out;
}

std::string usage_hint() { return "Try 'record-trace --help' for the options.\n"; }

std::string version_text() { return "record-trace (one_collect) 0.1.0\n"; }

}  // namespace one_collect::record_trace
