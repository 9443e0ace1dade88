// perf_record_corpus_writer: the seed corpus of perf_record_fuzzer, made of
// real records. Run as root (perf_events, tracefs):
//
//   perf_record_corpus_writer fuzz/linux/corpus/perf_record_fuzzer
//
// A perf session records a short shell workload that burns CPU, forks,
// execs and sleeps: cpu-clock samples with callchains, user registers and a
// small user stack copy; sched:sched_switch with callchains; and the kernel
// records of the workload (mmap2, comm/exec, fork/exit, context switches).
// Callbacks copy each record as the session delivers it (time order).
//
// A file holds consecutive records under one attribute's layout, framed as
// the fuzzer reads them (perf_record_framing.h): that attribute's samples
// with the kernel records around them, or kernel records alone. The record
// ids are rewritten to the fuzzer's (kSampleId, kRawId) since the kernel's
// differ every run. Each file is parsed back the way the fuzzer parses it
// and must give back all its records, none malformed or of an unknown id.
// Files are small (a few KiB) so that libFuzzer's mutations stay fast; the
// files this program owns (its name prefixes) are replaced on each run.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "one_collect/linux/perf_session.h"
#include "one_collect/linux/tracefs.h"
#include "perf_record_framing.h"

using namespace one_collect;

namespace {

// Burns CPU in the shell and in a forked subshell, execs a few programs
// (mmap2 and comm/exec records) and sleeps (context switches).
constexpr const char* kWorkload =
    "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done; "
    "(j=0; while [ $j -lt 80000 ]; do j=$((j+1)); done) & "
    "ls -l /usr/bin > /dev/null; cat /proc/self/maps > /dev/null; sleep 0.02; "
    "find /usr/include -name '*.h' | head -n 2000 | wc -l > /dev/null; wait";

constexpr std::uint64_t kSampleHz = 2000;
constexpr std::uint32_t kUserStackBytes = 512;
constexpr std::size_t kFileBudgetBytes = 6 * 1024;

enum class Kind { kKernel, kCpuSample, kSwitchSample };

struct Captured {
  std::vector<std::uint8_t> bytes;
  Kind kind;
  const SampleLayout* layout;
};

// One family of corpus files: which records it keeps and under which layout.
struct Family {
  const char* prefix;
  Kind samples;  // kKernel: kernel records only
  std::uint64_t id;
  std::size_t max_files;
};

bool is_sample(const std::vector<std::uint8_t>& record) {
  std::uint32_t type;
  std::memcpy(&type, record.data(), 4);
  return type == PERF_RECORD_SAMPLE;
}

// IDENTIFIER is the first field of a sample and the last one of the
// sample_id_all trailer of any other record (base layout of every session
// event).
void set_identifier(std::vector<std::uint8_t>& record, std::uint64_t id) {
  const std::size_t at = is_sample(record) ? 8 : record.size() - 8;
  std::memcpy(record.data() + at, &id, 8);
}

// Parses a file as perf_record_fuzzer does; false (and why) when it would
// not give back `records` records of which `samples` samples.
bool parses_back(const std::vector<std::uint8_t>& file, std::size_t records, std::size_t samples) {
  PerfRecordParser parser;
  const SampleLayout* layout = parser.add_layout(fuzz::decode_layout_header(file.data()));
  Event sample(1, "sample");
  Event raw(2, "raw");
  std::size_t delivered = 0;
  sample.add_callback([&](const EventData&) -> Status {
    ++delivered;
    return ok_status();
  });
  raw.add_callback([&](const EventData&) -> Status {
    ++delivered;
    return ok_status();
  });
  parser.add_id(fuzz::kSampleId, layout, &sample, false);
  parser.add_id(fuzz::kRawId, layout, &raw, true);
  Status st = parser.parse_stream(ByteSpan(file).subspan(fuzz::kLayoutHeaderBytes), 0);
  const PerfParseStats& s = parser.stats();
  if (!st.ok() || s.records != records || s.samples != samples || delivered != samples ||
      s.malformed != 0 || s.unknown_id != 0) {
    std::fprintf(stderr,
                 "parse-back: %s; records %llu/%zu samples %llu/%zu delivered %zu "
                 "malformed %llu unknown id %llu\n",
                 st.ok() ? "ok" : st.to_string().c_str(),
                 static_cast<unsigned long long>(s.records), records,
                 static_cast<unsigned long long>(s.samples), samples, delivered,
                 static_cast<unsigned long long>(s.malformed),
                 static_cast<unsigned long long>(s.unknown_id));
    return false;
  }
  return true;
}

struct Chunk {
  std::vector<std::uint8_t> bytes;  // records only
  std::size_t records = 0;
  std::size_t samples = 0;
  bool rare = false;  // holds a record other than a sample or a switch
};

// Consecutive records of `family` cut into chunks of about kFileBudgetBytes.
// Switches and samples are the bulk of a recording, so at most max_files
// chunks are kept: first those holding a rarer record (mmap2, comm, fork,
// exit, lost, throttle...), then others evenly spread, in recording order.
std::vector<Chunk> chunks_of(const std::vector<Captured>& all, const Family& family,
                             const SampleLayout*& layout) {
  std::vector<Chunk> chunks(1);
  for (const Captured& c : all) {
    if (c.kind != Kind::kKernel && c.kind != family.samples) continue;
    if (c.kind != Kind::kKernel || family.samples == Kind::kKernel) layout = c.layout;
    Chunk* chunk = &chunks.back();
    if (chunk->records > 0 && chunk->bytes.size() + c.bytes.size() > kFileBudgetBytes) {
      chunk = &chunks.emplace_back();
    }
    std::vector<std::uint8_t> record = c.bytes;
    set_identifier(record, family.id);
    chunk->bytes.insert(chunk->bytes.end(), record.begin(), record.end());
    ++chunk->records;
    if (c.kind != Kind::kKernel) ++chunk->samples;
    std::uint32_t type;
    std::memcpy(&type, record.data(), 4);
    chunk->rare |= type != PERF_RECORD_SAMPLE && type != PERF_RECORD_SWITCH &&
                   type != PERF_RECORD_SWITCH_CPU_WIDE;
  }
  // Sample families: chunks without a sample say nothing new.
  if (family.samples != Kind::kKernel) {
    std::erase_if(chunks, [](const Chunk& c) { return c.samples == 0; });
  }
  std::vector<std::size_t> picked, others;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    (chunks[i].rare && picked.size() < family.max_files ? picked : others).push_back(i);
  }
  const std::size_t wanted = std::min(family.max_files - picked.size(), others.size());
  for (std::size_t k = 0; k < wanted; ++k) picked.push_back(others[k * others.size() / wanted]);
  std::sort(picked.begin(), picked.end());
  std::vector<Chunk> kept;
  for (std::size_t i : picked) kept.push_back(std::move(chunks[i]));
  return kept;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: perf_record_corpus_writer OUTPUT_DIR (as root)\n");
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];

  auto tracefs = Tracefs::open();
  if (!tracefs.ok()) {
    std::fprintf(stderr, "tracefs: %s\n", tracefs.status().to_string().c_str());
    return 1;
  }
  auto tp = tracefs->load_tracepoint("sched", "sched_switch");
  if (!tp.ok()) {
    std::fprintf(stderr, "sched:sched_switch: %s\n", tp.status().to_string().c_str());
    return 1;
  }
  Event switch_event(tp->id, "sched:sched_switch");
  switch_event.format() = tp->format;
  PerfEventSpec switch_spec = tracepoint_spec("sched:sched_switch", tp->id);
  StackOptions callchain_only;
  callchain_only.callchain = true;
  switch_spec.stacks = callchain_only;

  StackOptions stacks;
  stacks.callchain = true;
  stacks.user_regs = true;
  stacks.user_stack_bytes = kUserStackBytes;
  auto built =
      RingBufSessionBuilder()
          // A bare environment: stack copies hold no variable of ours.
          .with_command({"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "/bin/sh", "-c", kWorkload})
          .with_kernel_events()
          .with_stacks(stacks)
          .with_cpu_sampling(kSampleHz)
          .with_event(switch_spec, std::move(switch_event))
          .build();
  if (!built.ok()) {
    std::fprintf(stderr, "session: %s\n", built.status().to_string().c_str());
    return 1;
  }
  PerfSession& session = **built;

  std::vector<Captured> captured;
  auto capture = [&](Kind kind) {
    return [&captured, &session, kind](const EventData& d) -> Status {
      const SampleLayout* layout = session.parser().layout_of(d.full_data);
      if (layout == nullptr || !layout->has(PERF_SAMPLE_IDENTIFIER) || !layout->sample_id_all) {
        return error(ErrorCode::kInvalidArgument, "a record without IDENTIFIER");
      }
      captured.push_back(
          {std::vector<std::uint8_t>(d.full_data.begin(), d.full_data.end()), kind, layout});
      return ok_status();
    };
  };
  session.cpu_profile_event()->add_callback(capture(Kind::kCpuSample));
  session.find_event("sched:sched_switch")->add_callback(capture(Kind::kSwitchSample));
  PerfKernelEvents& k = session.kernel_events();
  for (Event* e : {&k.mmap, &k.mmap2, &k.comm, &k.exit, &k.fork, &k.lost, &k.lost_samples,
                   &k.throttle, &k.unthrottle, &k.switch_task, &k.switch_cpu_wide}) {
    e->add_callback(capture(Kind::kKernel));
  }

  if (Status s = session.enable(); !s.ok()) {
    std::fprintf(stderr, "enable: %s\n", s.to_string().c_str());
    return 1;
  }
  if (Status s = session.parse_all(); !s.ok()) {
    std::fprintf(stderr, "recording: %s\n", s.to_string().c_str());
    return 1;
  }
  (void)session.stop();
  if (session.errors().total() != 0) {
    std::fprintf(stderr, "%llu callback errors\n",
                 static_cast<unsigned long long>(session.errors().total()));
    return 1;
  }

  const Family families[] = {
      {"cpu_clock_", Kind::kCpuSample, fuzz::kSampleId, 12},
      {"sched_switch_", Kind::kSwitchSample, fuzz::kRawId, 8},
      {"kernel_", Kind::kKernel, fuzz::kSampleId, 4},
  };
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  for (const auto& entry : std::filesystem::directory_iterator(out_dir, ec)) {
    const std::string name = entry.path().filename().string();
    for (const Family& f : families) {
      if (name.starts_with(f.prefix)) std::filesystem::remove(entry.path(), ec);
    }
  }
  std::size_t files = 0, bytes = 0;
  for (const Family& family : families) {
    const SampleLayout* layout = nullptr;
    std::vector<Chunk> chunks = chunks_of(captured, family, layout);
    if (layout == nullptr || chunks.empty() || chunks[0].records == 0) {
      std::fprintf(stderr, "%s: no records (the workload did not run?)\n", family.prefix);
      return 1;
    }
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      std::vector<std::uint8_t> file(fuzz::kLayoutHeaderBytes);
      fuzz::encode_layout_header(*layout, file.data());
      file.insert(file.end(), chunks[i].bytes.begin(), chunks[i].bytes.end());
      if (!parses_back(file, chunks[i].records, chunks[i].samples)) return 1;
      char name[64];
      std::snprintf(name, sizeof(name), "%s%02zu", family.prefix, i);
      std::ofstream out(out_dir / name, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(file.data()),
                static_cast<std::streamsize>(file.size()));
      if (!out) {
        std::fprintf(stderr, "cannot write %s\n", (out_dir / name).c_str());
        return 1;
      }
      ++files;
      bytes += file.size();
    }
  }
  PerfSessionStats st = session.stats();
  std::printf("%zu records recorded (lost %llu); %zu files, %zu bytes in %s\n", captured.size(),
              static_cast<unsigned long long>(st.lost + st.lost_samples), files, bytes,
              out_dir.c_str());
  return 0;
}
