// record-trace's command line: what a run asks for, and the one table that
// declares every option.
//
// Each option is declared once (name, value kind, value name, help, default,
// how it applies); parsing, value checks and the OPTIONS section of --help all
// come from that table (the idea of simpleperf's option registry), so a new
// flag is one row.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/callstack_mode.h"
#include "one_collect/core/status.h"
#include "one_collect/formats/format_registry.h"

namespace one_collect::record_trace {

struct TracepointName {
  std::string system;
  std::string name;
};

struct RecordOptions {
  bool help = false;
  bool version = false;
  bool on_cpu = false;
  bool off_cpu = false;
  std::vector<std::uint32_t> pids;
  // Registry entries (format_registry.h), unique, in the order given.
  std::vector<const OutputFormat*> formats;
  std::string out;  // empty: the current directory
  std::uint64_t frequency_hz = 1000;
  CallstackMode callstacks = CallstackMode::kDwarf;
  std::uint32_t stack_size = 16384;
  std::optional<double> duration_s;
  std::size_t buffer_bytes = 0;  // 0: the engine's default
  std::vector<TracepointName> events;
  bool live = false;
  std::optional<std::string> script;
  std::optional<std::string> script_file;
  bool quiet = false;
  std::vector<std::string> command;

  // What actually runs: CPU sampling is on when asked for, or when nothing
  // else (off-CPU, events) was asked for.
  bool cpu_sampling() const { return on_cpu || (!off_cpu && events.empty()); }
  // The formats to write (the registry's default, nettrace, when none was given).
  std::vector<const OutputFormat*> effective_formats() const;
};

enum class ValueKind : std::uint8_t {
  kFlag,      // no value
  kText,      // any non-empty text
  kUnsigned,  // decimal integer
  kBytes,     // integer with an optional K/M/G suffix (powers of 1024)
  kSeconds,   // decimal seconds, optional s/ms/m suffix
  kList,      // comma-separated words
};

struct OptionSpec {
  std::string_view name;  // without the leading "--"
  char short_name;        // 0: none
  ValueKind kind;
  std::string_view value_name;  // "HZ", "PID", ...
  bool repeatable;
  std::string_view help;          // one paragraph; wrapped by --help
  std::string_view default_text;  // shown as "Default: ..." (empty: none)
  // Applies one (already syntax-checked) value; errors are usage errors.
  Status (*apply)(RecordOptions& options, std::string_view value);
};

// The table, in --help order.
std::span<const OptionSpec> option_table();

// Parses argv (without argv[0]). Errors name the option and the problem; the
// Status code says how to exit (kInvalidArgument: usage, kUnsupported: a
// facility that does not exist yet, e.g. scripting).
Result<RecordOptions> parse_command_line(std::span<const std::string> args);

// Value parsers shared by the table and the tests.
Result<std::uint64_t> parse_unsigned(std::string_view text);
Result<std::uint64_t> parse_bytes(std::string_view text);
Result<double> parse_seconds(std::string_view text);

}  // namespace one_collect::record_trace
