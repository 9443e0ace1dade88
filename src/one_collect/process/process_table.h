// ProcessTable: processes and their time-aware executable mappings.
//
// Fed by callbacks (the perf session's mmap2 / comm-exec / fork / exit
// records, through glue): every mapping remembers when it appeared and, after
// an exec, when it stopped existing, so a sample is resolved against the
// address space the process had *at the sample's time*:
//   - re-mmap at the same address: the latest mapping with time <= t wins;
//   - fork copies the parent's mappings alive at the fork;
//   - exec ends every mapping of the old image;
//   - exit keeps the mappings (late samples still resolve) until forget().
// Files are opened (and held open) in on_mmap through /proc/PID/root (when
// the path is deleted, replaced or unreachable, through
// /proc/PID/map_files/<range>: the inode really mapped), and shared by key
// (dev+inode, else build id) across processes, so per-file data (FDE index,
// symbols) is built once. Each held file gets an id (MappedFile::id(),
// file(id)) that the export model carries, so symbolization after
// collection reads these files rather than paths.
//
// Not thread-safe for writes: one thread feeds events and unwinds. The
// MappedFile attachments themselves are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/core/mapping_name.h"
#include "one_collect/core/status.h"
#include "one_collect/process/mapped_file.h"

namespace one_collect {

inline constexpr std::uint64_t kTimeForever = ~std::uint64_t{0};

struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;                  // exclusive
  std::uint64_t pgoff = 0;                // file offset of `start`
  std::uint64_t time = 0;                 // when it was mapped
  std::uint64_t end_time = kTimeForever;  // exec of the process
  bool anonymous = false;                 // JIT / anonymous code: no file to read
  bool executable = true;
  bool overlapped = false;  // another mapping (of any time) overlaps this one
  std::shared_ptr<const std::string> name;
  std::shared_ptr<MappedFile> file;  // null for anonymous mappings

  bool contains(std::uint64_t addr) const { return addr >= start && addr < end; }
  bool alive_at(std::uint64_t t) const { return time <= t && t < end_time; }
  std::uint64_t file_offset(std::uint64_t addr) const { return addr - start + pgoff; }
};

// The address space of one process at one time, as the unwinder sees it.
class AddressSpace {
 public:
  virtual ~AddressSpace() = default;
  // The mapping holding `addr`, or null.
  virtual const Mapping* find(std::uint64_t addr) const = 0;
};

// Which names are anonymous, files, deleted files or the [vdso]:
// classify_mapping_name / is_anonymous_mapping_name (core/mapping_name.h),
// the same rule the export model uses.

struct MmapEvent {
  std::uint32_t pid = 0;
  std::uint64_t start = 0;
  std::uint64_t len = 0;
  std::uint64_t pgoff = 0;
  std::string_view path;
  std::uint64_t dev = 0;  // makedev(major, minor) from mmap2; 0 if unknown
  std::uint64_t ino = 0;
  ByteSpan build_id;  // mmap2 with PERF_RECORD_MISC_MMAP_BUILD_ID
  std::uint64_t time = 0;
  bool executable = true;
};

struct ProcessTableStats {
  std::uint64_t mappings = 0;
  std::uint64_t files_opened = 0;
  std::uint64_t files_shared = 0;  // mmaps that reused an already open file
  std::uint64_t files_unavailable = 0;
  std::uint64_t identity_mismatches = 0;  // the file at the path is not the mapped inode
  // Files opened through /proc/PID/map_files (the mapped inode itself) because
  // the path was deleted, replaced or unreachable.
  std::uint64_t files_from_map_files = 0;
};

class ProcessTable {
 public:
  ProcessTable();
  ~ProcessTable();
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // Where process roots live; "/proc" by default (tests may redirect).
  void set_proc_root(std::string proc_root) { proc_root_ = std::move(proc_root); }

  // Records a mapping and opens its file now (held open). A file that
  // cannot be opened still gives a mapping (frames stay addressable) and
  // a non-ok Status for the caller to count.
  // `added` (optional) gets the mapping recorded, valid until the next on_*
  // call: its `anonymous` and `file` (MappedFile::id()) are what the export
  // model copies, so both layers agree (null when the range was refused).
  Status on_mmap(const MmapEvent& ev, const Mapping** added = nullptr);
  void on_fork(std::uint32_t parent, std::uint32_t child, std::uint64_t time);
  // Seeds a process that already runs when collection starts (perf reports
  // only new mmaps): its executable mappings from /proc/PID/maps, as if
  // mapped at `time`. Files that cannot be opened are counted in stats.
  Status load_from_proc(std::uint32_t pid, std::uint64_t time);
  void on_exec(std::uint32_t pid, std::uint64_t time);
  void on_exit(std::uint32_t pid, std::uint64_t time);
  // Drops a process entirely (after its samples are processed).
  void forget(std::uint32_t pid);

  // The mapping of `pid` holding `addr` at `time`, or null.
  const Mapping* find(std::uint32_t pid, std::uint64_t addr, std::uint64_t time) const;

  // A view for the unwinder. Valid until the next on_* call.
  class View : public AddressSpace {
   public:
    const Mapping* find(std::uint64_t addr) const override;

   private:
    friend class ProcessTable;
    const ProcessTable* table_ = nullptr;
    const void* process_ = nullptr;
    std::uint64_t time_ = 0;
    // The last hit: reused while it is the only mapping covering its range.
    mutable const Mapping* last_ = nullptr;
  };
  View view(std::uint32_t pid, std::uint64_t time) const;

  bool has_process(std::uint32_t pid) const;
  std::size_t process_count() const;
  const ProcessTableStats& stats() const { return stats_; }
  // Every open file (for tests and symbolization).
  std::size_t open_file_count() const { return files_.size(); }
  // The held-open file with this id (MappedFile::id(), 1-based), or null.
  // Symbolization after collection reads files through these, not paths.
  std::shared_ptr<MappedFile> file(std::uint32_t id) const;
  // How many held files have had their ELF parsed (each at most once: the
  // unwinder's CFI index and the symbol table share MappedFile::elf()).
  std::uint64_t elf_parses() const;

  struct Process;

 private:
  std::shared_ptr<MappedFile> file_for(const MmapEvent& ev, std::string_view path, bool deleted,
                                       Status& status);
  Result<std::shared_ptr<MappedFile>> open_map_files(const MmapEvent& ev,
                                                     const std::string& name) const;
  void assign_id(const std::shared_ptr<MappedFile>& file);
  Process& process(std::uint32_t pid);
  const Mapping* find_in(const Process& p, std::uint64_t addr, std::uint64_t time) const;

  std::string proc_root_ = "/proc";
  std::unordered_map<std::uint32_t, std::unique_ptr<Process>> processes_;
  std::unordered_map<FileKey, std::shared_ptr<MappedFile>, FileKeyHash> files_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> names_;
  std::shared_ptr<MappedFile> vdso_;
  std::vector<std::shared_ptr<MappedFile>> by_id_;  // id - 1 -> file
  ProcessTableStats stats_;
};

}  // namespace one_collect
