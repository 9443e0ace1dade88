// Live end-to-end unwinding: real programs sampled with perf_event_open
// (REGS_USER + STACK_USER), unwound by our unwinder, checked against the
// functions' address ranges (the binaries' own .symtab) and against an
// independent unwinder (libunwind, remote mode) on the same stacks.
#include <elf.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "one_collect/binary/elf_file.h"
#include "one_collect/process/process_table.h"
#include "one_collect/testing/privileged.h"
#include "one_collect/unwind/callstack.h"
#include "one_collect/unwind/testing/libunwind_reference.h"
#include "one_collect/unwind/testing/stack_sampler.h"
#include "one_collect/unwind/unwinder.h"

namespace one_collect::unwind {
namespace {

using testing::Capture;
using testing::CaptureOptions;

// Function ranges of one binary, in process addresses.
struct Symbols {
  struct Fn {
    std::uint64_t lo, hi;
    std::string name;
  };
  std::vector<Fn> fns;  // sorted by lo

  const Fn* find(std::uint64_t addr) const {
    auto it = std::upper_bound(fns.begin(), fns.end(), addr,
                               [](std::uint64_t a, const Fn& f) { return a < f.lo; });
    if (it == fns.begin()) return nullptr;
    --it;
    return addr < it->hi ? &*it : nullptr;
  }
};

Symbols load_symbols(const std::string& path, std::int64_t bias) {
  Symbols out;
  auto elf = ElfFile::open(path);
  if (!elf.ok()) return out;
  auto symtab = elf->section(".symtab");
  if (!symtab.ok()) return out;
  const ElfSection* strtab = elf->section_at(symtab->link);
  if (strtab == nullptr) return out;
  for (std::size_t off = 0; off + sizeof(Elf64_Sym) <= symtab->data.size();
       off += sizeof(Elf64_Sym)) {
    auto sym = read_at<Elf64_Sym>(symtab->data, off);
    if (!sym || ELF64_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_size == 0 || sym->st_value == 0)
      continue;
    if (sym->st_name >= strtab->data.size()) continue;
    const char* name = reinterpret_cast<const char*>(strtab->data.data()) + sym->st_name;
    std::uint64_t lo = sym->st_value + static_cast<std::uint64_t>(bias);
    out.fns.push_back({lo, lo + sym->st_size, name});
  }
  std::sort(out.fns.begin(), out.fns.end(), [](auto& a, auto& b) { return a.lo < b.lo; });
  return out;
}

std::string program_path(const char* name) {
  const char* dir = OC_UNWIND_TESTPROG_DIR;
  return std::string(dir) + "/" + name;
}

struct Analysis {
  ProcessTable table;
  Capture capture;
  Symbols symbols;
  std::uint64_t exe_lo = 0, exe_hi = 0;
};

// Captures `program` and prepares tables and symbols.
void capture(const std::string& program, Analysis& a, std::size_t samples = 1500) {
  CaptureOptions opt;
  opt.argv = {program, "6"};
  opt.max_samples = samples;
  auto cap = testing::capture_program(opt);
  ASSERT_TRUE(cap.ok()) << cap.status().to_string();
  a.capture = std::move(cap).value();
  testing::load_mappings(a.capture, a.table);
  for (const auto& m : a.capture.mappings) {
    if (m.path == program && m.exec) {
      auto elf = ElfFile::open(program);
      ASSERT_TRUE(elf.ok());
      auto bias = elf->load_bias(m.start, m.pgoff);
      ASSERT_TRUE(bias.has_value());
      a.symbols = load_symbols(program, *bias);
      a.exe_lo = m.start;
      a.exe_hi = m.end;
    }
  }
  ASSERT_FALSE(a.symbols.fns.empty()) << "no symbols for " << program;
  ASSERT_GE(a.capture.samples.size(), 200u) << "too few samples";
}

UnwindInput input_of(const testing::CapturedSample& s) {
  UnwindInput in;
  in.rip = s.ip;
  in.rsp = s.rsp;
  in.rbp = s.rbp;
  in.stack = ByteSpan(s.stack.data(), s.stack.size());
  in.stack_base = s.rsp;
  return in;
}

std::vector<std::string> names_of(const Analysis& a, const std::uint64_t* frames, std::size_t n) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    const auto* fn = a.symbols.find(frames[i]);
    names.push_back(fn ? fn->name
                       : (frames[i] >= a.exe_lo && frames[i] < a.exe_hi ? "?exe" : "<lib>"));
  }
  return names;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " <- ") + x;
  return s;
}

// The C chain: the leaf's function, then its callers, exactly, up to main.
bool c_chain_ok(const std::vector<std::string>& names) {
  static const std::vector<std::string> expected = {"work_c", "work_b", "work_a", "main"};
  if (names.empty()) return false;
  auto start = std::find(expected.begin(), expected.end(), names[0]);
  if (start == expected.end()) return false;
  std::size_t k = static_cast<std::size_t>(expected.end() - start);
  if (names.size() < k) return false;
  return std::equal(start, expected.end(), names.begin());
}

// The C++ chain: std:: code, the comparator or libraries (operator new,
// malloc) on top, then run_sort or run_map directly under main. A leaf in
// the PLT (no symbol: "?exe") is fine too: it unwinds by a CFA expression.
bool cpp_chain_ok(const std::vector<std::string>& names) {
  auto it = std::find(names.begin(), names.end(), "main");
  if (it == names.end() || it == names.begin()) return false;
  const std::string& caller = *(it - 1);
  if (caller != "_Z8run_sortj" && caller != "_Z7run_mapj") return false;
  for (auto f = names.begin(); f != it - 1; ++f) {
    bool ok = f->rfind("_ZSt", 0) == 0 || f->rfind("_ZNSt", 0) == 0 ||
              f->rfind("_ZN9__gnu_cxx", 0) == 0 || *f == "_Z14compare_valuesjj" || *f == "<lib>" ||
              (f == names.begin() && *f == "?exe");
    if (!ok) return false;
  }
  return true;
}

template <typename ChainOk>
void check_program(const char* name, ChainOk chain_ok, bool compare_with_libunwind = true) {
  OC_REQUIRE_ROOT();
  Analysis a;
  ASSERT_NO_FATAL_FAILURE(capture(program_path(name), a));
  Unwinder unwinder;
  testing::LibunwindReference reference;
  auto view = a.table.view(static_cast<std::uint32_t>(a.capture.pid), 1);
  std::uint64_t frames[256];
  std::size_t considered = 0, chain_good = 0, ended_clean = 0, compared = 0, equal = 0;
  std::map<std::string, int> ends;
  std::string first_bad, first_diff, first_unclean;
  for (const auto& s : a.capture.samples) {
    if (s.ip < a.exe_lo || s.ip >= a.exe_hi)
      continue;  // in a library leaf: checked below via libunwind
    ++considered;
    UnwindInput in = input_of(s);
    UnwindResult r = unwinder.unwind(view, in, frames);
    auto names = names_of(a, frames, r.count);
    ends[std::string(unwind_end_name(r.end))]++;
    if (chain_ok(names))
      ++chain_good;
    else if (first_bad.empty())
      first_bad = join(names) + " (" + std::string(unwind_end_name(r.end)) + ")";
    if (r.end == UnwindEnd::kEndOfStack) {
      ++ended_clean;
    } else if (first_unclean.empty()) {
      first_unclean = join(names) + " (" + std::string(unwind_end_name(r.end)) + ")";
    }
  }
  for (const auto& s : a.capture.samples) {
    if (!compare_with_libunwind) break;
    UnwindInput in = input_of(s);
    UnwindResult r = unwinder.unwind(view, in, frames);
    std::vector<std::uint64_t> ours(frames, frames + r.count);
    auto theirs = reference.unwind(view, in);
    ++compared;
    // A frame a signal interrupted is exact: ours records it one byte on
    // (the caller-frame lookup rule), libunwind as is.
    bool same = ours.size() == theirs.size();
    for (std::size_t i = 0; same && i < ours.size(); ++i) {
      same = ours[i] == theirs[i] || (i > 0 && ours[i] == theirs[i] + 1);
    }
    if (same) {
      ++equal;
    } else if (first_diff.empty()) {
      first_diff = "ours: " + join(names_of(a, ours.data(), ours.size())) +
                   "\ntheirs: " + join(names_of(a, theirs.data(), theirs.size()));
    }
  }
  std::string end_summary;
  for (auto& [k, v] : ends) end_summary += k + "=" + std::to_string(v) + " ";
  std::printf(
      "%s: %zu samples in the binary, chain ok %zu, clean end %zu [%s]; equal to libunwind "
      "%zu/%zu; cache hit rate %.1f%%\n",
      name, considered, chain_good, ended_clean, end_summary.c_str(), equal, compared,
      100.0 * unwinder.cache_stats().hit_rate());
  if (!first_bad.empty()) std::printf("  first chain not as expected: %s\n", first_bad.c_str());
  if (!first_unclean.empty()) std::printf("  first unclean end: %s\n", first_unclean.c_str());
  ASSERT_GE(considered, 100u);
  EXPECT_GE(chain_good * 100, considered * 99) << "first bad: " << first_bad;
  EXPECT_GE(ended_clean * 100, considered * 99) << end_summary;
  EXPECT_GE(equal * 100, compared * 99) << first_diff;
}

TEST(UnwinderLive, CProgramWithoutFramePointers) { check_program("chain_nofp", c_chain_ok); }

// The glue-facing CallstackReader (DWARF mode) on real samples gives the
// unwinder's frames after the kernel part.
TEST(UnwinderLive, CallstackReaderDwarfModeOnRealSamples) {
  OC_REQUIRE_ROOT();
  Analysis a;
  ASSERT_NO_FATAL_FAILURE(capture(program_path("chain_nofp"), a, 300));
  CallstackReader reader(a.table, CallstackOptions{});
  Unwinder unwinder;
  auto view = a.table.view(static_cast<std::uint32_t>(a.capture.pid), 1);
  std::uint64_t kchain[] = {static_cast<std::uint64_t>(-128), 0xffffffff81001234ull};
  std::size_t same = 0;
  for (const auto& s : a.capture.samples) {
    std::uint64_t regs[3] = {s.rbp, s.rsp, s.ip};
    SampleStackInput in;
    in.pid = static_cast<std::uint32_t>(a.capture.pid);
    in.time = 1;
    in.ip = 0xffffffff81001234ull;
    in.callchain = kchain;
    in.regs_abi = 2;
    in.user_regs = regs;
    in.user_stack = ByteSpan(s.stack.data(), s.stack.size());
    std::uint64_t got[256], want[256];
    CallstackResult r = reader.read(in, got);
    UnwindResult u = unwinder.unwind(view, input_of(s), want);
    // The user ip below the kernel frame is exact: recorded one byte on.
    same += r.kernel_frames == 1 && got[0] == kchain[1] && r.count == u.count + 1 && u.count > 0 &&
            got[1] == want[0] + 1 && std::equal(want + 1, want + u.count, got + 2);
  }
  EXPECT_EQ(same, a.capture.samples.size());
}
TEST(UnwinderLive, CProgramWithFramePointers) { check_program("chain_fp", c_chain_ok); }
// spin_handler <- (signal frame, libc __restore_rt) <- libc raise ... <-
// interrupted <- main.
bool signal_chain_ok(const std::vector<std::string>& names) {
  if (names.size() >= 2 && names[0] == "interrupted" && names[1] == "main") return true;
  if (names.size() < 4 || names[0] != "spin_handler" || names[1] != "<lib>") return false;
  std::size_t i = 1;
  while (i < names.size() && names[i] == "<lib>") ++i;
  return i + 1 < names.size() && names[i] == "interrupted" && names[i + 1] == "main";
}

TEST(UnwinderLive, ThroughASignalFrame) { check_program("signal", signal_chain_ok); }

// Our functions' CFI is only in .debug_frame (built without unwind tables).
// The reference's table search reads .eh_frame_hdr only, so no comparison.
TEST(UnwinderLive, CProgramWithOnlyDebugFrame) {
  check_program("chain_debugframe", c_chain_ok, /*compare_with_libunwind=*/false);
}
TEST(UnwinderLive, CxxProgramUsingStdSortAndMap) { check_program("containers", cpp_chain_ok); }

// JIT code: node (V8) running hot JavaScript. Samples in anonymous (JIT)
// code must continue through it (frame-pointer chain or scan) to the end
// of the stack, and no frame may lie outside the known mappings.
TEST(UnwinderLive, NodeJitFramesContinueToTheEndOfTheStack) {
  OC_REQUIRE_ROOT();
  const char* node = "/usr/bin/node";
  OC_REQUIRE_FACILITY(::access(node, X_OK) == 0, "node is not installed");
  CaptureOptions opt;
  opt.argv = {node,
              "--perf-basic-prof",
              "--interpreted-frames-native-stack",
              "--no-turbo-inlining",
              "-e",
              "process.stdout.write('r');"
              "function hot(n){let s=0;for(let i=0;i<n;i++){s=(s*31+i)|0;}return s;}"
              "function mid(n){return hot(n)+1;}"
              "function outer(){let t=0;for(;;){t+=mid(100000);if(t===42)console.log(t);}}"
              "outer();"};
  opt.max_samples = 1500;
  auto cap = testing::capture_program(opt);
  ASSERT_TRUE(cap.ok()) << cap.status().to_string();
  ProcessTable table;
  testing::load_mappings(*cap, table);
  auto view = table.view(static_cast<std::uint32_t>(cap->pid), 1);
  // JS function names from the perf map node wrote (start size name).
  Symbols js;
  std::string map_path = "/tmp/perf-" + std::to_string(cap->pid) + ".map";
  if (FILE* f = std::fopen(map_path.c_str(), "r")) {
    char line[1024];
    while (std::fgets(line, sizeof line, f)) {
      unsigned long long start, size;
      char name[900];
      if (std::sscanf(line, "%llx %llx %899[^\n]", &start, &size, name) == 3) {
        js.fns.push_back({start, start + size, name});
      }
    }
    std::fclose(f);
    std::remove(map_path.c_str());
  }
  std::sort(js.fns.begin(), js.fns.end(), [](auto& a, auto& b) { return a.lo < b.lo; });
  ASSERT_FALSE(js.fns.empty()) << "node wrote no perf map";
  // The JS frames of a stack, as "hot"/"mid"/"outer" (others skipped).
  auto js_chain = [&](const std::uint64_t* f, std::size_t n) {
    std::vector<std::string> chain;
    for (std::size_t i = 0; i < n; ++i) {
      const auto* fn = js.find(f[i]);
      if (fn == nullptr) continue;
      for (const char* want : {"hot", "mid", "outer"}) {
        if (fn->name.find(std::string(" ") + want) != std::string::npos ||
            fn->name.find(std::string(":") + want) != std::string::npos ||
            fn->name.find(std::string("*") + want) != std::string::npos ||
            fn->name.find(std::string("~") + want) != std::string::npos) {
          chain.push_back(want);
        }
      }
    }
    return chain;
  };
  Unwinder unwinder;
  std::uint64_t frames[256];
  std::size_t jit = 0, complete = 0, through_jit = 0, outside = 0, in_hot = 0, js_ok = 0;
  std::string first_bad;
  std::map<std::string, int> ends;
  for (const auto& s : cap->samples) {
    const Mapping* m = view.find(s.ip);
    if (m == nullptr || !m->anonymous) continue;
    ++jit;
    UnwindResult r = unwinder.unwind(view, input_of(s), frames);
    ends[std::string(unwind_end_name(r.end))]++;
    if (r.end == UnwindEnd::kEndOfStack) ++complete;
    if (r.fp_frames + r.scan_frames > 0 && r.dwarf_frames > 0) ++through_jit;
    for (std::size_t i = 0; i < r.count; ++i) outside += view.find(frames[i]) == nullptr;
    auto chain = js_chain(frames, r.count);
    if (!chain.empty() && chain[0] == "hot") {
      ++in_hot;
      if (chain == std::vector<std::string>{"hot", "mid", "outer"})
        ++js_ok;
      else if (first_bad.empty())
        first_bad = join(chain);
    }
  }
  std::printf("node: %zu samples in hot(), %zu with the JS chain hot <- mid <- outer%s%s\n", in_hot,
              js_ok, first_bad.empty() ? "" : "; first other: ", first_bad.c_str());
  std::string end_summary;
  for (auto& [k, v] : ends) end_summary += k + "=" + std::to_string(v) + " ";
  std::printf(
      "node: %zu samples in JIT code, %zu unwound to the end of the stack, %zu went from JIT "
      "frames into CFI frames [%s]\n",
      jit, complete, through_jit, end_summary.c_str());
  ASSERT_GE(jit, 100u) << "too few samples in JIT code";
  EXPECT_EQ(outside, 0u);
  EXPECT_GE(complete * 100, jit * 95) << end_summary;
  EXPECT_GE(through_jit * 100, jit * 95);
  ASSERT_GE(in_hot, 50u);
  EXPECT_GE(js_ok * 100, in_hot * 99) << first_bad;
}

// JIT code: the JVM (C2-compiled Java without PreserveFramePointer, so rbp
// is not a frame pointer there and the scan heuristic is needed).
TEST(UnwinderLive, JvmJitFramesContinueWithoutLeavingKnownMappings) {
  OC_REQUIRE_ROOT();
  const char* java = "/usr/bin/java";
  std::string cls = std::string(OC_UNWIND_TESTPROG_DIR) + "/Hot.class";
  OC_REQUIRE_FACILITY(::access(java, X_OK) == 0 && ::access(cls.c_str(), R_OK) == 0,
                      "no JDK (java and javac) installed");
  CaptureOptions opt;
  opt.argv = {java,          "-Xss1m", "-XX:-PreserveFramePointer",
              "-XX:-Inline", "-cp",    OC_UNWIND_TESTPROG_DIR,
              "Hot"};
  opt.max_samples = 1500;
  opt.max_seconds = 15;
  auto cap = testing::capture_program(opt);
  ASSERT_TRUE(cap.ok()) << cap.status().to_string();
  ProcessTable table;
  testing::load_mappings(*cap, table);
  auto view = table.view(static_cast<std::uint32_t>(cap->pid), 1);
  Unwinder unwinder;
  std::uint64_t frames[256];
  std::size_t jit = 0, complete = 0, outside = 0, scanned = 0, multi = 0;
  std::map<std::string, int> ends;
  for (const auto& s : cap->samples) {
    const Mapping* m = view.find(s.ip);
    if (m == nullptr || !m->anonymous) continue;
    ++jit;
    UnwindResult r = unwinder.unwind(view, input_of(s), frames);
    ends[std::string(unwind_end_name(r.end))]++;
    if (r.end == UnwindEnd::kEndOfStack) ++complete;
    if (r.scan_frames > 0) ++scanned;
    if (r.count >= 3) ++multi;
    for (std::size_t i = 0; i < r.count; ++i) outside += view.find(frames[i]) == nullptr;
  }
  std::string end_summary;
  for (auto& [k, v] : ends) end_summary += k + "=" + std::to_string(v) + " ";
  std::printf(
      "jvm: %zu samples in JIT code, %zu unwound to the end of the stack, %zu used the scan, %zu "
      "with >= 3 frames [%s]\n",
      jit, complete, scanned, multi, end_summary.c_str());
  ASSERT_GE(jit, 100u) << "too few samples in JIT code";
  EXPECT_EQ(outside, 0u);
  EXPECT_GE(multi * 100, jit * 90) << end_summary;
}

}  // namespace
}  // namespace one_collect::unwind
