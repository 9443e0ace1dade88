// The unwinder's three steps, each on its own: a CFI row applied to
// registers, one frame-pointer step, one JIT scan, on a synthetic stack.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "one_collect/unwind/cfi_step.h"
#include "one_collect/unwind/frame_pointer_step.h"
#include "one_collect/unwind/jit_scan_step.h"

namespace one_collect::unwind {
namespace {

constexpr std::uint64_t kBase = 0x7ff000;  // address of the stack copy's first byte
constexpr std::uint64_t kCode = 0x10000, kCodeEnd = 0x20000;

class OneMapping : public AddressSpace {
 public:
  OneMapping() {
    code_.start = kCode;
    code_.end = kCodeEnd;
    code_.anonymous = true;
    code_.executable = true;
  }
  const Mapping* find(std::uint64_t addr) const override {
    return code_.contains(addr) ? &code_ : nullptr;
  }

 private:
  Mapping code_;
};

struct Stack {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(0x200, 0);
  void put(std::uint64_t addr, std::uint64_t v) {
    std::memcpy(bytes.data() + (addr - kBase), &v, 8);
  }
  TargetMemory memory(const AddressSpace& space) const {
    return TargetMemory{ByteSpan(bytes.data(), bytes.size()), kBase, &space};
  }
};

Regs regs_at(std::uint64_t rip, std::uint64_t rsp, std::uint64_t rbp) {
  Regs r;
  r.set(reg::kRa, rip);
  r.set(reg::kRsp, rsp);
  r.set(reg::kRbp, rbp);
  return r;
}

TEST(UnwindSteps, CfiRowGivesTheCallersRegisters) {
  OneMapping space;
  Stack st;
  st.put(kBase + 0x10, 0x7ff0a0);       // saved rbp at CFA - 16
  st.put(kBase + 0x18, kCode + 0x400);  // return address at CFA - 8
  Row row;
  row.cfa = CfaRule{CfaKind::kRegOffset, static_cast<std::uint8_t>(reg::kRsp), 0, 0x20};
  row.rule(reg::kRa) = Rule{RuleKind::kOffset, 0, 0, -8};
  row.rule(reg::kRbp) = Rule{RuleKind::kOffset, 0, 0, -16};
  row.rule(reg::kRbx) = Rule{RuleKind::kUndefined, 0, 0, 0};
  Regs regs = regs_at(kCode + 0x100, kBase, 0x1234);
  regs.set(reg::kRbx, 7);
  Regs caller;
  UnwindEnd failure = UnwindEnd::kNoCfi;
  ASSERT_EQ(cfi_step(row, {}, regs, st.memory(space), caller, failure), CfiStep::kCaller);
  EXPECT_EQ(caller.v[reg::kRa], kCode + 0x400);
  EXPECT_EQ(caller.v[reg::kRbp], 0x7ff0a0u);
  EXPECT_EQ(caller.v[reg::kRsp], kBase + 0x20);
  EXPECT_FALSE(caller.has(reg::kRbx));

  // The return address past the copied stack: out of stack, no caller.
  row.cfa.value = 0x400;
  EXPECT_EQ(cfi_step(row, {}, regs, st.memory(space), caller, failure), CfiStep::kFailed);
  EXPECT_EQ(failure, UnwindEnd::kStackExhausted);

  // An undefined return address: the outermost frame.
  row.cfa.value = 0x20;
  row.rule(reg::kRa) = Rule{RuleKind::kUndefined, 0, 0, 0};
  EXPECT_EQ(cfi_step(row, {}, regs, st.memory(space), caller, failure), CfiStep::kOutermost);

  // A CFA register we do not know.
  row.cfa.reg = static_cast<std::uint8_t>(reg::kR12);
  EXPECT_EQ(cfi_step(row, {}, regs, st.memory(space), caller, failure), CfiStep::kFailed);
  EXPECT_EQ(failure, UnwindEnd::kBadCfa);
}

TEST(UnwindSteps, FramePointerStepFollowsRbpWithinTheCopy) {
  OneMapping space;
  Stack st;
  st.put(kBase + 0x40, kBase + 0x80);   // saved rbp
  st.put(kBase + 0x48, kCode + 0x200);  // return address
  Regs caller;
  UnwindEnd failure = UnwindEnd::kNoCfi;
  ASSERT_TRUE(frame_pointer_step(regs_at(kCode, kBase, kBase + 0x40), st.memory(space), space,
                                 caller, failure));
  EXPECT_EQ(caller.v[reg::kRa], kCode + 0x200);
  EXPECT_EQ(caller.v[reg::kRsp], kBase + 0x50);
  EXPECT_EQ(caller.v[reg::kRbp], kBase + 0x80);

  // rbp below rsp is not a frame pointer.
  EXPECT_FALSE(frame_pointer_step(regs_at(kCode, kBase + 0x60, kBase + 0x40), st.memory(space),
                                  space, caller, failure));
  EXPECT_EQ(failure, UnwindEnd::kNoCfi);
  // rbp past the copy: the copy was too small.
  EXPECT_FALSE(frame_pointer_step(regs_at(kCode, kBase, kBase + 0x1000), st.memory(space), space,
                                  caller, failure));
  EXPECT_EQ(failure, UnwindEnd::kStackExhausted);
  // ...unless CFI already said what went wrong.
  failure = UnwindEnd::kBadCfi;
  EXPECT_FALSE(frame_pointer_step(regs_at(kCode, kBase, kBase + 0x1000), st.memory(space), space,
                                  caller, failure));
  EXPECT_EQ(failure, UnwindEnd::kBadCfi);
}

TEST(UnwindSteps, JitScanFindsASavedFramePointerAndReturnAddress) {
  OneMapping space;
  Stack st;
  st.put(kBase + 0x00, 0x5);            // junk
  st.put(kBase + 0x08, 0x6);            // junk
  st.put(kBase + 0x20, kBase + 0x100);  // saved rbp pointing up the copy
  st.put(kBase + 0x28, kCode + 0x300);  // return address into code
  Regs caller;
  ASSERT_TRUE(jit_scan_step(regs_at(kCode, kBase, 0), st.memory(space), space, 64, caller));
  EXPECT_EQ(caller.v[reg::kRa], kCode + 0x300);
  EXPECT_EQ(caller.v[reg::kRsp], kBase + 0x30);
  EXPECT_EQ(caller.v[reg::kRbp], kBase + 0x100);
  // Too few slots to reach the pair.
  EXPECT_FALSE(jit_scan_step(regs_at(kCode, kBase, 0), st.memory(space), space, 4, caller));
}

}  // namespace
}  // namespace one_collect::unwind
