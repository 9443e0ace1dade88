// JIT symbol maps: /tmp/perf-PID.map as written by Java (DumpPerfMapAtExit,
// perf-map-agent), .NET (CoreCLR PerfMapEnabled), Node/V8 (--perf-basic-prof)
// and Mono (--jitmap). One entry per line: "START SIZE name with spaces",
// START and SIZE in hex in any of the three styles seen in the wild:
//   Java    "0x00007f3a2c000000 0x0000000000000120 Ljava/lang/String;::hashCode"
//   CoreCLR "00007F3A2C000000 120 [OptimizedTier1] System.String::Concat(...)"
//   V8/Mono "7f3a2c000000 120 LazyCompile:~work /app.js:3:14"
//
// Safety: the recorder runs as root and /tmp is shared with the target, so
// the file is opened without following symlinks (O_NOFOLLOW, and
// RESOLVE_NO_SYMLINKS inside the target root), without blocking (a FIFO
// planted there is refused, never read), and only if it is a regular file
// owned by the target's uid or root (perf's rule). At most `max_bytes` are
// read and `max_entries` entries kept (defaults: 256 MiB, 4M entries, well
// above the largest maps seen from real runtimes); malformed lines are
// skipped and counted.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "one_collect/core/status.h"
#include "one_collect/symbols/symbol_table.h"

namespace one_collect {

struct PerfMapOptions {
  std::size_t max_bytes = 256u << 20;
  std::size_t max_entries = 4u << 20;
};

struct PerfMapStats {
  std::size_t lines = 0;
  std::size_t entries = 0;
  std::size_t malformed = 0;
  bool truncated = false;  // a cap was hit: the rest of the file was ignored
};

class PerfMap {
 public:
  // Reads /proc/<pid>/root/tmp/perf-<nspid>.map: the target's /tmp, in its
  // mount namespace, named after its namespace pid (equal to pid outside
  // containers). The owner check uses the owner of /proc/<pid>.
  static Result<PerfMap> read_for_process(int pid, int nspid, const PerfMapOptions& options = {});

  // Reads `path` (its last component must not be a symlink) if it is a
  // regular file owned by `allowed_uid` or root.
  static Result<PerfMap> read_file(const std::string& path, uid_t allowed_uid,
                                   const PerfMapOptions& options = {});

  // Parses map text. Later lines win over earlier ones at the same start
  // (runtimes re-use code addresses).
  static PerfMap parse(std::string_view text, const PerfMapOptions& options = {});

  std::optional<SymbolInfo> lookup(std::uint64_t address) const { return table_.lookup(address); }
  const SymbolTable& table() const { return table_; }
  const PerfMapStats& stats() const { return stats_; }

 private:
  static Result<PerfMap> read_fd(int fd, const std::string& path, uid_t allowed_uid,
                                 const PerfMapOptions& options);
  SymbolTable table_;
  PerfMapStats stats_;
};

}  // namespace one_collect
