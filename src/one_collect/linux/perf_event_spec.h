// PerfEventSpec: what to open for one logical event (type, config, period
// or frequency, payload and stack options), and the ways to name one:
// hardware/software names, raw "type:config", tracepoints, uprobes through
// the uprobe PMU, kprobes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "one_collect/core/status.h"
#include "one_collect/linux/perf_event_abi.h"

namespace one_collect {

// What a sample carries for stack walking. The DWARF unwinder needs
// user_regs + user_stack_bytes; callchain is the kernel's own walk.
struct StackOptions {
  bool callchain = false;
  bool exclude_kernel_callchain = false;
  bool exclude_user_callchain = false;
  bool user_regs = false;              // PERF_SAMPLE_REGS_USER with every general register
  std::uint32_t user_stack_bytes = 0;  // PERF_SAMPLE_STACK_USER copy size (0: none; max 65528)
};

// The general registers a DWARF unwinder needs (x86-64: all but segment
// registers; aarch64: x0-x30, sp, pc).
std::uint64_t default_user_regs_mask();
inline constexpr std::uint32_t kMaxUserStackBytes = 65528;

struct PerfEventSpec {
  std::string name;
  std::uint32_t type = PERF_TYPE_SOFTWARE;
  std::uint64_t config = 0;
  std::uint64_t config1 = 0;
  std::uint64_t config2 = 0;
  std::uint64_t period = 1;     // used when frequency == 0
  std::uint64_t frequency = 0;  // samples per second (attr.freq)
  bool raw_payload = false;     // PERF_SAMPLE_RAW; the Event gets RAW as event_data
  // uprobe PMU: the path config1 must point to while the event is opened.
  std::string probe_path;
  // Stack options for this event; unset means the session's defaults for
  // sampling events (and none for tracepoints and probes).
  std::optional<StackOptions> stacks;
  // A hardware event that may fall back to cpu-clock when the machine has
  // no PMU (the "cpu" sampling name).
  bool fallback_to_cpu_clock = false;
};

// cpu-clock sampling: `frequency` Hz, or every `period_ns` nanoseconds.
PerfEventSpec cpu_clock_spec(std::uint64_t frequency, std::uint64_t period_ns = 0);
// One sample per context switch (with a stack at each switch-out).
PerfEventSpec context_switch_spec();
// A tracepoint by its tracefs id (see Tracefs::load_tracepoint for the id).
PerfEventSpec tracepoint_spec(std::string name, std::uint32_t id);

// A named hardware or software event ("cycles", "instructions",
// "cache-misses", "cpu-clock", "page-faults", ...), or "cpu" (cycles when a
// PMU exists, else cpu-clock). Raw "type:config" (decimal or 0x hex) too.
Result<PerfEventSpec> perf_event_by_name(std::string_view name);
// "type:config" with numbers, e.g. "4:0x1a" or "1:0".
Result<PerfEventSpec> raw_event_spec(std::string_view text);
// A uprobe (or uretprobe) through the kernel's uprobe PMU: no tracefs
// needed, but also no fetched arguments (use ProbeRegistry for those).
Result<PerfEventSpec> uprobe_pmu_spec(std::string path, std::uint64_t file_offset, bool is_return);
// kprobes: through the kprobe PMU when the kernel has one; a clear
// kUnsupported error when it was built without CONFIG_KPROBES.
Result<PerfEventSpec> kprobe_spec(std::string_view symbol, bool is_return);

}  // namespace one_collect
