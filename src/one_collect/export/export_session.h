// ExportSession: the OS side of a collection, behind one small interface.
//
// UniversalExporter is OS-neutral; it drives a session through these calls.
// The Linux implementation (perf_events + unwinder + symbols) plugs in here,
// a future ETW one too, and tests use a fake that feeds synthetic events.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"
#include "one_collect/export/export_settings.h"
#include "one_collect/sharing/shared.h"

namespace one_collect {

class ExportSession {
 public:
  virtual ~ExportSession() = default;

  // Opens what `settings` asks for and wires its events to write into
  // `machine` (processes, mappings, samples, off-CPU switches, records, lost
  // counts). Existing processes and their mappings are rundown here.
  // Fill machine.metadata() (host, kernel, cpu count, start times) too.
  virtual Status start(std::string_view name, const ExportSettings& settings,
                       const Writable<ExportMachine>& machine) = 0;

  // Reads events until `should_stop()` returns true (checked at least every
  // ~100 ms) or the session has nothing more to read. Runs on the thread that
  // calls it; machine writes happen only inside this call.
  virtual Status parse_until(const std::function<bool()>& should_stop) = 0;

  // Disables collection and drains what is left; sets metadata().end_time.
  virtual Status stop() = 0;

  // The resolver used for capture_and_resolve_symbols after collection, or
  // nullptr to leave addresses unresolved.
  virtual SymbolResolver* symbol_resolver() { return nullptr; }
};

}  // namespace one_collect
