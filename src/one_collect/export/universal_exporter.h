// UniversalExporter: one recipe from settings to output files, OS-neutral.
//
//   ExportSettings settings;
//   settings.add_scenario("cpu");
//   settings.set_output_path("out/profile");
//   UniversalExporter exporter(settings, make_linux_session());
//   exporter.add_export_hook([](const ExportMachine& m) { return write_pprof(m, ...); });
//   exporter.add_parsed_hook([](ExportMachine& m) { /* filter, add metrics */ return ok_status();
//   }); OC_RETURN_IF_ERROR(exporter.start_collection("profile"));
//   ... (collection runs on a background thread)
//   OC_RETURN_IF_ERROR(exporter.stop_and_export());
//
// Order: start_collection -> session.start (rundown) -> collection thread runs
// session.parse_until -> stop_and_export: stop flag, join, session.stop,
// symbols resolved (when the session has a resolver), parsed hooks (custom
// processing after aggregation, in order), export hooks (in order; all run,
// errors are combined). collect_for / collect_until run the same steps
// synchronously on the caller's thread.
//
// Threading: between start_collection and stop_and_export only the
// collection thread touches the machine; machine() may be read after
// stop_and_export (or collect_*) returns.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"
#include "one_collect/export/export_session.h"
#include "one_collect/export/export_settings.h"
#include "one_collect/sharing/shared.h"

namespace one_collect {

using ExportHook = std::function<Status(const ExportMachine& machine, const ExportSettings&)>;
using ParsedHook = std::function<Status(ExportMachine& machine)>;

class UniversalExporter {
 public:
  UniversalExporter(ExportSettings settings, std::unique_ptr<ExportSession> session);
  ~UniversalExporter();
  UniversalExporter(const UniversalExporter&) = delete;
  UniversalExporter& operator=(const UniversalExporter&) = delete;

  const ExportSettings& settings() const { return settings_; }
  ExportSettings& mutable_settings() { return settings_; }

  void add_export_hook(ExportHook hook) { export_hooks_.push_back(std::move(hook)); }
  void add_parsed_hook(ParsedHook hook) { parsed_hooks_.push_back(std::move(hook)); }

  // Starts the session and a collection thread. Returns the shared machine.
  Result<Writable<ExportMachine>> start_collection(std::string_view name);
  // Stops the collection thread and the session, then resolves symbols, runs
  // the parsed hooks and the export hooks.
  Status stop_and_export();

  // Synchronous forms: start, parse on this thread until the deadline or the
  // predicate, then stop and export.
  Status collect_for(std::string_view name, std::chrono::nanoseconds duration);
  Status collect_until(std::string_view name, const std::function<bool()>& should_stop);

  const Writable<ExportMachine>& machine() const { return machine_; }
  bool running() const { return thread_.joinable(); }

 private:
  Status begin(std::string_view name);
  Status finish(Status parse_status);

  ExportSettings settings_;
  std::unique_ptr<ExportSession> session_;
  std::vector<ExportHook> export_hooks_;
  std::vector<ParsedHook> parsed_hooks_;
  Writable<ExportMachine> machine_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  Status thread_status_;
  bool started_ = false;
};

}  // namespace one_collect
