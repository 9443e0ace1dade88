#include "one_collect/export/universal_exporter.h"

#include <utility>

namespace one_collect {

UniversalExporter::UniversalExporter(ExportSettings settings,
                                     std::unique_ptr<ExportSession> session)
    : settings_(std::move(settings)), session_(std::move(session)) {}

UniversalExporter::~UniversalExporter() {
  if (thread_.joinable()) {
    stop_requested_ = true;
    thread_.join();
    (void)session_->stop();
  }
}

Status UniversalExporter::begin(std::string_view name) {
  if (started_) return error(ErrorCode::kInvalidArgument, "collection already started");
  if (!session_) return error(ErrorCode::kInvalidArgument, "no OS session given");
  OC_RETURN_IF_ERROR(settings_.validate());
  machine_ = Writable<ExportMachine>();
  machine_.write([&](ExportMachine& m) {
    for (const SampleHook& hook : settings_.sample_hooks()) m.add_sample_hook(hook);
    CollectionMetadata& md = m.metadata();
    md.sample_frequency_hz = settings_.cpu_sampling() ? settings_.cpu_frequency_hz() : 0;
    md.sample_period_ns = settings_.cpu_sampling() ? settings_.cpu_period_ns() : 0;
  });
  stop_requested_ = false;
  OC_RETURN_IF_ERROR(session_->start(name, settings_, machine_));
  started_ = true;
  return ok_status();
}

Result<Writable<ExportMachine>> UniversalExporter::start_collection(std::string_view name) {
  OC_RETURN_IF_ERROR(begin(name));
  thread_ = std::thread([this] {
    thread_status_ = session_->parse_until([this] { return stop_requested_.load(); });
  });
  return machine_;
}

Status UniversalExporter::stop_and_export() {
  if (!started_) return error(ErrorCode::kInvalidArgument, "collection was not started");
  stop_requested_ = true;
  if (thread_.joinable()) thread_.join();
  return finish(std::move(thread_status_));
}

Status UniversalExporter::collect_for(std::string_view name, std::chrono::nanoseconds duration) {
  auto deadline = std::chrono::steady_clock::now() + duration;
  return collect_until(name, [deadline] { return std::chrono::steady_clock::now() >= deadline; });
}

Status UniversalExporter::collect_until(std::string_view name,
                                        const std::function<bool()>& should_stop) {
  OC_RETURN_IF_ERROR(begin(name));
  Status parse = session_->parse_until(should_stop);
  return finish(std::move(parse));
}

Status UniversalExporter::finish(Status parse_status) {
  started_ = false;
  Status stop_status = session_->stop();
  if (!parse_status.ok()) return std::move(parse_status).with_context("collecting");
  if (!stop_status.ok()) return std::move(stop_status).with_context("stopping");

  Status status;
  machine_.write([&](ExportMachine& m) {
    if (SymbolResolver* resolver = session_->symbol_resolver()) {
      status = m.capture_and_resolve_symbols(*resolver, nullptr, settings_.source_lines());
      if (!status.ok()) return;
    }
    for (const ParsedHook& hook : parsed_hooks_) {
      status = hook(m);
      if (!status.ok()) {
        status = std::move(status).with_context("parsed hook");
        return;
      }
    }
  });
  OC_RETURN_IF_ERROR(status);

  // Every export hook runs even when one fails; failures are combined.
  std::string failures;
  ErrorCode first_code = ErrorCode::kOk;
  machine_.read([&](const ExportMachine& m) {
    for (const ExportHook& hook : export_hooks_) {
      Status s = hook(m, settings_);
      if (!s.ok()) {
        if (first_code == ErrorCode::kOk) first_code = s.code();
        if (!failures.empty()) failures += "; ";
        failures += s.message();
      }
    }
  });
  if (first_code != ErrorCode::kOk) return error(first_code, "export: " + failures);
  return ok_status();
}

}  // namespace one_collect
