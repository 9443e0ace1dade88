#include "one_collect/formats/format_metadata.h"

namespace one_collect {

std::vector<std::pair<std::string, std::string>> metadata_fields(const ExportMachine& machine) {
  const CollectionMetadata& md = machine.metadata();
  std::vector<std::pair<std::string, std::string>> out;
  auto text = [&](const char* key, const std::string& value) {
    if (!value.empty()) out.emplace_back(key, value);
  };
  auto number = [&](const char* key, std::uint64_t value) {
    if (value != 0) out.emplace_back(key, std::to_string(value));
  };
  text("host", md.host);
  text("kernel", md.kernel);
  text("command", md.command_line);
  number("cpus", md.cpu_count);
  number("start_unix_ns", md.start_unix_ns);
  number("duration_ns", md.duration_ns());
  number("sample_frequency_hz", md.sample_frequency_hz);
  number("sample_period_ns", md.sample_period_ns);
  for (const LostEvents& l : machine.lost()) {
    out.emplace_back("lost." + std::string(machine.sample_kind_name(l.kind)),
                     std::to_string(l.count));
  }
  out.emplace_back("lost.total", std::to_string(machine.total_lost()));
  return out;
}

}  // namespace one_collect
