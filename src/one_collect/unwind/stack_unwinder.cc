#include "one_collect/unwind/stack_unwinder.h"

namespace one_collect::unwind {

std::string_view unwind_end_name(UnwindEnd end) {
  switch (end) {
    case UnwindEnd::kEndOfStack:
      return "end of stack";
    case UnwindEnd::kOutsideMappings:
      return "address outside known mappings";
    case UnwindEnd::kNoCfi:
      return "no CFI and no frame pointer";
    case UnwindEnd::kBadCfi:
      return "malformed or unsupported CFI";
    case UnwindEnd::kBadCfa:
      return "bad CFA";
    case UnwindEnd::kStackExhausted:
      return "out of copied stack";
    case UnwindEnd::kMaxDepth:
      return "max depth";
    case UnwindEnd::kJitNotFound:
      return "no caller found in anonymous code";
    case UnwindEnd::kNoRegisters:
      return "no registers";
  }
  return "unknown";
}

}  // namespace one_collect::unwind
