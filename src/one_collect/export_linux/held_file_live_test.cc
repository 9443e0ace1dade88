// Symbolization through the files held open since they were mapped (root,
// real processes): the session's ProcessTable opens each mapped file when
// its mmap record arrives, the unwinder and the symbol resolver read that
// same MappedFile, and paths are not looked at again after collection.
//   - a binary replaced (renamed over) while it runs is named from the
//     program that ran, not the file at its path at stop;
//   - a process in its own mount namespace (its binary on a private tmpfs
//     the host cannot see) that exited before stop is named correctly;
//   - a shared library mapped by two processes is opened and indexed once.
// Samples are asserted by name, never by count beyond "at least one": the
// test waits for the session to have processed samples before acting.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "one_collect/export/universal_exporter.h"
#include "one_collect/export_linux/linux_export_session.h"
#include "one_collect/export_linux/linux_symbol_resolver.h"
#include "one_collect/symbols/symbol_cache.h"
#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;

// Copies `from` to `to` with plain syscalls (usable between fork and exec).
bool raw_copy(const char* from, const char* to) {
  int in = ::open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return false;
  int out = ::open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0) {
    ::close(in);
    return false;
  }
  char buf[65536];
  bool ok = true;
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0 || ::write(out, buf, static_cast<std::size_t>(n)) != n) {
      ok = false;
      break;
    }
  }
  ::close(in);
  ::close(out);
  return ok;
}

// A workload process, forked now and held before exec until release(): the
// session must be recording when it execs, so its mmaps are seen. It spins
// until stop() closes the pipe on its fd 3.
class Workload {
 public:
  struct Namespace {
    std::string tmpfs_dir;  // a private tmpfs is mounted here in the child
    std::string source;     // copied into it as `binary` (argv[0])
  };

  Workload(std::vector<std::string> argv, const Namespace* ns = nullptr) {
    int go[2], stop[2], ready[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(stop, O_CLOEXEC) != 0 ||
        ::pipe2(ready, O_CLOEXEC) != 0) {
      return;
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::string ns_dir = ns ? ns->tmpfs_dir : "", ns_source = ns ? ns->source : "";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(go[1]);
      ::close(stop[1]);
      ::close(ready[0]);
      if (ns != nullptr) {
        if (::unshare(CLONE_NEWNS) != 0) ::_exit(120);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(121);
        if (::mount("tmpfs", ns_dir.c_str(), "tmpfs", 0, "size=64m") != 0) ::_exit(122);
        if (!raw_copy(ns_source.c_str(), args[0])) ::_exit(123);
      }
      if (::write(ready[1], "r", 1) != 1) ::_exit(126);
      ::close(ready[1]);
      char c;
      if (::read(go[0], &c, 1) != 1) ::_exit(124);
      if (stop[0] == 3) {
        ::fcntl(3, F_SETFD, 0);
      } else if (::dup2(stop[0], 3) != 3) {
        ::_exit(125);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(go[0]);
    ::close(stop[0]);
    ::close(ready[1]);
    go_ = go[1];
    stop_ = stop[1];
    ready_ = ready[0];
  }
  ~Workload() {
    if (pid_ > 0 && !reaped_) {
      stop();
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (go_ >= 0) ::close(go_);
    if (ready_ >= 0) ::close(ready_);
  }
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  pid_t pid() const { return pid_; }
  // Whether the child finished its setup (false: it exited, see wait()).
  bool ready() {
    char c;
    ssize_t n;
    do {
      n = ::read(ready_, &c, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1;
  }
  void release() {
    if (go_ >= 0) (void)!::write(go_, "g", 1);
  }
  void stop() {
    if (stop_ >= 0) ::close(stop_);
    stop_ = -1;
  }
  // The exit status (-1 if it could not be reaped).
  int wait() {
    int status = 0;
    if (pid_ <= 0 || ::waitpid(pid_, &status, 0) != pid_) return -1;
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  int stop_ = -1;
  int ready_ = -1;
  bool reaped_ = false;
};

// Waits (without a fixed sleep deciding the outcome) until `done`, or a
// generous deadline for a loaded machine.
bool wait_for(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

struct Session {
  std::unique_ptr<UniversalExporter> exporter;
  LinuxExportSession* session = nullptr;

  explicit Session(const std::vector<pid_t>& pids) {
    ExportSettings settings;
    EXPECT_TRUE(settings.add_scenario("cpu").ok());
    EXPECT_TRUE(settings.set_cpu_sampling_frequency(1000).ok());
    settings.set_callstack_mode(CallstackMode::kDwarf);  // the unwinder reads the files too
    for (pid_t p : pids) settings.add_target_pid(static_cast<std::uint32_t>(p));
    LinuxSessionOptions options;
    options.ring_bytes = 32u << 20;
    auto s = std::make_unique<LinuxExportSession>(options);
    session = s.get();
    exporter = std::make_unique<UniversalExporter>(settings, std::move(s));
  }
  std::uint64_t samples() const { return session->progress().samples; }
  LinuxSymbolResolver* resolver() const {
    return dynamic_cast<LinuxSymbolResolver*>(session->symbol_resolver());
  }
};

// Every sample of `pid` whose leaf lies in a mapping of `path` must be named
// exactly as `original` (the program that really ran) names that file
// offset; returns how many were named `function`, and counts the others.
struct NameCheck {
  std::uint64_t in_file = 0;
  std::uint64_t named_function = 0;
  std::uint64_t wrong = 0;
  std::uint32_t file_id = 0;  // ExportMapping::file of the mapping
  std::string source_file;    // of a sample's line, when it has one
};

NameCheck check_names(const ExportMachine& m, std::uint32_t pid, const std::string& path,
                      const std::string& original, std::string_view function) {
  NameCheck out;
  SymbolCache reference;
  auto module = reference.load(original);
  EXPECT_TRUE(module.ok()) << module.status().to_string();
  if (!module.ok()) return out;
  for (const ExportSample& s : m.samples()) {
    if (s.pid != pid || s.leaf_ip == 0) continue;
    const ExportMapping* mapping = nullptr;
    const ExportLine* line = nullptr;
    const ExportSymbol* sym = m.find_symbol(pid, s.leaf_ip, s.time, &mapping, &line);
    if (mapping == nullptr) mapping = m.find_mapping(pid, s.leaf_ip, s.time);
    if (mapping == nullptr || m.string(mapping->filename) != path) continue;
    ++out.in_file;
    out.file_id = mapping->file;
    if (line != nullptr && line->source_file != 0) {
      out.source_file = std::string(m.string(line->source_file));
    }
    auto expected = reference.resolve_file_offset(*module, mapping->symbol_address(s.leaf_ip));
    std::string_view got = sym ? m.string(sym->name) : "";
    std::string_view want = expected ? expected->name : "";
    if (got != want) {
      ++out.wrong;
      ADD_FAILURE() << "sample at offset 0x" << std::hex << mapping->symbol_address(s.leaf_ip)
                    << " named '" << got << "', the program there has '" << want << "'";
    }
    if (got == function) ++out.named_function;
  }
  return out;
}

// The workload's samples are named from the program that ran (the held
// file), names and source lines both, whatever is at `path` now: at least one
// sample in its spin function, none named otherwise, and the mapping carries
// the session's held file.
void expect_named_as_the_program_that_ran(UniversalExporter& exporter, std::uint32_t pid,
                                          const std::string& path) {
  exporter.machine().read([&](const ExportMachine& m) {
    NameCheck c = check_names(m, pid, path, OC_HELD_FILE_WORKLOAD, "oc_held_original_spin");
    EXPECT_GE(c.named_function, 1u) << c.in_file << " samples in the binary";
    EXPECT_EQ(c.wrong, 0u);
    EXPECT_NE(c.file_id, 0u) << "the mapping should carry the session's held file";
    EXPECT_TRUE(c.source_file.ends_with("held_file_workload.cc")) << c.source_file;
  });
}

TEST(HeldFileSymbols, BinaryReplacedWhileRunningKeepsItsNames) {
  OC_REQUIRE_ROOT();
  testing::TempDir tmp("oc_held_replaced");
  std::string path = (tmp / "held_file_workload").string();
  fs::copy_file(OC_HELD_FILE_WORKLOAD, path);
  fs::copy_file("/proc/self/exe", tmp / "replacement");  // another ELF, other names

  Workload w({path, "self"});
  ASSERT_GT(w.pid(), 0);
  ASSERT_TRUE(w.ready());
  Session rec({w.pid()});
  ASSERT_TRUE(rec.exporter->start_collection("held").ok());
  w.release();
  ASSERT_TRUE(wait_for([&] { return rec.samples() >= 20; })) << "no samples of the workload";
  // Renamed over its path while it runs: at stop the path names the test binary.
  fs::rename(tmp / "replacement", path);
  std::uint64_t before = rec.samples();
  ASSERT_TRUE(wait_for([&] { return rec.samples() >= before + 20; }));
  w.stop();
  EXPECT_EQ(w.wait(), 0);
  Status stopped = rec.exporter->stop_and_export();
  ASSERT_TRUE(stopped.ok()) << stopped.to_string();

  expect_named_as_the_program_that_ran(*rec.exporter, static_cast<std::uint32_t>(w.pid()), path);
  for (const auto& n : rec.session->notes()) std::printf("note: %s\n", n.c_str());
}

TEST(HeldFileSymbols, ProcessInItsOwnMountNamespaceThatExitedBeforeStop) {
  OC_REQUIRE_ROOT();
  testing::TempDir tmp("oc_held_mountns");
  fs::create_directories(tmp / "private");
  // Only inside the child's mount namespace does this file exist.
  std::string path = (tmp / "private" / "held_file_workload").string();
  Workload::Namespace ns{(tmp / "private").string(), OC_HELD_FILE_WORKLOAD};
  Workload w({path, "self"}, &ns);
  ASSERT_GT(w.pid(), 0);
  if (!w.ready()) {
    int status = w.wait();
    OC_REQUIRE_FACILITY(false, "a private mount namespace with a tmpfs (child exit status " +
                                   std::to_string(WEXITSTATUS(status)) + ")");
  }
  Session rec({w.pid()});
  ASSERT_TRUE(rec.exporter->start_collection("held").ok());
  w.release();
  ASSERT_TRUE(wait_for([&] { return rec.samples() >= 40; })) << "no samples of the workload";
  w.stop();
  int status = w.wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0) << "120-125: namespace setup in the child failed";
  EXPECT_FALSE(fs::exists(path)) << "the host must not see the namespace's file";
  Status stopped = rec.exporter->stop_and_export();
  ASSERT_TRUE(stopped.ok()) << stopped.to_string();

  expect_named_as_the_program_that_ran(*rec.exporter, static_cast<std::uint32_t>(w.pid()), path);
}

TEST(HeldFileSymbols, LibraryMappedByTwoProcessesIsOpenedAndIndexedOnce) {
  OC_REQUIRE_ROOT();
  std::string lib = fs::canonical(OC_HELD_FILE_LIB).string();
  Workload a({OC_HELD_FILE_LIB_WORKLOAD, "lib"});
  Workload b({OC_HELD_FILE_LIB_WORKLOAD, "lib"});
  ASSERT_GT(a.pid(), 0);
  ASSERT_GT(b.pid(), 0);
  ASSERT_TRUE(a.ready());
  ASSERT_TRUE(b.ready());
  Session rec({a.pid(), b.pid()});
  ASSERT_TRUE(rec.exporter->start_collection("held").ok());
  a.release();
  b.release();
  ASSERT_TRUE(wait_for([&] { return rec.samples() >= 60; }));
  a.stop();
  b.stop();
  EXPECT_EQ(a.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  Status stopped = rec.exporter->stop_and_export();
  ASSERT_TRUE(stopped.ok()) << stopped.to_string();

  LinuxSymbolResolver* resolver = rec.resolver();
  ASSERT_NE(resolver, nullptr);
  ASSERT_NE(resolver->files(), nullptr);
  rec.exporter->machine().read([&](const ExportMachine& m) {
    std::uint64_t named = 0;
    std::vector<std::uint32_t> ids;
    for (pid_t pid : {a.pid(), b.pid()}) {
      NameCheck c = check_names(m, static_cast<std::uint32_t>(pid), lib, OC_HELD_FILE_LIB,
                                "oc_held_lib_spin");
      EXPECT_EQ(c.wrong, 0u);
      named += c.named_function;
      // Every mapping of the library in this process: one held file.
      const ExportProcess* p = m.find_process(static_cast<std::uint32_t>(pid));
      ASSERT_NE(p, nullptr);
      for (const ExportMapping& mapping : p->mappings()) {
        if (m.string(mapping.filename) == lib) ids.push_back(mapping.file);
      }
    }
    EXPECT_GE(named, 1u);
    ASSERT_FALSE(ids.empty());
    for (std::uint32_t id : ids) EXPECT_EQ(id, ids.front()) << "one held file for both processes";
    ASSERT_NE(ids.front(), 0u);
    auto file = resolver->files()->file(ids.front());
    ASSERT_NE(file, nullptr);
    EXPECT_TRUE(file->elf_parsed());  // parsed once (MappedFile::elf is once-only) ...
  });
  // ... and the symbol side reused that parse: one module for the library,
  // built from the held file's ElfFile, none opened by its path.
  const SymbolCache& cache = resolver->cache();
  std::size_t modules = 0;
  for (ModuleId id = 0; id < cache.module_count(); ++id) {
    const ModuleSymbols* mod = cache.module(id);
    if (mod == nullptr || mod->path != lib) continue;
    ++modules;
    EXPECT_TRUE(mod->from_parsed_elf);
  }
  EXPECT_EQ(modules, 1u);
  EXPECT_GE(resolver->files()->stats().files_shared, 1u);
  std::printf(
      "resolver: %llu held files indexed, %llu path loads; cache: %llu own parses, %llu "
      "reused, %llu debug files; table: %llu files opened, %llu ELF parses\n",
      static_cast<unsigned long long>(resolver->stats().held_files),
      static_cast<unsigned long long>(resolver->stats().path_loads),
      static_cast<unsigned long long>(cache.stats().elf_parses),
      static_cast<unsigned long long>(cache.stats().elf_reused),
      static_cast<unsigned long long>(cache.stats().debug_files),
      static_cast<unsigned long long>(resolver->files()->stats().files_opened),
      static_cast<unsigned long long>(resolver->files()->elf_parses()));
}

// The [vdso] is one of the process table's files too (its own copy of this
// kernel's image): the export mapping carries it, and clock reads name
// vdso functions instead of staying anonymous.
TEST(HeldFileSymbols, VdsoIsNamedThroughTheProcessTablesImage) {
  OC_REQUIRE_ROOT();
  Workload w({OC_HELD_FILE_WORKLOAD, "clock"});
  ASSERT_GT(w.pid(), 0);
  ASSERT_TRUE(w.ready());
  Session rec({w.pid()});
  ASSERT_TRUE(rec.exporter->start_collection("held").ok());
  w.release();
  ASSERT_TRUE(wait_for([&] { return rec.samples() >= 100; }));
  w.stop();
  EXPECT_EQ(w.wait(), 0);
  Status stopped = rec.exporter->stop_and_export();
  ASSERT_TRUE(stopped.ok()) << stopped.to_string();
  std::uint64_t in_vdso = 0, named = 0;
  rec.exporter->machine().read([&](const ExportMachine& m) {
    for (const ExportSample& s : m.samples()) {
      if (s.pid != static_cast<std::uint32_t>(w.pid()) || s.leaf_ip == 0) continue;
      const ExportMapping* mapping = nullptr;
      const ExportSymbol* sym = m.find_symbol(s.pid, s.leaf_ip, s.time, &mapping);
      if (mapping == nullptr || m.string(mapping->filename) != "[vdso]") continue;
      ++in_vdso;
      EXPECT_FALSE(mapping->anon);
      EXPECT_NE(mapping->file, 0u);
      if (sym != nullptr) {
        ++named;
        std::string_view name = m.string(sym->name);
        EXPECT_TRUE(name.find("clock_gettime") != name.npos || name.find("vdso") != name.npos)
            << name;
      }
    }
  });
  if (in_vdso == 0) GTEST_SKIP() << "no sample landed in the [vdso] (clock reads take syscalls?)";
  EXPECT_GE(named, 1u) << in_vdso << " samples in the [vdso]";
}

}  // namespace
}  // namespace one_collect
