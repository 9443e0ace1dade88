// libFuzzer target for the perf record parser: arbitrary bytes as records
// under an attribute layout also chosen by the input (perf_record_framing.h;
// seeds: real records from perf_record_corpus_writer). Exercises the sample
// walker, the kernel record events, the stream walk, the time merge and the
// stack cutter. Any out-of-bounds read, crash or hang is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "one_collect/linux/perf_record_parser.h"
#include "one_collect/linux/perf_ring.h"
#include "one_collect/linux/perf_time_merge.h"
#include "perf_record_framing.h"

using namespace one_collect;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < fuzz::kLayoutHeaderBytes) return 0;
  const SampleLayout layout = fuzz::decode_layout_header(data);
  data += fuzz::kLayoutHeaderBytes;
  size -= fuzz::kLayoutHeaderBytes;

  PerfRecordParser parser;
  const SampleLayout* l = parser.add_layout(layout);
  Event sample(1, "sample");
  Event raw(2, "raw");
  (void)raw.format().add_field(EventField::create("common_type", "unsigned short", 0, 2).value());
  const PerfSessionRefs& refs = parser.refs();
  auto touch = [&refs](const EventData& d) -> Status {
    // Read every ref so a bad window would be caught by the sanitizers.
    for (const DataFieldRef* r :
         {&refs.ip, &refs.time, &refs.callchain, &refs.raw, &refs.stack_user, &refs.regs_user,
          &refs.read, &refs.branch_stack, &refs.aux, &refs.cpu, &refs.pid}) {
      auto bytes = r->get_data(d.full_data);
      if (bytes.ok() && !bytes->empty()) {
        volatile std::uint8_t x = (*bytes)[bytes->size() - 1];
        (void)x;
      }
    }
    return ok_status();
  };
  sample.add_callback(touch);
  raw.add_callback([&](const EventData& d) -> Status {
    (void)d.format.get_u16(d.format.get_field_ref("common_type").value(), d.event_data);
    return touch(d);
  });
  for (Event* e :
       {&parser.kernel_events().comm, &parser.kernel_events().mmap2, &parser.kernel_events().mmap,
        &parser.kernel_events().ksymbol, &parser.kernel_events().cgroup}) {
    e->add_callback([](const EventData& d) -> Status {
      for (const EventField& f : d.format.fields()) {
        auto ref = d.format.get_field_ref(f.name);
        if (ref.ok()) (void)d.format.get_data(*ref, d.event_data);
      }
      return ok_status();
    });
  }
  parser.add_id(fuzz::kSampleId, l, &sample, false);
  parser.add_id(fuzz::kRawId, l, &raw, true);

  ByteSpan bytes(data, size);
  (void)parser.parse_stream(bytes, 0);

  // Same bytes through the merger as two CPUs' chunks.
  TimeOrderMerger merger(parser, [](RecordChunk&&) {});
  RecordChunk a, b;
  a.cpu = 0;
  b.cpu = 1;
  a.bytes.assign(data, data + size / 2);
  b.bytes.assign(data + size / 2, data + size);
  merger.add_chunk(std::move(a));
  merger.add_chunk(std::move(b));
  merger.emit_until(size);
  merger.emit_all();

  // The stack cutter and the stack trimmer on the whole input as one
  // sample; a trimmed sample must still parse as one record.
  std::vector<std::uint8_t> out;
  (void)append_without_stack(bytes, layout, out);
  out.clear();
  if (append_with_trimmed_stack(bytes, layout, out)) (void)parser.parse(ByteSpan(out), 0);
  return 0;
}
