// ProcessTable: time-aware mappings (re-mmap, fork, exec, exit), files
// shared by identity, opened through /proc/PID/root, held open so deleted
// binaries still read, and bad paths (FIFO, directory, missing) refused
// without hanging.
#include "one_collect/process/process_table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;

MmapEvent anon(std::uint32_t pid, std::uint64_t start, std::uint64_t len, std::uint64_t time,
               std::string_view name = "//anon") {
  MmapEvent ev;
  ev.pid = pid;
  ev.start = start;
  ev.len = len;
  ev.time = time;
  ev.path = name;
  return ev;
}

// A temporary "proc" tree: <dir>/<pid>/root/... standing in for /proc.
struct FakeProc {
  testing::TempDir tmp{"oc_process_test"};
  fs::path dir = tmp.path();
  fs::path root(std::uint32_t pid) { return dir / std::to_string(pid) / "root"; }
  fs::path add_file(std::uint32_t pid, const std::string& path, const std::string& content) {
    return tmp.write(std::to_string(pid) + "/root" + path, content);
  }
};

TEST(ProcessTable, RemmapAtTheSameAddressResolvesByTime) {
  ProcessTable t;
  ASSERT_TRUE(t.on_mmap(anon(1, 0x1000, 0x1000, 10, "//anon")).ok());
  ASSERT_TRUE(t.on_mmap(anon(1, 0x1000, 0x2000, 20, "[anon:jit]")).ok());
  EXPECT_EQ(t.find(1, 0x1800, 5), nullptr);  // before any mapping
  ASSERT_NE(t.find(1, 0x1800, 15), nullptr);
  EXPECT_EQ(*t.find(1, 0x1800, 15)->name, "//anon");
  EXPECT_EQ(*t.find(1, 0x1800, 25)->name, "[anon:jit]");
  EXPECT_EQ(t.find(1, 0x2800, 15), nullptr);  // only the later, longer mapping covers it
  EXPECT_NE(t.find(1, 0x2800, 25), nullptr);
  EXPECT_EQ(t.find(1, 0x3000, 25), nullptr);                     // end is exclusive
  EXPECT_EQ(t.find(2, 0x1800, 25), nullptr);                     // unknown pid
  EXPECT_FALSE(t.on_mmap(anon(1, ~0ull - 10, 0x100, 30)).ok());  // wrapping range
}

TEST(ProcessTable, ViewFastPathRespectsOverlaps) {
  ProcessTable t;
  ASSERT_TRUE(t.on_mmap(anon(1, 0x1000, 0x4000, 10, "//anon")).ok());
  ASSERT_TRUE(t.on_mmap(anon(1, 0x3000, 0x1000, 20, "[anon:late]")).ok());
  ASSERT_TRUE(t.on_mmap(anon(1, 0x9000, 0x1000, 10, "[anon:alone]")).ok());
  auto v = t.view(1, 30);
  // The first lookup remembers the big mapping; the next address lies in
  // it too, but a later mapping shadows it there.
  EXPECT_EQ(*v.find(0x1800)->name, "//anon");
  EXPECT_EQ(*v.find(0x3800)->name, "[anon:late]");
  EXPECT_EQ(*v.find(0x1900)->name, "//anon");
  EXPECT_EQ(*v.find(0x9010)->name, "[anon:alone]");
  EXPECT_EQ(*v.find(0x9020)->name, "[anon:alone]");
  EXPECT_EQ(v.find(0x8000), nullptr);
  auto early = t.view(1, 15);
  EXPECT_EQ(*early.find(0x3800)->name, "//anon");
  EXPECT_EQ(t.view(1, 5).find(0x9010), nullptr);
}

TEST(ProcessTable, ForkCopiesExecReplacesExitKeeps) {
  ProcessTable t;
  ASSERT_TRUE(t.on_mmap(anon(1, 0x1000, 0x1000, 10)).ok());
  t.on_fork(1, 2, 20);
  ASSERT_NE(t.find(2, 0x1800, 25), nullptr);
  // The child's own later mapping is not the parent's.
  ASSERT_TRUE(t.on_mmap(anon(2, 0x5000, 0x1000, 30)).ok());
  EXPECT_EQ(t.find(1, 0x5800, 35), nullptr);
  EXPECT_NE(t.find(2, 0x5800, 35), nullptr);
  // exec at 40 ends the old image; the new image maps at 41.
  t.on_exec(2, 40);
  EXPECT_NE(t.find(2, 0x1800, 39), nullptr);  // a late sample from before the exec
  EXPECT_EQ(t.find(2, 0x1800, 45), nullptr);
  ASSERT_TRUE(t.on_mmap(anon(2, 0x1000, 0x1000, 41, "[anon:new]")).ok());
  EXPECT_EQ(*t.find(2, 0x1800, 45)->name, "[anon:new]");
  EXPECT_EQ(*t.find(2, 0x1800, 39)->name, "//anon");
  // A thread (same pid) is not a new process; exit keeps mappings for late samples.
  t.on_fork(1, 1, 50);
  EXPECT_NE(t.find(1, 0x1800, 55), nullptr);
  t.on_exit(1, 60);
  EXPECT_NE(t.find(1, 0x1800, 55), nullptr);
  t.forget(1);
  EXPECT_FALSE(t.has_process(1));
  // A fork after an exec copies only the new image.
  t.on_fork(2, 3, 70);
  EXPECT_EQ(*t.find(3, 0x1800, 75)->name, "[anon:new]");
}

TEST(ProcessTable, FilesOpenThroughProcessRootAndAreSharedByIdentity) {
  FakeProc proc;
  fs::path p = proc.add_file(100, "/usr/bin/app", "binary bytes");
  fs::create_directories(proc.root(101));
  fs::create_directory_symlink(proc.root(100) / "usr", proc.root(101) / "usr");
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  ProcessTable t;
  t.set_proc_root(proc.dir.string());
  MmapEvent ev = anon(100, 0x400000, 0x1000, 1, "/usr/bin/app");
  ev.dev = st.st_dev;
  ev.ino = st.st_ino;
  ASSERT_TRUE(t.on_mmap(ev).ok());
  const Mapping* m = t.find(100, 0x400010, 2);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(m->file, nullptr);
  EXPECT_TRUE(m->file->available());
  EXPECT_FALSE(m->anonymous);
  EXPECT_EQ(m->file->ino(), static_cast<std::uint64_t>(st.st_ino));
  // Another process mapping the same inode shares the open file.
  MmapEvent ev2 = ev;
  ev2.pid = 101;
  ev2.start = 0x500000;
  ASSERT_TRUE(t.on_mmap(ev2).ok());
  EXPECT_EQ(t.find(101, 0x500000, 2)->file.get(), m->file.get());
  EXPECT_EQ(t.stats().files_opened, 1u);
  EXPECT_EQ(t.stats().files_shared, 1u);
}

TEST(ProcessTable, DeletedFileStaysReadableThroughTheHeldFd) {
  FakeProc proc;
  // A real ELF file (this test binary) copied into the fake root.
  fs::path p = proc.root(7) / "opt/app";
  fs::create_directories(p.parent_path());
  fs::copy_file("/proc/self/exe", p);
  ProcessTable t;
  t.set_proc_root(proc.dir.string());
  ASSERT_TRUE(t.on_mmap(anon(7, 0x400000, 0x1000, 1, "/opt/app")).ok());
  fs::remove(p);  // deleted (or replaced) after it was mapped
  std::ofstream(p) << "a different file now";
  const Mapping* m = t.find(7, 0x400000, 2);
  ASSERT_NE(m, nullptr);
  const auto& elf = m->file->elf();
  ASSERT_TRUE(elf.ok()) << elf.status().to_string();
  EXPECT_TRUE(elf->section(".text").ok());
}

TEST(ProcessTable, UnopenableFilesGiveErrorsNotHangs) {
  FakeProc proc;
  fs::create_directories(proc.root(9) / "tmp");
  ASSERT_EQ(::mkfifo((proc.root(9) / "tmp/fifo").c_str(), 0600), 0);
  fs::create_directories(proc.root(9) / "tmp/dir");
  ProcessTable t;
  t.set_proc_root(proc.dir.string());
  Status fifo = t.on_mmap(anon(9, 0x1000, 0x1000, 1, "/tmp/fifo"));
  EXPECT_FALSE(fifo.ok());
  EXPECT_NE(fifo.message().find("not a regular file"), std::string::npos) << fifo.to_string();
  EXPECT_FALSE(t.on_mmap(anon(9, 0x3000, 0x1000, 1, "/tmp/dir")).ok());
  Status missing = t.on_mmap(anon(9, 0x5000, 0x1000, 1, "/tmp/missing"));
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  // The mappings still exist (frames stay addressable), without a file.
  const Mapping* m = t.find(9, 0x1000, 2);
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->file->available());
  EXPECT_FALSE(m->file->elf().ok());
  EXPECT_EQ(t.stats().files_unavailable, 3u);
  // A path escaping the root with ".." stays inside it (openat2 RESOLVE_IN_ROOT).
  EXPECT_FALSE(t.on_mmap(anon(9, 0x7000, 0x1000, 1, "/../../../../etc/hostname")).ok());
}

TEST(ProcessTable, IdentityMismatchIsRefused) {
  FakeProc proc;
  proc.add_file(5, "/bin/x", "content");
  ProcessTable t;
  t.set_proc_root(proc.dir.string());
  MmapEvent ev = anon(5, 0x1000, 0x1000, 1, "/bin/x");
  ev.dev = 1;
  ev.ino = 999999999;  // the record's inode is not the file at the path any more
  EXPECT_FALSE(t.on_mmap(ev).ok());
  EXPECT_FALSE(t.find(5, 0x1000, 2)->file->available());
  EXPECT_EQ(t.stats().identity_mismatches, 1u);
}

__attribute__((noinline)) int local_function(int x) { return x * 3 + 1; }

TEST(ProcessTable, LoadFromProcSeedsARunningProcess) {
  ProcessTable t;
  ASSERT_TRUE(t.load_from_proc(static_cast<std::uint32_t>(::getpid()), 5).ok());
  auto addr = reinterpret_cast<std::uint64_t>(&local_function);
  const Mapping* m = t.find(static_cast<std::uint32_t>(::getpid()), addr, 6);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(m->file, nullptr);
  EXPECT_TRUE(m->file->available());
  EXPECT_TRUE(m->executable);
  ASSERT_TRUE(m->file->elf().ok());
  // The file offset of the function maps back into the file's code.
  auto vaddr = m->file->elf()->file_offset_to_vaddr(m->file_offset(addr));
  EXPECT_TRUE(vaddr.has_value());
  EXPECT_EQ(t.find(static_cast<std::uint32_t>(::getpid()), addr, 4),
            nullptr);  // before the seed time
  EXPECT_EQ(t.load_from_proc(0x7ffffff0, 5).code(), ErrorCode::kNotFound);
}

TEST(ProcessTable, AnonymousNamesAndVdso) {
  EXPECT_TRUE(is_anonymous_mapping_name(""));
  EXPECT_TRUE(is_anonymous_mapping_name("//anon"));
  EXPECT_TRUE(is_anonymous_mapping_name("[anon:v8]"));
  EXPECT_TRUE(is_anonymous_mapping_name("/memfd:doublemapper (deleted)"));
  EXPECT_FALSE(is_anonymous_mapping_name("/usr/lib/libc.so.6"));
  ProcessTable t;
  ASSERT_TRUE(t.on_mmap(anon(3, 0x7fff0000, 0x2000, 1, "[vdso]")).ok());
  const Mapping* m = t.find(3, 0x7fff0010, 2);
  ASSERT_NE(m, nullptr);
  // Our own vdso stands in for the target's (same kernel): it has CFI.
  ASSERT_NE(m->file, nullptr);
  ASSERT_TRUE(m->file->elf().ok());
  EXPECT_TRUE(m->file->elf()->section(".eh_frame").ok());
}

TEST(ProcessTable, FilesHaveIdsAndCountTheirElfParses) {
  ProcessTable t;
  ASSERT_TRUE(t.load_from_proc(static_cast<std::uint32_t>(::getpid()), 5).ok());
  auto addr = reinterpret_cast<std::uint64_t>(&local_function);
  const Mapping* m = t.find(static_cast<std::uint32_t>(::getpid()), addr, 6);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(m->file, nullptr);
  ASSERT_NE(m->file->id(), 0u);
  EXPECT_EQ(t.file(m->file->id()).get(), m->file.get());
  EXPECT_EQ(t.file(0), nullptr);
  const Mapping* added = nullptr;
  EXPECT_TRUE(t.on_mmap(anon(1, 0x1000, 0x1000, 1, "/dev/zero (deleted)"), &added).ok());
  ASSERT_NE(added, nullptr);
  EXPECT_TRUE(added->anonymous);
  EXPECT_EQ(added->file, nullptr);
  EXPECT_FALSE(t.on_mmap(anon(1, 0x1000, 0, 1), &added).ok());
  EXPECT_EQ(added, nullptr);
  EXPECT_EQ(t.file(1u << 30), nullptr);
  EXPECT_FALSE(m->file->elf_parsed());
  std::uint64_t before = t.elf_parses();
  ASSERT_TRUE(m->file->elf().ok());
  ASSERT_TRUE(m->file->elf().ok());
  EXPECT_TRUE(m->file->elf_parsed());
  EXPECT_EQ(t.elf_parses(), before + 1);
}

// A file deleted before its mapping was seen ("<path> (deleted)") and a
// path that now names another file are both read through
// /proc/PID/map_files: the inode the process really mapped.
TEST(ProcessTable, DeletedOrReplacedFilesOpenThroughMapFiles) {
  OC_REQUIRE_ROOT();
  testing::TempDir tmp("oc_process_mapfiles");
  fs::path copy = tmp / "app";
  fs::copy_file("/proc/self/exe", copy);
  struct stat st;
  ASSERT_EQ(::stat(copy.c_str(), &st), 0);
  int fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* p = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(p, MAP_FAILED);
  fs::remove(copy);
  std::ofstream(copy) << "another file at the same path";
  auto pid = static_cast<std::uint32_t>(::getpid());
  auto start = reinterpret_cast<std::uint64_t>(p);

  ProcessTable t;
  std::string deleted = copy.string() + " (deleted)";
  MmapEvent ev = anon(pid, start, 4096, 1, deleted);
  ev.dev = st.st_dev;
  ev.ino = st.st_ino;
  EXPECT_TRUE(t.on_mmap(ev).ok());
  MmapEvent replaced = ev;
  std::string path = copy.string();
  replaced.path = path;
  replaced.pid = pid;
  ProcessTable t2;
  EXPECT_TRUE(t2.on_mmap(replaced).ok());  // the path's file is refused, map_files taken
  for (const ProcessTable* table : {&t, &t2}) {
    const Mapping* m = table->find(pid, start, 2);
    ASSERT_NE(m, nullptr);
    ASSERT_NE(m->file, nullptr);
    EXPECT_TRUE(m->file->available());
    EXPECT_EQ(m->file->ino(), static_cast<std::uint64_t>(st.st_ino));
    EXPECT_EQ(m->file->path(), copy.string());
    EXPECT_TRUE(m->file->elf().ok());
    EXPECT_EQ(table->stats().files_from_map_files, 1u);
  }
  ::munmap(p, 4096);
}

}  // namespace
}  // namespace one_collect
