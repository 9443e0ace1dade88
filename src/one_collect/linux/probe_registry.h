// Dynamic probes (uprobes, uretprobes, kprobes) registered through tracefs.
//
// A ProbeRegistry adds probes to tracefs `uprobe_events` under a group named
// `one_collect_<our pid>`, returns each probe's TracepointFormat (id + payload
// layout) so a perf session opens it as PERF_TYPE_TRACEPOINT, and removes
// every probe it added when it is destroyed or cleanup() is called.
//
// Probes outlive the process that created them. Creating a registry first
// removes stale probes left by a killed run: groups `one_collect_<pid>`
// whose pid no longer runs.
//
// Ctrl-C: the kernel refuses to remove a probe while a perf event still
// holds it open (EBUSY), so removal cannot happen inside a signal handler
// while the session runs. The recorder's signal handler only asks the
// session to stop; the session closes its perf fds and then the registry's
// destructor (or cleanup()) removes the probes. For paths that end the
// process without running destructors (exit() from a handler, fatal
// signals), remove_registered_probes_signal_safe() uses only open/write/
// close on pre-formatted commands, and is registered with atexit(); a probe
// it cannot remove is cleaned up by the next run's stale-probe pass.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/linux/tracefs.h"

namespace one_collect {

struct UprobeSpec {
  std::string binary;  // absolute path of the ELF file (no spaces)
  std::string symbol;  // function name, resolved through the ELF symbol table
  std::optional<std::uint64_t>
      offset;              // or a file offset (used when set; added to symbol's if both)
  bool is_return = false;  // uretprobe
  std::string fetch_args;  // optional, e.g. "size=%di:u64"
  std::string event_name;  // optional; default derived from the symbol
};

struct KprobeSpec {
  std::string symbol;  // kernel function
  std::uint64_t offset = 0;
  bool is_return = false;
  std::string fetch_args;
  std::string event_name;
};

// The group name probes of process `pid` use: "one_collect_<pid>".
std::string probe_group_for_pid(int pid);
inline constexpr std::string_view kProbeGroupPrefix = "one_collect_";

// File offset of the function `symbol` in the ELF file `binary` (from
// .symtab, else .dynsym): the symbol's address translated through the PT_LOAD
// segment that contains it. This is what uprobe_events wants.
Result<std::uint64_t> resolve_symbol_file_offset(const std::string& binary,
                                                 std::string_view symbol);

// Removes probes of our prefix whose owning pid no longer runs, from
// uprobe_events (and kprobe_events when present). Returns the removed
// "group/event" names.
Result<std::vector<std::string>> remove_stale_probes(const Tracefs& tracefs);

// Pre-formatted removal of every probe any live registry of this process has
// added: only open/write/close, no allocation, so it may run in a signal
// handler or an atexit hook. Probes still held open by perf fds stay (EBUSY).
void remove_registered_probes_signal_safe();

class ProbeRegistry {
 public:
  // Removes stale probes of killed runs, then returns an empty registry.
  static Result<ProbeRegistry> create(Tracefs tracefs);

  ProbeRegistry(ProbeRegistry&& other) noexcept;
  ProbeRegistry& operator=(ProbeRegistry&& other) noexcept;
  ProbeRegistry(const ProbeRegistry&) = delete;
  ProbeRegistry& operator=(const ProbeRegistry&) = delete;
  ~ProbeRegistry();  // cleanup(), errors ignored

  const std::string& group() const { return group_; }
  const Tracefs& tracefs() const { return tracefs_; }

  // Adds a uprobe or uretprobe and returns its tracepoint (group(), event).
  Result<TracepointFormat> add_uprobe(const UprobeSpec& spec);
  // kprobes: kUnsupported when the kernel has no kprobe_events (no
  // CONFIG_KPROBES), as on our development machines.
  Result<TracepointFormat> add_kprobe(const KprobeSpec& spec);

  // "group/event" of every probe added and not yet removed.
  const std::vector<std::string>& registered() const { return registered_; }

  // Removes every probe this registry added. Call after the perf fds on them
  // are closed. Probes that could not be removed stay listed; the error names
  // them.
  Status cleanup();

 private:
  ProbeRegistry(Tracefs tracefs, std::string group)
      : tracefs_(std::move(tracefs)), group_(std::move(group)) {}
  Result<TracepointFormat> add_probe(std::string_view control_file, char kind,
                                     const std::string& event, const std::string& location,
                                     const std::string& fetch_args);

  Tracefs tracefs_;
  std::string group_;
  struct Entry {
    std::string control_file;  // "uprobe_events" or "kprobe_events"
    std::string event;
    int signal_slot;  // index in the signal-safe table, or -1
  };
  std::vector<Entry> entries_;
  std::vector<std::string> registered_;
  bool moved_from_ = false;
};

}  // namespace one_collect
