#include "tools/record_trace/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/record_trace/exit_codes.h"
#include "tools/record_trace/help.h"

namespace one_collect::record_trace {
namespace {

using ::testing::HasSubstr;

Result<RecordOptions> parse(std::vector<std::string> args) { return parse_command_line(args); }

std::vector<std::string_view> names(const std::vector<const OutputFormat*>& formats) {
  std::vector<std::string_view> out;
  for (const OutputFormat* f : formats) out.push_back(f->name);
  return out;
}

// The lines of `section` ("FORMATS") up to the next section heading.
std::vector<std::string> section_lines(const std::string& help, const std::string& section) {
  std::vector<std::string> lines;
  std::size_t start = help.find("\n" + section + "\n");
  if (start == std::string::npos) return lines;
  start += section.size() + 2;
  while (start < help.size()) {
    std::size_t end = help.find('\n', start);
    if (end == std::string::npos) end = help.size();
    std::string line = help.substr(start, end - start);
    if (!line.empty() && line[0] != ' ') break;  // the next heading
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

TEST(RecordTraceOptions, DefaultsSampleCpuWithDwarfAtOneKilohertzIntoNettrace) {
  Result<RecordOptions> o = parse({});
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_TRUE(o->cpu_sampling());
  EXPECT_FALSE(o->off_cpu);
  EXPECT_EQ(o->frequency_hz, 1000u);
  EXPECT_EQ(o->callstacks, CallstackMode::kDwarf);
  EXPECT_EQ(o->stack_size, 16384u);
  EXPECT_FALSE(o->duration_s.has_value());
  EXPECT_EQ(names(o->effective_formats()), std::vector<std::string_view>{"nettrace"});
  EXPECT_TRUE(o->command.empty());
}

TEST(RecordTraceOptions, EveryOptionInLongShortAndInlineForms) {
  Result<RecordOptions> o = parse({"--on-cpu",
                                   "--off-cpu",
                                   "--pid",
                                   "12",
                                   "-p",
                                   "13,14",
                                   "--pid=12",
                                   "--format",
                                   "pprof,speedscope",
                                   "-f",
                                   "folded",
                                   "--format=chrome,pprof",
                                   "--out=/tmp/x",
                                   "-F4000",
                                   "--callstacks",
                                   "fp",
                                   "--stack-size",
                                   "8K",
                                   "-d",
                                   "2.5",
                                   "--buffer-size",
                                   "4M",
                                   "-e",
                                   "sched:sched_switch",
                                   "--event",
                                   "irq/irq_handler_entry",
                                   "--live",
                                   "-q"});
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_TRUE(o->on_cpu);
  EXPECT_TRUE(o->off_cpu);
  EXPECT_EQ(o->pids, (std::vector<std::uint32_t>{12, 13, 14}));
  EXPECT_EQ(names(o->formats),
            (std::vector<std::string_view>{"pprof", "speedscope", "folded", "chrome"}));
  EXPECT_EQ(o->out, "/tmp/x");
  EXPECT_EQ(o->frequency_hz, 4000u);
  EXPECT_EQ(o->callstacks, CallstackMode::kFramePointer);
  EXPECT_EQ(o->stack_size, 8192u);
  ASSERT_TRUE(o->duration_s.has_value());
  EXPECT_DOUBLE_EQ(*o->duration_s, 2.5);
  EXPECT_EQ(o->buffer_bytes, 4u << 20);
  ASSERT_EQ(o->events.size(), 2u);
  EXPECT_EQ(o->events[0].system, "sched");
  EXPECT_EQ(o->events[0].name, "sched_switch");
  EXPECT_EQ(o->events[1].system, "irq");
  EXPECT_EQ(o->events[1].name, "irq_handler_entry");
  EXPECT_TRUE(o->live);
  EXPECT_TRUE(o->quiet);
}

TEST(RecordTraceOptions, OffCpuOrEventsAloneTurnCpuSamplingOff) {
  EXPECT_FALSE(parse({"--off-cpu"})->cpu_sampling());
  EXPECT_FALSE(parse({"--event", "sched:sched_switch"})->cpu_sampling());
  EXPECT_TRUE(parse({"--off-cpu", "--on-cpu"})->cpu_sampling());
}

TEST(RecordTraceOptions, CommandAfterDoubleDashOrFirstWordKeepsItsOwnOptions) {
  Result<RecordOptions> o = parse({"-d", "1", "--", "ls", "-l", "--format", "x"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->command, (std::vector<std::string>{"ls", "-l", "--format", "x"}));
  o = parse({"--on-cpu", "sleep", "1", "--pid", "3"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->command, (std::vector<std::string>{"sleep", "1", "--pid", "3"}));
  EXPECT_TRUE(o->pids.empty());
}

struct BadCase {
  std::vector<std::string> args;
  std::string message;
};

TEST(RecordTraceOptions, BadArgumentsAreUsageErrorsNamingTheProblem) {
  const BadCase cases[] = {
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"-Z"}, "unknown option '-Z'"},
      {{"--format", "svg"}, "unknown format 'svg' (known: nettrace, perfview-xml, pprof"},
      {{"--format", ","}, "--format: expects"},
      {{"--frequency", "fast"}, "--frequency: 'fast' is not a whole number"},
      {{"--frequency", "0"}, "out of range (1 to 100000)"},
      {{"--frequency", "200000"}, "out of range"},
      {{"--frequency", "99999999999999999999999"}, "too large"},
      {{"--frequency"}, "--frequency: missing HZ"},
      {{"--pid", "abc"}, "--pid: 'abc' is not a process id"},
      {{"--pid", "0"}, "is not a process id"},
      {{"--pid", "-5"}, "is not a process id"},
      {{"--callstacks", "lbr"}, "unknown mode 'lbr' (use dwarf, fp or none)"},
      {{"--stack-size", "100"}, "not a multiple of 8"},
      {{"--stack-size", "128K"}, "not a multiple of 8 between 8 and 65528"},
      {{"--stack-size", "lots"}, "is not a size"},
      {{"--duration", "-1"}, "is not a number of seconds"},
      {{"--duration", "0"}, "not a positive number of seconds"},
      {{"--duration", "1.2.3"}, "is not a number of seconds"},
      {{"--buffer-size", "1"}, "out of range (4K to 1G"},
      {{"--buffer-size", "12Q"}, "is not a size"},
      {{"--event", "sched"}, "is not SYSTEM:NAME"},
      {{"--event", "sched:"}, "is not SYSTEM:NAME"},
      {{"--event", "a b:c"}, "is not SYSTEM:NAME"},
      {{"--out", "a", "--out", "b"}, "--out given twice"},
      {{"--live=yes"}, "--live takes no value"},
      {{"--"}, "'--' must be followed by a command"},
      {{"--pid", "5", "--", "ls"}, "--pid and a command do not mix"},
  };
  for (const BadCase& c : cases) {
    Result<RecordOptions> o = parse(c.args);
    ASSERT_FALSE(o.ok()) << c.args[0];
    EXPECT_EQ(o.status().code(), ErrorCode::kInvalidArgument) << c.args[0];
    EXPECT_THAT(o.status().message(), HasSubstr(c.message)) << c.args[0];
    EXPECT_EQ(exit_code_for(o.status()), kExitUsage);
  }
}

TEST(RecordTraceOptions, ScriptingIsReportedAsNotAvailableYet) {
  for (auto args : {std::vector<std::string>{"--script", "print(1)"},
                    std::vector<std::string>{"--script-file", "x.py", "--on-cpu"}}) {
    Result<RecordOptions> o = parse(args);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), ErrorCode::kUnsupported);
    EXPECT_THAT(o.status().message(), HasSubstr("scripting is not available yet"));
    EXPECT_EQ(exit_code_for(o.status()), kExitUnsupported);
  }
  // A usage error elsewhere is reported first.
  EXPECT_EQ(parse({"--script", "x", "--bogus"}).status().code(), ErrorCode::kInvalidArgument);
}

TEST(RecordTraceOptions, HelpWinsOverOtherChecks) {
  Result<RecordOptions> o = parse({"--script", "x", "--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
}

TEST(RecordTraceOptions, ValueParsers) {
  EXPECT_EQ(*parse_bytes("4096"), 4096u);
  EXPECT_EQ(*parse_bytes("64k"), 65536u);
  EXPECT_EQ(*parse_bytes("64KiB"), 65536u);
  EXPECT_EQ(*parse_bytes("2MB"), 2u << 20);
  EXPECT_EQ(*parse_bytes("1G"), 1u << 30);
  EXPECT_FALSE(parse_bytes("").ok());
  EXPECT_FALSE(parse_bytes("K").ok());
  EXPECT_FALSE(parse_bytes("1iB").ok());
  EXPECT_FALSE(parse_bytes("99999999999999999999G").ok());
  EXPECT_FALSE(parse_bytes("20000000000G").ok());
  EXPECT_DOUBLE_EQ(*parse_seconds("10"), 10);
  EXPECT_DOUBLE_EQ(*parse_seconds("2.5s"), 2.5);
  EXPECT_DOUBLE_EQ(*parse_seconds("500ms"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_seconds("2m"), 120);
  EXPECT_FALSE(parse_seconds(".").ok());
  EXPECT_FALSE(parse_seconds("1e3").ok());
  EXPECT_FALSE(parse_unsigned("").ok());
  EXPECT_FALSE(parse_unsigned("+1").ok());
}

// --format takes exactly the format registry's names: each alone, all
// together in registry order, and nothing else (deprecated aliases aside).
TEST(RecordTraceOptions, FormatTakesTheRegistrysNames) {
  std::string all;
  std::vector<std::string_view> expected;
  for (const OutputFormat& f : output_formats()) {
    Result<RecordOptions> o = parse({"--format", std::string(f.name)});
    ASSERT_TRUE(o.ok()) << f.name << ": " << o.status().to_string();
    EXPECT_EQ(o->formats, std::vector<const OutputFormat*>{&f});
    EXPECT_FALSE(parse({"--format", std::string(f.name) + "x"}).ok()) << f.name;
    all += (all.empty() ? "" : ",") + std::string(f.name);
    expected.push_back(f.name);
  }
  Result<RecordOptions> o = parse({"-f", all});
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(names(o->formats), expected);
  EXPECT_THAT(parse({"-f", "svg"}).status().message(),
              HasSubstr("(known: " + output_format_names() + ")"));
  EXPECT_EQ(names(parse({"-f", "perfview,perfetto"})->formats),
            (std::vector<std::string_view>{"perfview-xml", "chrome"}));
}

// FORMATS in --help is the registry: every name with its files and
// description, and no name the registry does not hold.
TEST(RecordTraceHelp, FormatsSectionListsExactlyTheRegistry) {
  std::string help = help_text(80);
  std::vector<std::string> listed;
  std::string body;
  for (const std::string& line : section_lines(help, "FORMATS")) {
    if (line.empty()) continue;
    std::size_t indent = line.find_first_not_of(' ');
    if (indent == 7) {
      listed.push_back(line.substr(7, line.find(' ', 7) - 7));
    } else {
      EXPECT_EQ(indent, 11u) << line;
      body += line.substr(indent) + " ";
    }
  }
  std::vector<std::string> registered;
  for (const OutputFormat& f : output_formats()) {
    registered.emplace_back(f.name);
    EXPECT_THAT(help, HasSubstr("       " + std::string(f.name) + " (" +
                                output_file_pattern(f, "trace") + ")\n"));
    EXPECT_THAT(body, HasSubstr(std::string(f.description))) << f.name;
  }
  EXPECT_EQ(listed, registered);
  // The --format option's documented default is the registry's.
  for (const OptionSpec& spec : option_table()) {
    if (spec.name == "format") {
      EXPECT_EQ(spec.default_text, default_output_format().name);
    }
  }
}

TEST(RecordTraceHelp, ReadsLikeAManPageAndListsEveryOptionAndExitCode) {
  std::string help = help_text(80);
  for (const char* section : {"NAME\n", "SYNOPSIS\n", "DESCRIPTION\n", "OPTIONS\n", "FORMATS\n",
                              "EXAMPLES\n", "EXIT STATUS\n", "FILES\n"}) {
    EXPECT_THAT(help, HasSubstr(section));
  }
  for (const OptionSpec& spec : option_table()) {
    EXPECT_THAT(help, HasSubstr("--" + std::string(spec.name))) << spec.name;
    EXPECT_FALSE(spec.help.empty()) << spec.name;
  }
  for (const ExitCodeDoc& doc : exit_code_docs()) {
    EXPECT_THAT(help, HasSubstr("       " + std::to_string(doc.code) + "\n"));
  }
  EXPECT_THAT(help, HasSubstr("kernel.perf_event_paranoid"));
  EXPECT_THAT(help, HasSubstr("CAP_PERFMON"));
  // Wrapped: no line wider than asked.
  std::size_t start = 0;
  while (start < help.size()) {
    std::size_t end = help.find('\n', start);
    std::string line = help.substr(start, end - start);
    // A single word longer than the width may overflow; no line has two such.
    if (line.size() > 80) {
      EXPECT_EQ(line.find(' ', line.find_first_not_of(' ')), std::string::npos) << line;
    }
    start = end + 1;
  }
}

}  // namespace
}  // namespace one_collect::record_trace
