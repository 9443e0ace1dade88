// tracefs: where the kernel's trace file system is mounted, and what its
// tracepoint `format` files say.
//
// A tracepoint's `format` file lists the fields of its payload (the RAW
// bytes a PERF_TYPE_TRACEPOINT sample carries, starting with common_type)
// with their C declaration, offset, size and signedness. We turn it into an
// `EventFormat`, so callbacks read tracepoint payloads like any other event.
// Tracepoint ids differ per boot: always read them from here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/event/event_format.h"

namespace one_collect {

struct TracepointFormat {
  std::uint32_t id = 0;  // PERF_TYPE_TRACEPOINT config
  std::string system;
  std::string name;
  EventFormat format;  // every field, common_* included, offsets from payload start
};

// Parses the text of an events/<system>/<name>/format file. Errors name the
// line that is wrong. The id comes from the `ID:` line (0 when absent; then
// Tracefs::load_tracepoint reads the `id` file).
Result<TracepointFormat> parse_tracepoint_format(std::string_view text, std::string_view system,
                                                 std::string_view name);

// Splits one C declaration from a `field:` line into (type, name), moving
// array suffixes onto the type: "char comm[16]" -> ("char[16]", "comm"),
// "__data_loc char[] filename" -> ("__data_loc char[]", "filename"),
// "const char * name" -> ("const char *", "name").
Result<std::pair<std::string, std::string>> split_field_declaration(std::string_view decl);

class Tracefs {
 public:
  // Finds tracefs (a tracefs entry of /proc/mounts, /sys/kernel/tracing,
  // /sys/kernel/debug/tracing). When none is mounted and we are permitted,
  // mounts it at /sys/kernel/tracing; otherwise the error says which command
  // to run.
  static Result<Tracefs> open();
  // Finds tracefs without ever mounting it.
  static Result<Tracefs> find();
  // Uses `root` as the tracefs directory (it must hold `events/`). For tests
  // and unusual mounts.
  static Result<Tracefs> open_at(std::string root);

  // The mount directory, e.g. "/sys/kernel/tracing".
  const std::string& root() const { return root_; }
  // root() + "/" + relative.
  std::string path(std::string_view relative) const;
  bool exists(std::string_view relative) const;

  // Reads events/<system>/<name>/format (and `id` when the format has no ID).
  Result<TracepointFormat> load_tracepoint(std::string_view system, std::string_view name) const;
  // Every (system, name) that has a format file under events/, sorted.
  Result<std::vector<std::pair<std::string, std::string>>> list_events() const;

  // Whole-file read of a tracefs file (they report size 0, so read until EOF).
  Result<std::string> read_file(std::string_view relative) const;
  // Appends one command to a control file such as uprobe_events (opened
  // O_WRONLY|O_APPEND, never truncated: truncating would delete every probe
  // of every tool).
  Status append_line(std::string_view relative, std::string_view line) const;

 private:
  explicit Tracefs(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace one_collect
