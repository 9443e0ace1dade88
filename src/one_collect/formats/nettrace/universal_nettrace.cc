#include "one_collect/formats/nettrace/universal_nettrace.h"

#include <string>

namespace one_collect::nettrace {

Result<std::unique_ptr<UniversalNetTrace>> UniversalNetTrace::create(
    std::unique_ptr<NetTraceWriter> writer) {
  if (!writer) return error(ErrorCode::kInvalidArgument, "nettrace: no writer");
  std::unique_ptr<UniversalNetTrace> u(new UniversalNetTrace(std::move(writer)));
  auto var = [](const char* name) { return FieldSpec::scalar(name, TypeCode::kVarUInt); };
  auto str = [](const char* name) { return FieldSpec::short_utf8(name); };
  auto define = [&](std::uint32_t id, const char* name, std::vector<FieldSpec> fields,
                    std::uint32_t& out) -> Status {
    EventSpec spec;
    spec.provider = std::string(kUniversalSystemProvider);
    spec.event_id = id;
    spec.name = name;
    spec.fields = std::move(fields);
    OC_ASSIGN_OR_RETURN(out, u->writer_->define_event(spec));
    return ok_status();
  };
  OC_RETURN_IF_ERROR(define(0, "ExistingProcess",
                            {var("NamespaceId"), str("Name"), str("NamespaceName")},
                            u->existing_process_));
  OC_RETURN_IF_ERROR(define(1, "ProcessCreate",
                            {var("NamespaceId"), str("Name"), str("NamespaceName")},
                            u->process_create_));
  OC_RETURN_IF_ERROR(define(2, "ProcessExit", {}, u->process_exit_));
  OC_RETURN_IF_ERROR(define(3, "ProcessMapping",
                            {var("Id"), var("StartAddress"), var("EndAddress"), var("FileOffset"),
                             str("FileName"), var("MetadataId")},
                            u->mapping_));
  OC_RETURN_IF_ERROR(
      define(4, "ProcessSymbol",
             {var("Id"), var("MappingId"), var("StartAddress"), var("EndAddress"), str("Name")},
             u->symbol_));
  OC_RETURN_IF_ERROR(define(5, "ProcessMappingMetadata",
                            {var("Id"), str("SymbolMetadata"), str("VersionMetadata")},
                            u->mapping_metadata_));
  return u;
}

Status UniversalNetTrace::system_event(std::uint32_t metadata, std::uint64_t time,
                                       std::uint32_t pid) {
  EventHeader h;
  h.metadata_id = metadata;
  h.thread = writer_->thread(pid, pid);
  h.timestamp = time;
  return writer_->write_event(h, payload_.bytes());
}

Status UniversalNetTrace::existing_process(std::uint64_t time, std::uint32_t pid,
                                           std::uint64_t ns_pid, std::string_view name,
                                           std::string_view namespace_name) {
  payload_.clear();
  payload_.varuint(ns_pid).short_utf8(name).short_utf8(namespace_name);
  return system_event(existing_process_, time, pid);
}

Status UniversalNetTrace::process_create(std::uint64_t time, std::uint32_t pid,
                                         std::uint64_t ns_pid, std::string_view name,
                                         std::string_view namespace_name) {
  payload_.clear();
  payload_.varuint(ns_pid).short_utf8(name).short_utf8(namespace_name);
  return system_event(process_create_, time, pid);
}

Status UniversalNetTrace::process_exit(std::uint64_t time, std::uint32_t pid) {
  payload_.clear();
  OC_RETURN_IF_ERROR(system_event(process_exit_, time, pid));
  // Its threads are done: readers may drop them, and a reused pid gets new
  // thread indices.
  writer_->remove_threads_of(pid);
  return ok_status();
}

Status UniversalNetTrace::mapping_metadata(std::uint64_t time, std::uint32_t pid, std::uint64_t id,
                                           std::string_view symbol_json,
                                           std::string_view version_json) {
  payload_.clear();
  payload_.varuint(id).short_utf8(symbol_json).short_utf8(version_json);
  return system_event(mapping_metadata_, time, pid);
}

Status UniversalNetTrace::mapping(std::uint64_t time, std::uint32_t pid, std::uint64_t id,
                                  std::uint64_t start, std::uint64_t end, std::uint64_t file_offset,
                                  std::string_view file_name, std::uint64_t metadata_id) {
  payload_.clear();
  payload_.varuint(id).varuint(start).varuint(end).varuint(file_offset).short_utf8(file_name);
  payload_.varuint(metadata_id);
  return system_event(mapping_, time, pid);
}

Status UniversalNetTrace::symbol(std::uint64_t time, std::uint32_t pid, std::uint64_t id,
                                 std::uint64_t mapping_id, std::uint64_t start,
                                 std::uint64_t end_inclusive, std::string_view name) {
  payload_.clear();
  payload_.varuint(id).varuint(mapping_id).varuint(start).varuint(end_inclusive).short_utf8(name);
  return system_event(symbol_, time, pid);
}

Result<std::uint32_t> UniversalNetTrace::sample_kind(std::string_view name) {
  for (const auto& [kind, id] : kinds_) {
    if (kind == name) return id;
  }
  EventSpec spec;
  spec.provider = std::string(kUniversalEventsProvider);
  spec.event_id = static_cast<std::uint32_t>(kinds_.size() + 1);
  spec.name = std::string(name);
  spec.fields = {FieldSpec::scalar("Value", TypeCode::kVarUInt)};
  OC_ASSIGN_OR_RETURN(std::uint32_t id, writer_->define_event(spec));
  kinds_.emplace_back(std::string(name), id);
  return id;
}

Status UniversalNetTrace::sample(std::uint32_t kind_metadata, std::uint64_t time, std::uint32_t pid,
                                 std::uint32_t tid, std::uint32_t cpu, std::uint64_t value,
                                 std::span<const std::uint64_t> ips,
                                 std::span<const Label> labels) {
  EventHeader h;
  h.metadata_id = kind_metadata;
  h.thread = writer_->thread(pid, tid);
  h.processor = cpu;
  h.timestamp = time;
  OC_ASSIGN_OR_RETURN(h.stack, writer_->stack(ips));
  OC_ASSIGN_OR_RETURN(h.label_list, writer_->label_list(labels));
  payload_.clear();
  payload_.varuint(value);
  return writer_->write_event(h, payload_.bytes());
}

}  // namespace one_collect::nettrace
