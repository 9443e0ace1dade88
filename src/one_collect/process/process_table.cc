#include "one_collect/process/process_table.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include <cstdio>
#include <cstring>
#include "one_collect/linux/procfs.h"

namespace one_collect {

struct ProcessTable::Process {
  std::uint32_t pid = 0;
  std::vector<Mapping> mappings;  // sorted by start
  std::uint64_t max_len = 0;      // longest mapping: bounds the backward walk in find
  std::uint64_t exit_time = kTimeForever;
};

namespace {

// The [vdso] is identical in every process of this kernel: read ours once.
std::shared_ptr<MappedFile> load_own_vdso() {
  unsigned long base = ::getauxval(AT_SYSINFO_EHDR);
  if (base == 0) return nullptr;
  // Its extent comes from /proc/self/maps.
  FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return nullptr;
  char line[512];
  std::uint64_t start = 0, end = 0;
  while (std::fgets(line, sizeof line, maps) != nullptr) {
    if (std::strstr(line, "[vdso]") == nullptr) continue;
    unsigned long long s = 0, e = 0;
    if (std::sscanf(line, "%llx-%llx", &s, &e) == 2) {
      start = s;
      end = e;
    }
    break;
  }
  std::fclose(maps);
  if (start != base || end <= start) return nullptr;
  auto elf = ElfFile::from_memory(
      ByteSpan(reinterpret_cast<const std::uint8_t*>(start), end - start), "[vdso]");
  if (!elf.ok()) return nullptr;
  return MappedFile::from_elf("[vdso]", std::move(elf).value());
}

}  // namespace

ProcessTable::ProcessTable() = default;
ProcessTable::~ProcessTable() = default;

ProcessTable::Process& ProcessTable::process(std::uint32_t pid) {
  auto& slot = processes_[pid];
  if (!slot) {
    slot = std::make_unique<Process>();
    slot->pid = pid;
  }
  return *slot;
}

void ProcessTable::assign_id(const std::shared_ptr<MappedFile>& file) {
  if (!file || file->id() != 0) return;
  by_id_.push_back(file);
  file->set_id(static_cast<std::uint32_t>(by_id_.size()));
}

std::shared_ptr<MappedFile> ProcessTable::file(std::uint32_t id) const {
  return id == 0 || id > by_id_.size() ? nullptr : by_id_[id - 1];
}

std::uint64_t ProcessTable::elf_parses() const {
  std::uint64_t n = 0;
  for (const auto& f : by_id_) n += f->elf_parsed() ? 1 : 0;
  return n;
}

// /proc/PID/map_files/<start>-<end> is the inode the process mapped, whatever
// its path names now (deleted, replaced, another mount namespace). Root only.
Result<std::shared_ptr<MappedFile>> ProcessTable::open_map_files(const MmapEvent& ev,
                                                                 const std::string& name) const {
  char range[64];
  std::snprintf(range, sizeof range, "/map_files/%llx-%llx",
                static_cast<unsigned long long>(ev.start),
                static_cast<unsigned long long>(ev.start + ev.len));
  std::string link = proc_root_ + "/" + std::to_string(ev.pid) + range;
  OC_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::open(-1, link));
  file->set_path(name);
  return file;
}

std::shared_ptr<MappedFile> ProcessTable::file_for(const MmapEvent& ev, std::string_view path_view,
                                                   bool deleted, Status& status) {
  FileKey key;
  key.dev = ev.dev;
  key.ino = ev.ino;
  if (key.dev == 0 && key.ino == 0 && !ev.build_id.empty()) {
    key.build_id.assign(reinterpret_cast<const char*>(ev.build_id.data()), ev.build_id.size());
  }
  if (!key.empty()) {
    auto it = files_.find(key);
    if (it != files_.end()) {
      ++stats_.files_shared;
      return it->second;
    }
  }
  std::string path(path_view);
  std::string name(ev.path);  // as reported (" (deleted)" kept)
  // Open through the process's root so container paths resolve there. A
  // deleted file has no path to open: only map_files reaches it.
  std::string root = proc_root_ + "/" + std::to_string(ev.pid) + "/root";
  int root_fd = deleted ? -1 : ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  Result<std::shared_ptr<MappedFile>> opened =
      deleted        ? error(ErrorCode::kNotFound, name + ": deleted before it was seen")
      : root_fd >= 0 ? MappedFile::open(root_fd, path)
                     : error(ErrorCode::kNotFound, "process root " + root + " is gone");
  if (root_fd >= 0) ::close(root_fd);
  if (!opened.ok() && root_fd < 0 && !deleted) {
    // The process is gone (late event): the host path is only acceptable
    // when it is provably the same inode.
    if (key.dev != 0 || key.ino != 0) opened = MappedFile::open(-1, path);
  }
  std::shared_ptr<MappedFile> file;
  if (opened.ok()) {
    file = std::move(opened).value();
    // dev/ino from the record must match the file we opened; otherwise the
    // path now names another file (replaced before we saw the mmap).
    if ((key.ino != 0 && file->ino() != key.ino) || (key.dev != 0 && file->dev() != key.dev)) {
      ++stats_.identity_mismatches;
      // overlayfs reports the upper/lower inode in mmap records: accept a
      // dev mismatch when the inode matches, refuse anything else.
      if (file->ino() != key.ino) {
        status = error(ErrorCode::kNotFound, path + ": file at this path is not the mapped inode");
        file = MappedFile::unavailable(name, Status(status));
      }
    }
  } else {
    status = std::move(opened).status();
    file = MappedFile::unavailable(name, Status(status));
  }
  if (!file->available()) {
    // The mapped inode itself, while the process and its mapping still exist.
    auto direct = open_map_files(ev, path);
    if (direct.ok() && (key.ino == 0 || (*direct)->ino() == key.ino)) {
      file = std::move(direct).value();
      status = Status();
      ++stats_.files_from_map_files;
    }
  }
  if (file->available()) {
    ++stats_.files_opened;
  } else {
    ++stats_.files_unavailable;
  }
  if (key.empty()) {
    key.dev = file->dev();
    key.ino = file->ino();
  }
  if (file->available()) {
    // A file first met without dev/ino (build id key) may already be open.
    FileKey inode_key{file->dev(), file->ino(), {}};
    if (auto it = files_.find(inode_key); it != files_.end() && !(inode_key == key)) {
      ++stats_.files_shared;
      --stats_.files_opened;
      files_[key] = it->second;
      return it->second;
    }
    assign_id(file);
    if (!key.empty()) files_[key] = file;
  }
  return file;
}

Status ProcessTable::on_mmap(const MmapEvent& ev, const Mapping** added) {
  if (added != nullptr) *added = nullptr;
  if (ev.len == 0 || ev.start + ev.len < ev.start) {
    return error(ErrorCode::kInvalidArgument, "mmap with an empty or wrapping range");
  }
  Status status;
  Mapping m;
  m.start = ev.start;
  m.end = ev.start + ev.len;
  m.pgoff = ev.pgoff;
  m.time = ev.time;
  m.executable = ev.executable;
  std::string name_key(ev.path);
  auto& name = names_[name_key];
  if (!name) name = std::make_shared<const std::string>(name_key);
  m.name = name;
  MappingName kind = classify_mapping_name(ev.path);
  switch (kind.kind) {
    case MappingNameKind::kVdso:
      if (!vdso_) {
        vdso_ = load_own_vdso();
        assign_id(vdso_);
      }
      m.file = vdso_;
      m.anonymous = vdso_ == nullptr;
      break;
    case MappingNameKind::kAnonymous:
      m.anonymous = true;
      break;
    case MappingNameKind::kFile:
    case MappingNameKind::kDeletedFile:
      m.file = file_for(ev, kind.path, kind.kind == MappingNameKind::kDeletedFile, status);
      break;
  }
  Process& p = process(ev.pid);
  auto pos = std::upper_bound(p.mappings.begin(), p.mappings.end(), m.start,
                              [](std::uint64_t s, const Mapping& x) { return s < x.start; });
  p.max_len = std::max(p.max_len, ev.len);
  pos = p.mappings.insert(pos, std::move(m));
  // Mark overlaps (re-mmaps): only mappings nobody overlaps take the fast path in View::find.
  for (auto it = pos; it != p.mappings.begin();) {
    --it;
    if (pos->start - it->start >= p.max_len) break;
    if (it->end > pos->start) it->overlapped = pos->overlapped = true;
  }
  for (auto it = pos + 1; it != p.mappings.end() && it->start < pos->end; ++it) {
    it->overlapped = pos->overlapped = true;
  }
  ++stats_.mappings;
  if (added != nullptr) *added = &*pos;
  return status;
}

void ProcessTable::on_fork(std::uint32_t parent, std::uint32_t child, std::uint64_t time) {
  if (parent == child) return;  // a new thread shares the address space
  auto it = processes_.find(parent);
  Process& c = process(child);
  c.mappings.clear();
  c.max_len = 0;
  c.exit_time = kTimeForever;
  if (it == processes_.end()) return;
  for (const Mapping& m : it->second->mappings) {
    if (m.end_time <= time) continue;  // gone before the fork (earlier image)
    c.mappings.push_back(m);
    c.max_len = std::max(c.max_len, m.end - m.start);
  }
}

Status ProcessTable::load_from_proc(std::uint32_t pid, std::uint64_t time) {
  auto maps = read_maps(static_cast<int>(pid));
  if (!maps.ok()) return std::move(maps).status();
  process(pid);
  for (const MapEntry& e : maps->entries) {
    if (!e.exec) continue;
    MmapEvent ev;
    ev.pid = pid;
    ev.start = e.start;
    ev.len = e.end - e.start;
    ev.pgoff = e.offset;
    ev.path = e.path;
    ev.dev = makedev(e.dev_major, e.dev_minor);
    ev.ino = e.inode;
    ev.time = time;
    (void)on_mmap(ev);  // a file we cannot open still gives an addressable mapping
  }
  return Status();
}

void ProcessTable::on_exec(std::uint32_t pid, std::uint64_t time) {
  Process& p = process(pid);
  for (Mapping& m : p.mappings) {
    if (m.end_time > time && m.time <= time) m.end_time = time;
  }
}

void ProcessTable::on_exit(std::uint32_t pid, std::uint64_t time) {
  auto it = processes_.find(pid);
  if (it != processes_.end()) it->second->exit_time = time;
}

void ProcessTable::forget(std::uint32_t pid) { processes_.erase(pid); }

bool ProcessTable::has_process(std::uint32_t pid) const { return processes_.count(pid) != 0; }
std::size_t ProcessTable::process_count() const { return processes_.size(); }

const Mapping* ProcessTable::find_in(const Process& p, std::uint64_t addr,
                                     std::uint64_t time) const {
  const auto& v = p.mappings;
  auto it = std::upper_bound(v.begin(), v.end(), addr,
                             [](std::uint64_t a, const Mapping& x) { return a < x.start; });
  const Mapping* best = nullptr;
  // Walk back over every mapping that could still reach addr.
  while (it != v.begin()) {
    --it;
    if (addr - it->start >= p.max_len) break;
    if (it->contains(addr) && it->alive_at(time) && (best == nullptr || it->time >= best->time)) {
      best = &*it;
    }
  }
  return best;
}

const Mapping* ProcessTable::find(std::uint32_t pid, std::uint64_t addr, std::uint64_t time) const {
  auto it = processes_.find(pid);
  if (it == processes_.end()) return nullptr;
  return find_in(*it->second, addr, time);
}

ProcessTable::View ProcessTable::view(std::uint32_t pid, std::uint64_t time) const {
  View v;
  v.table_ = this;
  auto it = processes_.find(pid);
  v.process_ = it == processes_.end() ? nullptr : it->second.get();
  v.time_ = time;
  return v;
}

const Mapping* ProcessTable::View::find(std::uint64_t addr) const {
  if (process_ == nullptr) return nullptr;
  if (last_ != nullptr && !last_->overlapped && last_->contains(addr) && last_->alive_at(time_)) {
    return last_;
  }
  const Mapping* m = table_->find_in(*static_cast<const Process*>(process_), addr, time_);
  if (m != nullptr) last_ = m;
  return m;
}

}  // namespace one_collect
