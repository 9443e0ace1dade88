// libFuzzer target for the tracefs/procfs text parsers: tracepoint format
// files (and the C declarations in them), /proc/PID/maps, the NSpid line,
// namespace links and cmdline splitting. The first byte picks the parser.
// Any crash, out-of-bounds read or hang is a bug; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "one_collect/linux/procfs.h"
#include "one_collect/linux/tracefs.h"

using namespace one_collect;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0: {
      auto tp = parse_tracepoint_format(text, "fuzz", "event");
      if (tp.ok()) {
        // Every field the parser accepted must be readable from any payload.
        for (std::uint32_t i = 0; i < tp->format.fields().size(); ++i) {
          (void)tp->format.get_data(EventFieldRef{i}, ByteSpan(data, size));
        }
      }
      break;
    }
    case 1:
      (void)split_field_declaration(text);
      break;
    case 2:
      (void)parse_maps(text);
      break;
    case 3:
      (void)parse_nspid(text);
      break;
    case 4:
      (void)parse_namespace_link(text);
      break;
    case 5: {
      (void)split_cmdline(text);
      (void)long_comm(text.substr(0, 15), text);
      break;
    }
  }
  return 0;
}
