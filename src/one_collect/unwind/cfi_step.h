// One CFI step: a row's CFA and register rules applied to a frame.
// Internal header (unwind_steps.h).
#pragma once

#include "one_collect/unwind/dwarf_expr.h"
#include "one_collect/unwind/unwind_steps.h"

namespace one_collect::unwind {

enum class CfiStep : std::uint8_t {
  kCaller,     // `caller` holds the caller's registers
  kOutermost,  // the return address is undefined: this was the outermost frame
  kFailed,     // `failure` says why
};

// Applies `row` (whose expressions live in `section`) to `regs`: the CFA,
// then each tracked register's rule. On kCaller the caller's rsp is the CFA.
inline CfiStep cfi_step(const Row& row, ByteSpan section, const Regs& regs, const TargetMemory& mem,
                        Regs& caller, UnwindEnd& failure) {
  ExprRegisters eregs{regs.v, regs.valid};
  // CFA.
  std::uint64_t cfa = 0;
  if (row.cfa.kind == CfaKind::kRegOffset) {
    if (row.cfa.reg >= reg::kCount || !regs.has(row.cfa.reg)) {
      failure = UnwindEnd::kBadCfa;
      return CfiStep::kFailed;
    }
    cfa = regs.v[row.cfa.reg] + static_cast<std::int64_t>(row.cfa.value);
  } else {
    auto expr = slice(section, static_cast<std::size_t>(row.cfa.value), row.cfa.len);
    auto v = expr ? evaluate_expression(*expr, eregs, &TargetMemory::read_fn,
                                        const_cast<TargetMemory*>(&mem), std::nullopt)
                  : std::nullopt;
    if (!v) {
      failure = UnwindEnd::kBadCfi;
      return CfiStep::kFailed;
    }
    cfa = *v;
  }

  // The caller's registers, one rule each. Only a lost return address fails
  // the step; any other register the rules cannot recover becomes unknown.
  caller = regs;
  for (std::size_t i = 0; i < kTrackedRegs.size(); ++i) {
    const unsigned r = kTrackedRegs[i];
    const Rule& rule = row.rules[i];
    switch (rule.kind) {
      case RuleKind::kSameValue:
        break;
      case RuleKind::kUndefined:
        caller.clear(r);
        break;
      case RuleKind::kOffset: {
        std::uint64_t val;
        std::uint64_t addr = cfa + static_cast<std::int64_t>(rule.value);
        if (mem.any_u64(addr, val)) {
          caller.set(r, val);
        } else if (r == reg::kRa) {
          failure = mem.in_stack(addr, 1) || addr >= mem.base ? UnwindEnd::kStackExhausted
                                                              : UnwindEnd::kBadCfa;
          return CfiStep::kFailed;
        } else {
          caller.clear(r);
        }
        break;
      }
      case RuleKind::kValOffset:
        caller.set(r, cfa + static_cast<std::int64_t>(rule.value));
        break;
      case RuleKind::kRegister:
        if (rule.reg < reg::kCount && regs.has(rule.reg)) {
          caller.set(r, regs.v[rule.reg]);
        } else {
          caller.clear(r);
        }
        break;
      case RuleKind::kExpression:
      case RuleKind::kValExpression: {
        auto expr = slice(section, static_cast<std::size_t>(rule.value), rule.len);
        auto v = expr ? evaluate_expression(*expr, eregs, &TargetMemory::read_fn,
                                            const_cast<TargetMemory*>(&mem), cfa)
                      : std::nullopt;
        std::uint64_t val = 0;
        bool got = v.has_value();
        if (got && rule.kind == RuleKind::kExpression) {
          got = mem.any_u64(*v, val);
        } else if (got) {
          val = *v;
        }
        if (got) {
          caller.set(r, val);
        } else if (r == reg::kRa) {
          failure = UnwindEnd::kBadCfi;
          return CfiStep::kFailed;
        } else {
          caller.clear(r);
        }
        break;
      }
    }
  }
  if (!caller.has(reg::kRa)) return CfiStep::kOutermost;  // DW_CFA_undefined rip
  caller.set(reg::kRsp, cfa);
  return CfiStep::kCaller;
}

}  // namespace one_collect::unwind
