#include "tools/record_trace/options.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace one_collect::record_trace {

namespace {

Status usage(std::string message) { return error(ErrorCode::kInvalidArgument, std::move(message)); }

std::string quoted(std::string_view s) {
  // Appends (not operator+): g++ 12 -O3 warns falsely (-Wrestrict) on "'" + std::string.
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out.append(s);
  out += '\'';
  return out;
}

// Splits "a,b,,c" into non-empty trimmed words.
std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view word = text.substr(0, comma);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (!word.empty()) out.push_back(word);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool valid_tracepoint_part(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

Status apply_pid(RecordOptions& o, std::string_view value) {
  for (std::string_view word : split_list(value)) {
    Result<std::uint64_t> pid = parse_unsigned(word);
    if (!pid.ok() || *pid == 0 || *pid > 0x3fffffff) {
      return usage("--pid: " + quoted(word) + " is not a process id (a positive integer)");
    }
    auto p = static_cast<std::uint32_t>(*pid);
    if (std::find(o.pids.begin(), o.pids.end(), p) == o.pids.end()) o.pids.push_back(p);
  }
  if (split_list(value).empty()) return usage("--pid: expects a process id");
  return ok_status();
}

Status apply_format(RecordOptions& o, std::string_view value) {
  auto words = split_list(value);
  if (words.empty()) return usage("--format: expects one or more of " + output_format_names());
  for (std::string_view word : words) {
    // The registry's names (and its deprecated aliases); anything else is a usage error.
    Result<const OutputFormat*> f = find_output_format(word);
    if (!f.ok()) return usage(f.status().message());
    if (std::find(o.formats.begin(), o.formats.end(), *f) == o.formats.end()) {
      o.formats.push_back(*f);
    }
  }
  return ok_status();
}

Status apply_frequency(RecordOptions& o, std::string_view value) {
  Result<std::uint64_t> hz = parse_unsigned(value);
  if (!hz.ok()) return usage("--frequency: " + hz.status().message());
  if (*hz < 1 || *hz > 100000) {
    return usage("--frequency: " + std::string(value) + " Hz is out of range (1 to 100000)");
  }
  o.frequency_hz = *hz;
  return ok_status();
}

Status apply_callstacks(RecordOptions& o, std::string_view value) {
  if (value == "dwarf") {
    o.callstacks = CallstackMode::kDwarf;
  } else if (value == "fp") {
    o.callstacks = CallstackMode::kFramePointer;
  } else if (value == "none") {
    o.callstacks = CallstackMode::kNone;
  } else {
    return usage("--callstacks: unknown mode " + quoted(value) + " (use dwarf, fp or none)");
  }
  return ok_status();
}

Status apply_stack_size(RecordOptions& o, std::string_view value) {
  Result<std::uint64_t> bytes = parse_bytes(value);
  if (!bytes.ok()) return usage("--stack-size: " + bytes.status().message());
  // The kernel takes at most 65528 bytes, in multiples of 8.
  if (*bytes < 8 || *bytes > 65528 || *bytes % 8 != 0) {
    return usage("--stack-size: " + std::string(value) +
                 " is not a multiple of 8 between 8 and 65528 bytes");
  }
  o.stack_size = static_cast<std::uint32_t>(*bytes);
  return ok_status();
}

Status apply_duration(RecordOptions& o, std::string_view value) {
  Result<double> s = parse_seconds(value);
  if (!s.ok()) return usage("--duration: " + s.status().message());
  if (!(*s > 0) || *s > 1e7) {
    return usage("--duration: " + std::string(value) + " is not a positive number of seconds");
  }
  o.duration_s = *s;
  return ok_status();
}

Status apply_buffer_size(RecordOptions& o, std::string_view value) {
  Result<std::uint64_t> bytes = parse_bytes(value);
  if (!bytes.ok()) return usage("--buffer-size: " + bytes.status().message());
  if (*bytes < 4096 || *bytes > (1ull << 30)) {
    return usage("--buffer-size: " + std::string(value) + " is out of range (4K to 1G per CPU)");
  }
  o.buffer_bytes = static_cast<std::size_t>(*bytes);
  return ok_status();
}

Status apply_event(RecordOptions& o, std::string_view value) {
  std::size_t sep = value.find_first_of(":/");
  if (sep == std::string_view::npos) {
    return usage("--event: " + quoted(value) + " is not SYSTEM:NAME (e.g. sched:sched_switch)");
  }
  std::string_view system = value.substr(0, sep);
  std::string_view name = value.substr(sep + 1);
  if (!valid_tracepoint_part(system) || !valid_tracepoint_part(name)) {
    return usage("--event: " + quoted(value) + " is not SYSTEM:NAME (e.g. sched:sched_switch)");
  }
  for (const TracepointName& e : o.events) {
    if (e.system == system && e.name == name) return ok_status();
  }
  o.events.push_back({std::string(system), std::string(name)});
  return ok_status();
}

const OptionSpec kTable[] = {
    {"on-cpu", 0, ValueKind::kFlag, "", false,
     "Sample what runs on the CPUs (cpu-clock) at --frequency, with callstacks. This is the "
     "default when neither --off-cpu nor --event is given.",
     "",
     [](RecordOptions& o, std::string_view) {
       o.on_cpu = true;
       return ok_status();
     }},
    {"off-cpu", 0, ValueKind::kFlag, "", false,
     "Record context switches: each time a thread is switched out becomes an off_cpu sample "
     "whose value is the time until it ran again, with the stack it blocked in.",
     "",
     [](RecordOptions& o, std::string_view) {
       o.off_cpu = true;
       return ok_status();
     }},
    {"pid", 'p', ValueKind::kText, "PID", true,
     "Record only this process (its threads and the children it starts). Repeat it, or give "
     "a comma-separated list, for several. Without --pid or a command, the whole machine is "
     "recorded.",
     "", &apply_pid},
    {"format", 'f', ValueKind::kList, "FORMAT[,FORMAT...]", true,
     "Output formats, several at once separated by commas: the names listed under FORMATS "
     "below.",
     "nettrace", &apply_format},
    {"out", 'o', ValueKind::kText, "PATH", false,
     "Where to write. An existing directory receives trace.<ext> files (PerfView XML: "
     "trace.<comm>.<kind>.PerfView.xml per command name). Any other path is used as given "
     "for a single format, and as a prefix (PATH.<ext>) for several; its directory must "
     "exist.",
     "the current directory",
     [](RecordOptions& o, std::string_view v) {
       o.out = std::string(v);
       return ok_status();
     }},
    {"frequency", 'F', ValueKind::kUnsigned, "HZ", false,
     "CPU samples per second, per CPU (1 to 100000).", "1000", &apply_frequency},
    {"callstacks", 'g', ValueKind::kText, "MODE", false,
     "How stacks are taken: dwarf (copy --stack-size bytes of the user stack and unwind it "
     "with the binaries' CFI right away; works without frame pointers), fp (the kernel walks "
     "frame pointers; cheapest, broken by code built without them), none (the sampled "
     "function only).",
     "dwarf", &apply_callstacks},
    {"stack-size", 0, ValueKind::kBytes, "BYTES", false,
     "User stack bytes copied per sample in dwarf mode (a multiple of 8, at most 65528; K "
     "suffix allowed). Deeper stacks need more; more costs time and buffer space.",
     "16384", &apply_stack_size},
    {"duration", 'd', ValueKind::kSeconds, "SECONDS", false,
     "Stop after this long (decimal seconds; suffixes s, ms, m). Without it, recording runs "
     "until the command exits or Ctrl-C.",
     "", &apply_duration},
    {"buffer-size", 'm', ValueKind::kBytes, "BYTES", false,
     "Kernel ring buffer per CPU (K, M, G suffixes; rounded up to a power of two pages). "
     "Raise it when the summary reports lost samples.",
     "the engine's default (1M)", &apply_buffer_size},
    {"event", 'e', ValueKind::kText, "SYSTEM:NAME", true,
     "Also record this tracepoint (see /sys/kernel/tracing/available_events); each "
     "occurrence is kept as a record with its payload. Repeatable.",
     "", &apply_event},
    {"live", 0, ValueKind::kFlag, "", false,
     "Print each sample and event on standard output as it arrives (time, cpu, command, "
     "pid/tid, kind, address; events with their fields). Turns off the status line. When "
     "the reader goes away (e.g. | head), recording stops as with Ctrl-C: the files are "
     "written and the exit status is 0.",
     "",
     [](RecordOptions& o, std::string_view) {
       o.live = true;
       return ok_status();
     }},
    {"script", 0, ValueKind::kText, "CODE", false,
     "Process events with a script. Not available yet: record-trace stops with exit status 4.", "",
     [](RecordOptions& o, std::string_view v) {
       o.script = std::string(v);
       return ok_status();
     }},
    {"script-file", 0, ValueKind::kText, "FILE", false,
     "Like --script, reading the script from FILE. Not available yet (exit status 4).", "",
     [](RecordOptions& o, std::string_view v) {
       o.script_file = std::string(v);
       return ok_status();
     }},
    {"quiet", 'q', ValueKind::kFlag, "", false,
     "No status line and no hottest-functions table; errors and the files written are still "
     "reported.",
     "",
     [](RecordOptions& o, std::string_view) {
       o.quiet = true;
       return ok_status();
     }},
    {"help", 'h', ValueKind::kFlag, "", false, "Show this manual and exit.", "",
     [](RecordOptions& o, std::string_view) {
       o.help = true;
       return ok_status();
     }},
    {"version", 0, ValueKind::kFlag, "", false, "Show the version and exit.", "",
     [](RecordOptions& o, std::string_view) {
       o.version = true;
       return ok_status();
     }},
};

const OptionSpec* find_long(std::string_view name) {
  for (const OptionSpec& spec : kTable) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec* find_short(char c) {
  for (const OptionSpec& spec : kTable) {
    if (spec.short_name != 0 && spec.short_name == c) return &spec;
  }
  return nullptr;
}

std::string display_name(const OptionSpec& spec) { return "--" + std::string(spec.name); }

// Syntax checks by kind, before the option's own apply().
Status check_value(const OptionSpec& spec, std::string_view value) {
  switch (spec.kind) {
    case ValueKind::kFlag:
      return ok_status();
    case ValueKind::kText:
    case ValueKind::kList:
      if (value.empty()) {
        return usage(display_name(spec) + ": expects " + std::string(spec.value_name));
      }
      return ok_status();
    case ValueKind::kUnsigned: {
      Result<std::uint64_t> r = parse_unsigned(value);
      return r.ok() ? ok_status() : usage(display_name(spec) + ": " + r.status().message());
    }
    case ValueKind::kBytes: {
      Result<std::uint64_t> r = parse_bytes(value);
      return r.ok() ? ok_status() : usage(display_name(spec) + ": " + r.status().message());
    }
    case ValueKind::kSeconds: {
      Result<double> r = parse_seconds(value);
      return r.ok() ? ok_status() : usage(display_name(spec) + ": " + r.status().message());
    }
  }
  return ok_status();
}

}  // namespace

std::vector<const OutputFormat*> RecordOptions::effective_formats() const {
  if (formats.empty()) return {&default_output_format()};
  return formats;
}

std::span<const OptionSpec> option_table() { return kTable; }

Result<std::uint64_t> parse_unsigned(std::string_view text) {
  if (text.empty()) return usage("expects a number");
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return usage(quoted(text) + " is not a whole number");
    if (v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) {
      return usage(quoted(text) + " is too large");
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

Result<std::uint64_t> parse_bytes(std::string_view text) {
  Status bad = usage(quoted(text) + " is not a size (e.g. 4096, 64K, 8M)");
  std::string_view digits = text;
  std::uint64_t scale = 1;
  // Accepted suffixes: K, M, G, optionally followed by B or iB (64K, 64KB, 64KiB).
  if (digits.ends_with("iB") || digits.ends_with("ib")) {
    digits.remove_suffix(2);
    if (digits.empty() ||
        std::string_view("kKmMgG").find(digits.back()) == std::string_view::npos) {
      return bad;
    }
  } else if (!digits.empty() && (digits.back() == 'B' || digits.back() == 'b')) {
    digits.remove_suffix(1);
  }
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        scale = 1ull << 10;
        break;
      case 'm':
      case 'M':
        scale = 1ull << 20;
        break;
      case 'g':
      case 'G':
        scale = 1ull << 30;
        break;
      default:
        break;
    }
    if (scale != 1) digits.remove_suffix(1);
  }
  Result<std::uint64_t> n = parse_unsigned(digits);
  if (!n.ok()) return bad;
  if (*n > std::numeric_limits<std::uint64_t>::max() / scale) {
    return usage(quoted(text) + " is too large");
  }
  return *n * scale;
}

Result<double> parse_seconds(std::string_view text) {
  std::string_view number = text;
  double scale = 1;
  if (number.ends_with("ms")) {
    scale = 1e-3;
    number.remove_suffix(2);
  } else if (number.ends_with("s")) {
    number.remove_suffix(1);
  } else if (number.ends_with("m")) {
    scale = 60;
    number.remove_suffix(1);
  }
  // Digits with at most one '.', at least one digit.
  bool dot = false;
  bool digit = false;
  for (char c : number) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      return usage(quoted(text) + " is not a number of seconds (e.g. 10, 2.5, 500ms)");
    }
  }
  if (!digit) return usage(quoted(text) + " is not a number of seconds (e.g. 10, 2.5, 500ms)");
  double v = std::strtod(std::string(number).c_str(), nullptr) * scale;
  if (!std::isfinite(v)) return usage(quoted(text) + " is too large");
  return v;
}

Result<RecordOptions> parse_command_line(std::span<const std::string> args) {
  RecordOptions o;
  std::size_t i = 0;
  auto take_value = [&](const OptionSpec& spec, std::optional<std::string_view> inline_value,
                        std::string_view spelled) -> Result<std::string_view> {
    if (spec.kind == ValueKind::kFlag) {
      if (inline_value) return usage(std::string(spelled) + " takes no value");
      return std::string_view();
    }
    if (inline_value) return *inline_value;
    if (i + 1 >= args.size()) {
      return usage(std::string(spelled) + ": missing " + std::string(spec.value_name));
    }
    return std::string_view(args[++i]);
  };
  std::vector<const OptionSpec*> seen;
  auto apply = [&](const OptionSpec& spec, std::string_view value,
                   std::string_view spelled) -> Status {
    if (!spec.repeatable && std::find(seen.begin(), seen.end(), &spec) != seen.end() &&
        spec.kind != ValueKind::kFlag) {
      return usage(std::string(spelled) + " given twice");
    }
    seen.push_back(&spec);
    OC_RETURN_IF_ERROR(check_value(spec, value));
    return spec.apply(o, value);
  };

  for (; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      if (o.command.empty()) return usage("'--' must be followed by a command to run");
      break;
    }
    if (arg.starts_with("--")) {
      std::string_view body = arg.substr(2);
      std::optional<std::string_view> inline_value;
      if (std::size_t eq = body.find('='); eq != std::string_view::npos) {
        inline_value = body.substr(eq + 1);
        body = body.substr(0, eq);
      }
      const OptionSpec* spec = find_long(body);
      if (!spec) {
        return usage("unknown option '--" + std::string(body) + "'");
      }
      std::string spelled = "--" + std::string(body);
      OC_ASSIGN_OR_RETURN(std::string_view value, take_value(*spec, inline_value, spelled));
      OC_RETURN_IF_ERROR(apply(*spec, value, spelled));
      continue;
    }
    if (arg.size() >= 2 && arg[0] == '-') {
      // One short option, its value attached (-F4000) or next.
      const OptionSpec* spec = find_short(arg[1]);
      if (!spec) return usage("unknown option " + quoted(arg));
      std::string spelled(arg.substr(0, 2));
      std::optional<std::string_view> inline_value;
      if (arg.size() > 2) {
        if (spec->kind == ValueKind::kFlag) return usage("unknown option " + quoted(arg));
        inline_value = arg.substr(2);
      }
      OC_ASSIGN_OR_RETURN(std::string_view value, take_value(*spec, inline_value, spelled));
      OC_RETURN_IF_ERROR(apply(*spec, value, spelled));
      continue;
    }
    // The first word that is not an option starts the command (as with perf record).
    o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    break;
  }

  if (o.help || o.version) return o;
  if (!o.command.empty() && !o.pids.empty()) {
    return usage(
        "--pid and a command do not mix: record either running processes or a "
        "command you launch");
  }
  if (o.script || o.script_file) {
    return error(ErrorCode::kUnsupported,
                 std::string(o.script_file ? "--script-file" : "--script") +
                     ": scripting is not available yet in this build of record-trace; record "
                     "without it and process the output files instead");
  }
  return o;
}

}  // namespace one_collect::record_trace
