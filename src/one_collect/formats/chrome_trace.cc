#include "one_collect/formats/chrome_trace.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "one_collect/export/export_graph.h"
#include "one_collect/formats/atomic_file.h"
#include "one_collect/formats/format_metadata.h"
#include "one_collect/formats/text_escape.h"

namespace one_collect {

namespace {

struct Slice {
  std::uint64_t time;
  std::uint64_t duration;  // 0: instant
  std::uint32_t sample;    // index in machine.samples()
  std::uint32_t node;
};

// An event line is formatted into a stack buffer and appended once: a
// million events made of a dozen small appends each spent most of their time
// in std::string bookkeeping.
class LineBuffer {
 public:
  void put(std::string_view text) {
    std::memcpy(p_, text.data(), text.size());
    p_ += text.size();
  }
  void put(char c) { *p_++ = c; }
  void put_decimal(std::uint64_t v) { p_ = std::to_chars(p_, end(), v).ptr; }
  // v / 1000 with three decimals (as append_fixed(out, v, 1000, 3)).
  void put_thousandths(std::uint64_t v) {
    put_decimal(v / 1000);
    std::uint64_t rest = v % 1000;
    p_[0] = '.';
    p_[1] = static_cast<char>('0' + rest / 100);
    p_[2] = static_cast<char>('0' + rest / 10 % 10);
    p_[3] = static_cast<char>('0' + rest % 10);
    p_ += 4;
  }
  void flush_to(std::string& out) {
    out.append(buf_, p_);
    p_ = buf_;
  }
  // Room left; callers put at most kMaxPiece bytes between flushes.
  static constexpr std::size_t kMaxPiece = 200;

 private:
  char* end() { return buf_ + sizeof(buf_); }
  char buf_[2 * kMaxPiece];
  char* p_ = buf_;
};

void build(const ExportMachine& machine, std::string& out, AtomicFile* file) {
  auto spill = [&] {
    if (file && out.size() > (1 << 16)) {
      file->write(out);
      out.clear();
    }
  };
  const auto& samples = machine.samples();
  const SampleKind cpu = *machine.find_sample_kind(kCpuKind);
  const SampleKind off_cpu = *machine.find_sample_kind(kOffCpuKind);
  std::uint64_t period = machine.metadata().sample_period_ns;
  if (period == 0) period = 1000000;

  ExportGraph graph(machine);
  // Time zero: the collection start, or the first sample when that is
  // earlier or unknown.
  std::uint64_t origin =
      machine.metadata().start_time ? machine.metadata().start_time : ~std::uint64_t{0};
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<Slice>> threads;
  for (std::uint32_t i = 0; i < samples.size(); ++i) {
    const ExportSample& s = samples[i];
    origin = std::min(origin, s.time);
    std::uint64_t duration = s.kind == cpu       ? std::max<std::uint64_t>(s.value, 1)
                             : s.kind == off_cpu ? std::max<std::uint64_t>(s.value, 1)
                                                 : 0;
    if (s.kind == cpu && s.value == 0) duration = period;
    threads[{s.pid, s.tid}].push_back(Slice{s.time, duration, i, graph.node_for(s)});
  }
  if (samples.empty()) origin = machine.metadata().start_time;
  if (origin == ~std::uint64_t{0}) origin = 0;

  out += "{\"displayTimeUnit\":\"ns\",\"otherData\":{";
  bool first = true;
  for (const auto& [key, value] : metadata_fields(machine)) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    append_json_string(out, value);
  }
  out += "},\"traceEvents\":[";
  first = true;
  auto begin_event = [&] {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('\n');
  };

  // Track names.
  std::set<std::uint32_t> named_pids;
  for (const auto& [key, slices] : threads) {
    const ExportProcess* p = machine.find_process(key.first);
    std::string_view comm = p ? machine.string(p->comm) : std::string_view();
    if (named_pids.insert(key.first).second) {
      begin_event();
      out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":";
      append_decimal(out, key.first);
      out += ",\"tid\":0,\"args\":{\"name\":";
      append_json_string(out, comm.empty() ? std::string_view("[unknown]") : comm);
      out += "}}";
    }
    begin_event();
    out += "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":";
    append_decimal(out, key.first);
    out += ",\"tid\":";
    append_decimal(out, key.second);
    out += ",\"args\":{\"name\":";
    append_json_string(out, std::string(comm) + " " + std::to_string(key.second));
    out += "}}";
  }

  // Leaf names, once per frame.
  const auto& nodes = graph.nodes();
  std::vector<std::string> frame_json(graph.frames().size());
  for (std::uint32_t f = 0; f < frame_json.size(); ++f) {
    append_json_string(frame_json[f], graph.frame_name(f));
  }

  // Escaped category names, once per kind.
  std::vector<std::string> category_json(machine.sample_kinds().size());
  for (std::size_t k = 0; k < category_json.size(); ++k) {
    append_json_string(category_json[k], machine.sample_kind_name(static_cast<SampleKind>(k)));
  }
  LineBuffer line;
  for (auto& [key, slices] : threads) {
    std::stable_sort(slices.begin(), slices.end(),
                     [](const Slice& a, const Slice& b) { return a.time < b.time; });
    std::string thread_json = ",\"pid\":";
    append_decimal(thread_json, key.first);
    thread_json += ",\"tid\":";
    append_decimal(thread_json, key.second);
    thread_json += ",\"ts\":";
    for (std::size_t i = 0; i < slices.size(); ++i) {
      const Slice& sl = slices[i];
      const ExportSample& s = samples[sl.sample];
      begin_event();
      out += sl.duration ? "{\"ph\":\"X\",\"cat\":" : "{\"ph\":\"i\",\"cat\":";
      if (s.kind < category_json.size()) {
        out += category_json[s.kind];
      } else {
        append_json_string(out, machine.sample_kind_name(s.kind));
      }
      out += ",\"name\":";
      if (s.kind == off_cpu) {
        out += "\"off-cpu\"";
      } else {
        out += frame_json[nodes[sl.node].frame];
      }
      out += thread_json;
      // Numbers only from here: at most ~120 bytes, within the buffer.
      line.put_thousandths(sl.time >= origin ? sl.time - origin : 0);
      if (sl.duration) {
        std::uint64_t d = sl.duration;
        if (i + 1 < slices.size() && slices[i + 1].time >= sl.time) {
          d = std::min(d, slices[i + 1].time - sl.time);
        }
        line.put(",\"dur\":");
        line.put_thousandths(d);
      } else {
        line.put(",\"s\":\"t\"");
      }
      line.put(",\"sf\":\"");
      line.put_decimal(sl.node);
      line.put("\",\"args\":{\"cpu\":");
      line.put_decimal(s.cpu);
      line.put(",\"value\":");
      line.put_decimal(machine.sample_magnitude(s));
      line.put("}}");
      line.flush_to(out);
      spill();
    }
  }
  out += "],\"stackFrames\":{";
  for (std::uint32_t n = 1; n < nodes.size(); ++n) {
    if (n > 1) out.push_back(',');
    out += "\n\"";
    append_decimal(out, n);
    out += "\":{\"name\":";
    out += frame_json[nodes[n].frame];
    if (nodes[n].parent != ExportGraph::kRoot) {
      out += ",\"parent\":\"";
      append_decimal(out, nodes[n].parent);
      out.push_back('"');
    }
    out.push_back('}');
    spill();
  }
  out += "}}\n";
}

}  // namespace

std::string chrome_trace_text(const ExportMachine& machine) {
  std::string out;
  build(machine, out, nullptr);
  return out;
}

Status write_chrome_trace(const ExportMachine& machine, const std::string& path) {
  AtomicFile file;
  OC_RETURN_IF_ERROR(file.open(path));
  std::string out;
  build(machine, out, &file);
  file.write(out);
  return file.commit();
}

}  // namespace one_collect
