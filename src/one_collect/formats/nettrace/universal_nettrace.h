// UniversalNetTrace: PerfView's "Universal.System" and "Universal.Events"
// provider conventions (microsoft/perfview src/TraceEvent/EventPipe/
// UniversalProviders.md, as TraceEvent's parsers read them) over a
// NetTraceWriter.
//
// Universal.System (event ids as TraceEvent registers them):
//   0 ExistingProcess / 1 ProcessCreate: NamespaceId varuint, Name, NamespaceName
//   2 ProcessExit: no fields
//   3 ProcessMapping: Id, StartAddress, EndAddress (exclusive), FileOffset
//     varuints, FileName, MetadataId varuint (0: none)
//   4 ProcessSymbol: Id, MappingId, StartAddress, EndAddress (inclusive)
//     varuints, Name; addresses are process virtual addresses
//   5 ProcessMappingMetadata: Id varuint, SymbolMetadata, VersionMetadata (JSON)
// Strings are u16-length-prefixed UTF-8, declared as Array<UTF8CodeUnit> so
// every payload byte is described by its metadata. The process of an event is
// the OS process id of its thread; system events use thread (pid, pid).
//
// Universal.Events: one event type per sample kind, named after it ("cpu",
// "cswitch" for off-CPU), one field "Value" (varuint), with the stack leaf first.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "one_collect/formats/nettrace/nettrace_writer.h"

namespace one_collect::nettrace {

inline constexpr std::string_view kUniversalSystemProvider = "Universal.System";
inline constexpr std::string_view kUniversalEventsProvider = "Universal.Events";

class UniversalNetTrace {
 public:
  // Defines the Universal.System events on `writer`.
  static Result<std::unique_ptr<UniversalNetTrace>> create(std::unique_ptr<NetTraceWriter> writer);

  Status existing_process(std::uint64_t time, std::uint32_t pid, std::uint64_t ns_pid,
                          std::string_view name, std::string_view namespace_name = {});
  Status process_create(std::uint64_t time, std::uint32_t pid, std::uint64_t ns_pid,
                        std::string_view name, std::string_view namespace_name = {});
  // Also retires the process's threads (RemoveThread).
  Status process_exit(std::uint64_t time, std::uint32_t pid);
  Status mapping_metadata(std::uint64_t time, std::uint32_t pid, std::uint64_t id,
                          std::string_view symbol_json, std::string_view version_json);
  Status mapping(std::uint64_t time, std::uint32_t pid, std::uint64_t id, std::uint64_t start,
                 std::uint64_t end, std::uint64_t file_offset, std::string_view file_name,
                 std::uint64_t metadata_id);
  Status symbol(std::uint64_t time, std::uint32_t pid, std::uint64_t id, std::uint64_t mapping_id,
                std::uint64_t start, std::uint64_t end_inclusive, std::string_view name);

  // The Universal.Events metadata id for a sample kind name (defined once).
  Result<std::uint32_t> sample_kind(std::string_view name);
  // A sample: `ips` leaf first (may be empty).
  Status sample(std::uint32_t kind_metadata, std::uint64_t time, std::uint32_t pid,
                std::uint32_t tid, std::uint32_t cpu, std::uint64_t value,
                std::span<const std::uint64_t> ips, std::span<const Label> labels = {});

  NetTraceWriter& writer() { return *writer_; }
  Status finish() { return writer_->finish(); }

 private:
  explicit UniversalNetTrace(std::unique_ptr<NetTraceWriter> writer) : writer_(std::move(writer)) {}
  Status system_event(std::uint32_t metadata, std::uint64_t time, std::uint32_t pid);

  std::unique_ptr<NetTraceWriter> writer_;
  std::uint32_t existing_process_ = 0, process_create_ = 0, process_exit_ = 0;
  std::uint32_t mapping_ = 0, symbol_ = 0, mapping_metadata_ = 0;
  std::vector<std::pair<std::string, std::uint32_t>> kinds_;
  PayloadEncoder payload_;
};

}  // namespace one_collect::nettrace
