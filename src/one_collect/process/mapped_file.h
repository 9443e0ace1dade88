// MappedFile: one file that some process mapped, held open from the moment
// the mapping was seen.
//
// Holding the fd means a binary deleted or replaced after it was mapped
// (package upgrades, container teardown) still unwinds and symbolizes: we
// read the inode the process really mapped. Files are opened through
// /proc/PID/root so paths resolve inside the process's mount namespace
// (containers). Per-file derived data (the unwinder's FDE index, the symbol
// table) is attached to the MappedFile, built once on first use and shared
// by every process that maps the same file.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "one_collect/binary/elf_file.h"
#include "one_collect/core/hash.h"
#include "one_collect/core/status.h"

namespace one_collect {

// Identity of a mapped file: (device, inode) as the kernel reports them
// (dev = makedev(major, minor)), or a build id when that is all we have.
struct FileKey {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::string build_id;  // raw bytes; used when dev/ino are 0
  bool operator==(const FileKey&) const = default;
  bool empty() const { return dev == 0 && ino == 0 && build_id.empty(); }
};

struct FileKeyHash {
  std::size_t operator()(const FileKey& k) const {
    return hash_pair(hash_pair(k.dev, k.ino), hash_bytes(k.build_id.data(), k.build_id.size()));
  }
};

// Slots for data derived from a file, one per consumer layer.
enum class FileAttachment : unsigned { kUnwind = 0, kSymbols = 1, kCount = 2 };

class MappedFile {
 public:
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // Opens `path` inside the root directory fd `root_fd` (-1: the host
  // root). Only regular files are accepted; O_NONBLOCK keeps a FIFO from
  // hanging us.
  static Result<std::shared_ptr<MappedFile>> open(int root_fd, const std::string& path);

  // A file we could not open: still named, so symbolization can say why.
  static std::shared_ptr<MappedFile> unavailable(std::string path, Status why);

  // An in-memory ELF image (e.g. the [vdso], which is the same in every
  // process of this kernel).
  static std::shared_ptr<MappedFile> from_elf(std::string name, ElfFile elf);

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }  // -1 when unavailable
  bool available() const { return fd_ >= 0 || preloaded_; }
  const Status& open_status() const { return open_status_; }
  std::uint64_t dev() const { return dev_; }
  std::uint64_t ino() const { return ino_; }
  // The owning ProcessTable's handle for this file (1-based), 0: none.
  std::uint32_t id() const { return id_; }
  void set_id(std::uint32_t id) { id_ = id; }
  // Names the file by its path in the process (opened through another link).
  void set_path(std::string path) { path_ = std::move(path); }
  // Whether elf() has parsed the file (it does so at most once).
  bool elf_parsed() const { return elf_parsed_.load(std::memory_order_acquire); }

  // The parsed ELF file, mapped from the held fd on first use (thread-safe).
  const Result<ElfFile>& elf() const;

  // Data of type T derived from this file, built once by `build()` (called
  // at most once, under a lock) and shared afterwards without locking.
  template <typename T, typename Build>
  const T& attachment(FileAttachment slot, Build&& build) const {
    auto i = static_cast<unsigned>(slot);
    if (const void* p = slot_ptrs_[i].load(std::memory_order_acquire)) {
      return *static_cast<const T*>(p);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (const void* p = slot_ptrs_[i].load(std::memory_order_relaxed)) {
      return *static_cast<const T*>(p);
    }
    auto owned = std::make_shared<T>(build());
    const T* raw = owned.get();
    slot_owners_[i] = std::move(owned);
    slot_ptrs_[i].store(raw, std::memory_order_release);
    return *raw;
  }

 private:
  MappedFile() = default;

  std::string path_;
  int fd_ = -1;
  bool preloaded_ = false;
  Status open_status_;
  std::uint64_t dev_ = 0;
  std::uint64_t ino_ = 0;
  std::uint32_t id_ = 0;
  mutable std::atomic<bool> elf_parsed_{false};
  mutable std::once_flag elf_once_;
  mutable std::optional<Result<ElfFile>> elf_;
  mutable std::mutex mu_;
  mutable std::array<std::atomic<const void*>, static_cast<unsigned>(FileAttachment::kCount)>
      slot_ptrs_{};
  mutable std::array<std::shared_ptr<const void>, static_cast<unsigned>(FileAttachment::kCount)>
      slot_owners_{};
};

}  // namespace one_collect
