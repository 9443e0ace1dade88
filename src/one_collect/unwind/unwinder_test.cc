// The unwinder's non-DWARF paths on synthetic address spaces and stacks:
// frame-pointer chains through anonymous (JIT) code, the scan heuristic,
// never emitting a frame outside known mappings, and every end reason.
#include "one_collect/unwind/unwinder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "one_collect/unwind/callstack.h"

namespace one_collect::unwind {
namespace {

class FakeSpace : public AddressSpace {
 public:
  void add_anon(std::uint64_t start, std::uint64_t end) {
    Mapping m;
    m.start = start;
    m.end = end;
    m.anonymous = true;
    maps_.push_back(m);
  }
  const Mapping* find(std::uint64_t addr) const override {
    for (const auto& m : maps_)
      if (m.contains(addr)) return &m;
    return nullptr;
  }

 private:
  std::vector<Mapping> maps_;
};

// A fake stack at kBase of kSize bytes.
constexpr std::uint64_t kBase = 0x7ff000;
constexpr std::size_t kSize = 0x400;

struct FakeStack {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(kSize, 0);
  void put(std::uint64_t addr, std::uint64_t v) {
    std::memcpy(bytes.data() + (addr - kBase), &v, 8);
  }
  UnwindInput input(std::uint64_t rip, std::uint64_t rbp) const {
    return UnwindInput{rip, kBase, rbp, ByteSpan(bytes.data(), bytes.size()), kBase};
  }
};

constexpr std::uint64_t kJit = 0x10000, kJitEnd = 0x20000;

TEST(Unwinder, FramePointerChainThroughAnonymousCode) {
  FakeSpace space;
  space.add_anon(kJit, kJitEnd);
  FakeStack st;
  st.put(kBase + 0x20, kBase + 0x40);  // saved rbp
  st.put(kBase + 0x28, kJit + 0x100);  // return address
  st.put(kBase + 0x40, kBase + 0x80);
  st.put(kBase + 0x48, kJit + 0x200);
  st.put(kBase + 0x80, 0);  // outermost frame: rbp 0
  st.put(kBase + 0x88, kJit + 0x300);
  Unwinder u;
  std::uint64_t frames[16];
  UnwindResult r = u.unwind(space, st.input(kJit + 0x10, kBase + 0x20), frames);
  ASSERT_EQ(r.count, 4u);
  EXPECT_EQ(frames[0], kJit + 0x10);
  EXPECT_EQ(frames[1], kJit + 0x100);
  EXPECT_EQ(frames[2], kJit + 0x200);
  EXPECT_EQ(frames[3], kJit + 0x300);
  EXPECT_EQ(r.fp_frames, 3);
  EXPECT_EQ(r.end, UnwindEnd::kJitNotFound);
}

TEST(Unwinder, ScanFindsSavedFramePointerAndReturnAddress) {
  FakeSpace space;
  space.add_anon(kJit, kJitEnd);
  FakeStack st;
  // rbp is garbage (JIT code using it as a scratch register); the stack has
  // a few spilled values, then a saved-rbp/return-address pair at +0x18.
  st.put(kBase + 0x00, 0x1234);
  st.put(kBase + 0x08, kBase + 0x8);    // points into the stack but not above its slot
  st.put(kBase + 0x10, 0xdeadbeef);     // not code
  st.put(kBase + 0x18, kBase + 0x100);  // candidate frame pointer
  st.put(kBase + 0x20, kJit + 0x500);   // candidate return address
  Unwinder u;
  std::uint64_t frames[4];
  UnwindResult r = u.unwind(space, st.input(kJit + 0x10, 0x5), frames);
  ASSERT_GE(r.count, 2u);
  EXPECT_EQ(frames[1], kJit + 0x500);
  EXPECT_EQ(r.scan_frames, 1);
}

TEST(Unwinder, NeverEmitsAFrameOutsideKnownMappings) {
  FakeSpace space;
  space.add_anon(kJit, kJitEnd);
  FakeStack st;
  st.put(kBase + 0x20, kBase + 0x40);
  st.put(kBase + 0x28, 0xdead0000);  // not mapped: not a return address we may emit
  Unwinder u;
  std::uint64_t frames[8];
  UnwindResult r = u.unwind(space, st.input(kJit + 0x10, kBase + 0x20), frames);
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(r.end, UnwindEnd::kJitNotFound);
  for (std::size_t i = 0; i < r.count; ++i) EXPECT_NE(space.find(frames[i]), nullptr);
}

TEST(Unwinder, EndReasons) {
  FakeSpace space;
  space.add_anon(kJit, kJitEnd);
  Unwinder u(UnwinderOptions{256, false, 64});
  std::uint64_t frames[300];
  FakeStack st;
  // The sampled ip outside every mapping: one frame (it is a fact), then stop.
  UnwindResult r = u.unwind(space, st.input(0x999, kBase), frames);
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(r.end, UnwindEnd::kOutsideMappings);
  // No registers.
  r = u.unwind(space, UnwindInput{}, frames);
  EXPECT_EQ(r.end, UnwindEnd::kNoRegisters);
  // The frame pointer points past the copied stack.
  r = u.unwind(space, st.input(kJit, kBase + kSize + 0x100), frames);
  EXPECT_EQ(r.end, UnwindEnd::kStackExhausted);
  // A long frame-pointer chain stops at max depth.
  FakeStack deep;
  for (std::uint64_t a = kBase; a + 16 <= kBase + kSize; a += 16) {
    deep.put(a, a + 16 < kBase + kSize ? a + 16 : 0);
    deep.put(a + 8, kJit + a - kBase);
  }
  Unwinder limited(UnwinderOptions{10, false, 64});
  r = limited.unwind(space, deep.input(kJit, kBase), frames);
  EXPECT_EQ(r.count, 10u);
  EXPECT_EQ(r.end, UnwindEnd::kMaxDepth);
}

TEST(Callstack, ModesAndPerfRequests) {
  CallstackOptions o;
  EXPECT_EQ(o.mode, CallstackMode::kDwarf);  // the default on x86-64
  EXPECT_TRUE(validate(o).ok());
  PerfSampleRequest r = perf_request(o);
  EXPECT_EQ(r.sample_regs_user, 0x1c0u);
  EXPECT_EQ(r.sample_stack_user, 16384u);
  EXPECT_TRUE(r.exclude_callchain_user);
  o.stack_size = 100;  // not a multiple of 8
  EXPECT_FALSE(validate(o).ok());
  o.stack_size = 70000;
  EXPECT_EQ(validate(o).code(), ErrorCode::kInvalidArgument);

  ProcessTable table;
  std::uint64_t chain[] = {static_cast<std::uint64_t>(-128),
                           0xffffffff81000010ull,
                           0xffffffff81000020ull,
                           static_cast<std::uint64_t>(-512),
                           0x401000,
                           0x401100};
  SampleStackInput in;
  in.ip = 0xffffffff81000010ull;
  in.callchain = chain;
  std::uint64_t frames[16];

  CallstackReader ip(table, CallstackOptions{CallstackMode::kNone, 8192, 64});
  auto res = ip.read(in, frames);
  ASSERT_EQ(res.count, 1u);
  EXPECT_EQ(frames[0], in.ip);
  CallstackReader fp(table, CallstackOptions{CallstackMode::kFramePointer, 8192, 64});
  res = fp.read(in, frames);
  ASSERT_EQ(res.count, 4u);  // markers skipped, user part of the kernel chain kept
  EXPECT_EQ(res.kernel_frames, 2u);
  // The user ip where the thread entered the kernel is exact: one byte on.
  EXPECT_EQ(frames[2], 0x401001u);
  EXPECT_EQ(frames[3], 0x401100u);
  // DWARF mode with a kernel-only chain and user registers, for a pid we
  // know nothing about: kernel frames, then the user ip, then a clean stop.
  std::uint64_t kchain[] = {static_cast<std::uint64_t>(-128), 0xffffffff81000010ull};
  std::uint64_t regs[] = {0x7ff100, 0x7ff000, 0x401234};
  std::uint8_t stack[64] = {};
  in.callchain = kchain;
  in.regs_abi = 2;  // PERF_SAMPLE_REGS_ABI_64
  in.user_regs = regs;
  in.user_stack = ByteSpan(stack, sizeof stack);
  CallstackReader dw(table, CallstackOptions{});
  res = dw.read(in, frames);
  ASSERT_EQ(res.count, 2u);
  EXPECT_EQ(res.kernel_frames, 1u);
  EXPECT_TRUE(res.user_unwound);
  EXPECT_EQ(frames[1], 0x401235u);  // exact, below kernel frames: one byte on
  EXPECT_EQ(res.user.end, UnwindEnd::kOutsideMappings);
}

}  // namespace
}  // namespace one_collect::unwind
