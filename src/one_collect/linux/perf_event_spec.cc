#include "one_collect/linux/perf_event_spec.h"

#include <asm/perf_regs.h>
#include <sys/stat.h>

#include <fstream>

#include "one_collect/core/strings.h"

namespace one_collect {
namespace {

Result<std::uint32_t> read_pmu_type(const std::string& pmu) {
  std::ifstream in("/sys/bus/event_source/devices/" + pmu + "/type");
  std::uint32_t type = 0;
  if (!(in >> type)) {
    return error(ErrorCode::kUnsupported, "this kernel has no '" + pmu +
                                              "' PMU (/sys/bus/event_source/devices/" + pmu +
                                              " is missing)");
  }
  return type;
}

}  // namespace

std::uint64_t default_user_regs_mask() {
#if defined(__x86_64__)
  return ((std::uint64_t{1} << PERF_REG_X86_64_MAX) - 1) &
         ~((std::uint64_t{1} << PERF_REG_X86_DS) | (std::uint64_t{1} << PERF_REG_X86_ES) |
           (std::uint64_t{1} << PERF_REG_X86_FS) | (std::uint64_t{1} << PERF_REG_X86_GS));
#elif defined(__aarch64__)
  return (std::uint64_t{1} << PERF_REG_ARM64_MAX) - 1;
#else
  return 0;
#endif
}

PerfEventSpec cpu_clock_spec(std::uint64_t frequency, std::uint64_t period_ns) {
  PerfEventSpec s;
  s.name = "cpu-clock";
  s.type = PERF_TYPE_SOFTWARE;
  s.config = PERF_COUNT_SW_CPU_CLOCK;
  if (period_ns != 0) {
    s.period = period_ns;
  } else {
    s.frequency = frequency == 0 ? 1000 : frequency;
  }
  return s;
}

PerfEventSpec context_switch_spec() {
  PerfEventSpec s;
  s.name = "context-switches";
  s.type = PERF_TYPE_SOFTWARE;
  s.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
  s.period = 1;
  return s;
}

PerfEventSpec tracepoint_spec(std::string name, std::uint32_t id) {
  PerfEventSpec s;
  s.name = std::move(name);
  s.type = PERF_TYPE_TRACEPOINT;
  s.config = id;
  s.period = 1;
  s.raw_payload = true;
  s.stacks = StackOptions{};
  return s;
}

Result<PerfEventSpec> raw_event_spec(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return error(ErrorCode::kInvalidArgument,
                 "raw event '" + std::string(text) + "' is not 'type:config'");
  }
  auto type = parse_number(text.substr(0, colon));
  auto config = parse_number(text.substr(colon + 1));
  if (!type || !config || *type > 0xFFFFFFFFu) {
    return error(ErrorCode::kInvalidArgument,
                 "raw event '" + std::string(text) +
                     "': type and config must be numbers (decimal or 0x hex)");
  }
  PerfEventSpec s;
  s.name = std::string(text);
  s.type = static_cast<std::uint32_t>(*type);
  s.config = *config;
  s.period = 1;
  return s;
}

Result<PerfEventSpec> perf_event_by_name(std::string_view name) {
  struct Named {
    std::string_view name;
    std::uint32_t type;
    std::uint64_t config;
  };
  static constexpr Named kNames[] = {
      {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
      {"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
      {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
      {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
      {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
      {"branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
      {"branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
      {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
      {"bus-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES},
      {"stalled-cycles-frontend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
      {"stalled-cycles-backend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
      {"ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES},
      {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
      {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
      {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
      {"faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
      {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
      {"cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
      {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
      {"migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
      {"minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
      {"major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
      {"alignment-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_ALIGNMENT_FAULTS},
      {"emulation-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_EMULATION_FAULTS},
      {"dummy", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_DUMMY},
  };
  if (name == "cpu") {
    PerfEventSpec s;
    s.name = "cpu";
    s.type = PERF_TYPE_HARDWARE;
    s.config = PERF_COUNT_HW_CPU_CYCLES;
    s.fallback_to_cpu_clock = true;
    return s;
  }
  for (const Named& n : kNames) {
    if (n.name == name) {
      PerfEventSpec s;
      s.name = std::string(name);
      s.type = n.type;
      s.config = n.config;
      return s;
    }
  }
  auto colon = name.find(':');
  if (colon != std::string_view::npos && parse_number(name.substr(0, colon))) {
    return raw_event_spec(name);
  }
  return error(ErrorCode::kNotFound,
               "unknown event name '" + std::string(name) +
                   "' (known: cycles, instructions, cache-misses, branches, branch-misses, "
                   "cpu-clock, task-clock, page-faults, context-switches, cpu-migrations, "
                   "dummy, cpu, or raw 'type:config')");
}

Result<PerfEventSpec> uprobe_pmu_spec(std::string path, std::uint64_t file_offset, bool is_return) {
  OC_ASSIGN_OR_RETURN(std::uint32_t type, read_pmu_type("uprobe"));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return error(ErrorCode::kNotFound, "uprobe target '" + path + "' does not exist");
  }
  PerfEventSpec s;
  s.name = (is_return ? "uretprobe:" : "uprobe:") + path + "+" + std::to_string(file_offset);
  s.type = type;
  s.config = is_return ? 1 : 0;  // format/retprobe: config:0
  s.config2 = file_offset;       // probe_offset
  s.probe_path = std::move(path);
  s.period = 1;
  s.stacks = StackOptions{};
  return s;
}

Result<PerfEventSpec> kprobe_spec(std::string_view symbol, bool is_return) {
  auto type = read_pmu_type("kprobe");
  if (!type.ok()) {
    return error(ErrorCode::kUnsupported,
                 "kprobes are not available: this kernel has no kprobe PMU and no "
                 "kprobe_events (built without CONFIG_KPROBES); cannot probe '" +
                     std::string(symbol) + "'");
  }
  PerfEventSpec s;
  s.name = (is_return ? "kretprobe:" : "kprobe:") + std::string(symbol);
  s.type = *type;
  s.config = is_return ? 1 : 0;
  s.probe_path = std::string(symbol);  // config1 = kprobe_func
  s.period = 1;
  s.stacks = StackOptions{};
  return s;
}

}  // namespace one_collect
