// A DWARF expression evaluator for CFI rules (DW_CFA_def_cfa_expression,
// DW_CFA_expression, DW_CFA_val_expression).
//
// Covers what compilers emit in CFI: PLT entries (breg7/breg16, lit, and,
// ge, shl, plus), realigned stacks (breg6, deref), constants, arithmetic,
// comparisons, stack ops, and branches under a step limit so a looping
// expression ends. Fixed-size stack, no allocation.
#pragma once

#include <cstdint>
#include <optional>

#include "one_collect/core/bytes.h"

namespace one_collect::unwind {

struct ExprRegisters {
  const std::uint64_t* values = nullptr;  // indexed by DWARF register number, 17 entries
  std::uint32_t valid = 0;                // bit i set: values[i] is known
};

// Reads 8 bytes of the target's memory; false when unavailable.
using ExprReadFn = bool (*)(void* ctx, std::uint64_t addr, std::uint64_t* out);

// Evaluates `expr`. When `initial` is set it is pushed first (the CFA, for
// register rules). Returns the top of the stack, or nothing on any error
// (unknown opcode, unknown register, stack under/overflow, failed read,
// step limit).
std::optional<std::uint64_t> evaluate_expression(ByteSpan expr, const ExprRegisters& regs,
                                                 ExprReadFn read, void* read_ctx,
                                                 std::optional<std::uint64_t> initial);

}  // namespace one_collect::unwind
