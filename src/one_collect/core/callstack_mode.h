// CallstackMode: how samples get their stacks. The one such enum of the
// library: ExportSettings, the unwind CallstackReader, LinuxExportSession and
// record-trace's --callstacks all use it.
#pragma once

#include <cstdint>
#include <string_view>

namespace one_collect {

enum class CallstackMode : std::uint8_t {
  kNone = 0,          // no stack: the sampled ip only
  kFramePointer = 1,  // the kernel's callchain (kernel + user frame-pointer walk)
  kDwarf = 2,         // the kernel callchain for the kernel part; user registers plus a copy
                      // of the user stack, unwound with CFI (frame pointers, JIT scan as
                      // fallbacks). x86-64 only.
};

constexpr std::string_view callstack_mode_name(CallstackMode mode) {
  switch (mode) {
    case CallstackMode::kNone:
      return "none";
    case CallstackMode::kFramePointer:
      return "frame_pointer";
    case CallstackMode::kDwarf:
      return "dwarf";
  }
  return "unknown";
}

}  // namespace one_collect
