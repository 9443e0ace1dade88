#include "one_collect/unwind/dwarf_expr.h"

#include "one_collect/unwind/dwarf_cursor.h"

namespace one_collect::unwind {
namespace {

enum : std::uint8_t {
  kAddr = 0x03,
  kDeref = 0x06,
  kConst1u = 0x08,
  kConst1s = 0x09,
  kConst2u = 0x0a,
  kConst2s = 0x0b,
  kConst4u = 0x0c,
  kConst4s = 0x0d,
  kConst8u = 0x0e,
  kConst8s = 0x0f,
  kConstu = 0x10,
  kConsts = 0x11,
  kDup = 0x12,
  kDrop = 0x13,
  kOver = 0x14,
  kPick = 0x15,
  kSwap = 0x16,
  kRot = 0x17,
  kAbs = 0x19,
  kAnd = 0x1a,
  kDiv = 0x1b,
  kMinus = 0x1c,
  kMod = 0x1d,
  kMul = 0x1e,
  kNeg = 0x1f,
  kNot = 0x20,
  kOr = 0x21,
  kPlus = 0x22,
  kPlusUconst = 0x23,
  kShl = 0x24,
  kShr = 0x25,
  kShra = 0x26,
  kXor = 0x27,
  kBra = 0x28,
  kEq = 0x29,
  kGe = 0x2a,
  kGt = 0x2b,
  kLe = 0x2c,
  kLt = 0x2d,
  kNe = 0x2e,
  kSkip = 0x2f,
  kLit0 = 0x30,
  kLit31 = 0x4f,
  kBreg0 = 0x70,
  kBreg31 = 0x8f,
  kBregx = 0x92,
  kDerefSize = 0x94,
  kNop = 0x96,
};

constexpr int kStackSize = 64;
constexpr int kMaxSteps = 1024;

}  // namespace

std::optional<std::uint64_t> evaluate_expression(ByteSpan expr, const ExprRegisters& regs,
                                                 ExprReadFn read, void* read_ctx,
                                                 std::optional<std::uint64_t> initial) {
  std::uint64_t st[kStackSize];
  int sp = 0;
  if (initial) st[sp++] = *initial;
  DwarfCursor c(expr);
  auto push = [&](std::uint64_t v) {
    if (sp >= kStackSize) return false;
    st[sp++] = v;
    return true;
  };
  auto reg_value = [&](std::uint64_t r, std::uint64_t& out) {
    if (r >= 17 || regs.values == nullptr || (regs.valid & (1u << r)) == 0) return false;
    out = regs.values[r];
    return true;
  };
  for (int steps = 0; !c.at_end(); ++steps) {
    if (steps >= kMaxSteps) return std::nullopt;
    std::uint8_t op = c.u8();
    if (op >= kLit0 && op <= kLit31) {
      if (!push(op - kLit0)) return std::nullopt;
      continue;
    }
    if (op >= kBreg0 && op <= kBreg31) {
      std::int64_t off = c.sleb();
      std::uint64_t v;
      if (!c.ok() || !reg_value(op - kBreg0, v) || !push(v + static_cast<std::uint64_t>(off))) {
        return std::nullopt;
      }
      continue;
    }
    bool ok = true;
    switch (op) {
      case kNop:
        break;
      case kAddr:
        ok = push(c.u64());
        break;
      case kConst1u:
        ok = push(c.u8());
        break;
      case kConst1s:
        ok = push(static_cast<std::uint64_t>(static_cast<std::int64_t>(c.read<std::int8_t>())));
        break;
      case kConst2u:
        ok = push(c.u16());
        break;
      case kConst2s:
        ok = push(static_cast<std::uint64_t>(static_cast<std::int64_t>(c.read<std::int16_t>())));
        break;
      case kConst4u:
        ok = push(c.u32());
        break;
      case kConst4s:
        ok = push(static_cast<std::uint64_t>(static_cast<std::int64_t>(c.read<std::int32_t>())));
        break;
      case kConst8u:
      case kConst8s:
        ok = push(c.u64());
        break;
      case kConstu:
        ok = push(c.uleb());
        break;
      case kConsts:
        ok = push(static_cast<std::uint64_t>(c.sleb()));
        break;
      case kBregx: {
        std::uint64_t r = c.uleb();
        std::int64_t off = c.sleb();
        std::uint64_t v;
        ok = c.ok() && reg_value(r, v) && push(v + static_cast<std::uint64_t>(off));
        break;
      }
      case kDup:
        ok = sp >= 1 && push(st[sp - 1]);
        break;
      case kDrop:
        ok = sp >= 1;
        if (ok) --sp;
        break;
      case kOver:
        ok = sp >= 2 && push(st[sp - 2]);
        break;
      case kPick: {
        std::uint8_t i = c.u8();
        ok = i < sp && push(st[sp - 1 - i]);
        break;
      }
      case kSwap:
        ok = sp >= 2;
        if (ok) std::swap(st[sp - 1], st[sp - 2]);
        break;
      case kRot:
        ok = sp >= 3;
        if (ok) {
          std::uint64_t top = st[sp - 1];
          st[sp - 1] = st[sp - 2];
          st[sp - 2] = st[sp - 3];
          st[sp - 3] = top;
        }
        break;
      case kDeref:
      case kDerefSize: {
        std::uint8_t size = op == kDerefSize ? c.u8() : 8;
        ok = sp >= 1 && size >= 1 && size <= 8 && read != nullptr;
        std::uint64_t v = 0;
        if (ok) ok = read(read_ctx, st[sp - 1], &v);
        if (ok && size < 8) v &= (std::uint64_t{1} << (8 * size)) - 1;
        if (ok) st[sp - 1] = v;
        break;
      }
      case kAbs:
        ok = sp >= 1;
        if (ok && static_cast<std::int64_t>(st[sp - 1]) < 0) st[sp - 1] = 0 - st[sp - 1];
        break;
      case kNeg:
        ok = sp >= 1;
        if (ok) st[sp - 1] = 0 - st[sp - 1];
        break;
      case kNot:
        ok = sp >= 1;
        if (ok) st[sp - 1] = ~st[sp - 1];
        break;
      case kPlusUconst: {
        std::uint64_t v = c.uleb();
        ok = sp >= 1;
        if (ok) st[sp - 1] += v;
        break;
      }
      case kAnd:
      case kDiv:
      case kMinus:
      case kMod:
      case kMul:
      case kOr:
      case kPlus:
      case kShl:
      case kShr:
      case kShra:
      case kXor:
      case kEq:
      case kGe:
      case kGt:
      case kLe:
      case kLt:
      case kNe: {
        if (sp < 2) return std::nullopt;
        std::uint64_t b = st[--sp];
        std::uint64_t a = st[sp - 1];
        auto sa = static_cast<std::int64_t>(a);
        auto sb = static_cast<std::int64_t>(b);
        std::uint64_t r = 0;
        switch (op) {
          case kAnd:
            r = a & b;
            break;
          case kOr:
            r = a | b;
            break;
          case kXor:
            r = a ^ b;
            break;
          case kPlus:
            r = a + b;
            break;
          case kMinus:
            r = a - b;
            break;
          case kMul:
            r = a * b;
            break;
          case kDiv:
            if (b == 0 || (sa == INT64_MIN && sb == -1)) return std::nullopt;
            r = static_cast<std::uint64_t>(sa / sb);
            break;
          case kMod:
            if (b == 0) return std::nullopt;
            r = a % b;
            break;
          case kShl:
            r = b >= 64 ? 0 : a << b;
            break;
          case kShr:
            r = b >= 64 ? 0 : a >> b;
            break;
          case kShra:
            r = static_cast<std::uint64_t>(b >= 64 ? (sa < 0 ? -1 : 0) : sa >> b);
            break;
          case kEq:
            r = sa == sb;
            break;
          case kGe:
            r = sa >= sb;
            break;
          case kGt:
            r = sa > sb;
            break;
          case kLe:
            r = sa <= sb;
            break;
          case kLt:
            r = sa < sb;
            break;
          case kNe:
            r = sa != sb;
            break;
          default:
            break;
        }
        st[sp - 1] = r;
        break;
      }
      case kSkip:
      case kBra: {
        auto off = c.read<std::int16_t>();
        if (!c.ok()) return std::nullopt;
        bool take = true;
        if (op == kBra) {
          if (sp < 1) return std::nullopt;
          take = st[--sp] != 0;
        }
        if (take) {
          auto target = static_cast<std::int64_t>(c.pos()) + off;
          if (target < 0 || static_cast<std::uint64_t>(target) > expr.size()) return std::nullopt;
          c.seek(static_cast<std::size_t>(target));
        }
        break;
      }
      default:
        return std::nullopt;
    }
    if (!ok || !c.ok()) return std::nullopt;
  }
  if (!c.ok() || sp < 1) return std::nullopt;
  return st[sp - 1];
}

}  // namespace one_collect::unwind
