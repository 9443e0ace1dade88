#include "one_collect/linux/perf_record_parser.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "one_collect/linux/perf_ring.h"
#include "one_collect/testing/payload_builder.h"

namespace one_collect {
namespace {

using testing::PayloadBuilder;

constexpr std::uint64_t kBaseType =
    PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;

SampleLayout leader_layout() {
  SampleLayout l;
  l.sample_type = kBaseType;
  l.sample_id_all = true;
  l.finish();
  return l;
}

// Header + body + trailer (pid, tid, time, cpu, identifier).
std::vector<std::uint8_t> kernel_record(std::uint32_t type, std::uint16_t misc,
                                        const std::vector<std::uint8_t>& body, std::uint32_t pid,
                                        std::uint64_t time, std::uint32_t cpu, std::uint64_t id) {
  PayloadBuilder b;
  b.put<std::uint32_t>(type).put<std::uint16_t>(misc).put<std::uint16_t>(0);
  for (auto byte : body) b.put<std::uint8_t>(byte);
  b.put<std::uint32_t>(pid).put<std::uint32_t>(pid).put<std::uint64_t>(time);
  b.put<std::uint32_t>(cpu).put<std::uint32_t>(0).put<std::uint64_t>(id);
  std::vector<std::uint8_t> out = b.bytes();
  std::uint16_t size = static_cast<std::uint16_t>(out.size());
  std::memcpy(out.data() + 6, &size, 2);
  return out;
}

std::vector<std::uint8_t> padded_text(std::string_view s) {
  std::vector<std::uint8_t> v(s.begin(), s.end());
  v.push_back(0);
  while (v.size() % 8) v.push_back(0);
  return v;
}

void fix_size(std::vector<std::uint8_t>& r) {
  std::uint16_t size = static_cast<std::uint16_t>(r.size());
  std::memcpy(r.data() + 6, &size, 2);
}

TEST(PerfRecordParser, CommRecordReachesItsEventWithTrailerRefs) {
  PerfRecordParser parser;
  const SampleLayout* layout = parser.add_layout(leader_layout());
  parser.add_id(42, layout, nullptr, false);

  PayloadBuilder body;
  body.put<std::uint32_t>(100).put<std::uint32_t>(101);
  std::vector<std::uint8_t> b = body.bytes();
  auto name = padded_text("worker-thread");
  b.insert(b.end(), name.begin(), name.end());
  auto rec = kernel_record(PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC, b, 100, 5555, 1, 42);

  Event& comm = parser.kernel_events().comm;
  auto comm_ref = comm.format().get_field_ref("comm");
  auto tid_ref = comm.format().get_field_ref("tid");
  ASSERT_TRUE(comm_ref.ok());
  const PerfSessionRefs& refs = parser.refs();
  std::string seen;
  std::uint64_t time = 0, misc = 0;
  std::uint32_t cpu = 99, tid = 0;
  comm.add_callback([&](const EventData& d) -> Status {
    seen = std::string(d.format.get_str(*comm_ref, d.event_data).value());
    tid = d.format.get_u32(*tid_ref, d.event_data).value();
    time = refs.time.get_u64(d.full_data).value();
    cpu = refs.cpu.get_u32(d.full_data).value();
    misc = refs.misc.get_u16(d.full_data).value();
    EXPECT_FALSE(refs.callchain.present());
    return ok_status();
  });
  parser.parse(ByteSpan(rec), 0);
  EXPECT_EQ(seen, "worker-thread");
  EXPECT_EQ(tid, 101u);
  EXPECT_EQ(time, 5555u);
  EXPECT_EQ(cpu, 1u);
  EXPECT_EQ(misc, std::uint64_t{PERF_RECORD_MISC_COMM_EXEC});
  EXPECT_EQ(parser.stats().records, 1u);
  EXPECT_EQ(parser.stats().malformed, 0u);
}

TEST(PerfRecordParser, Mmap2BothFormsDecode) {
  PerfRecordParser parser;
  const SampleLayout* layout = parser.add_layout(leader_layout());
  parser.add_id(7, layout, nullptr, false);
  Event& mmap2 = parser.kernel_events().mmap2;
  auto file = mmap2.format().get_field_ref("filename").value();
  auto ino = mmap2.format().get_field_ref("ino").value();
  auto bid_size = mmap2.format().get_field_ref("build_id_size").value();
  auto bid = mmap2.format().get_field_ref("build_id").value();
  auto prot = mmap2.format().get_field_ref("prot").value();
  std::vector<std::string> names;
  std::vector<std::uint64_t> inodes;
  std::vector<std::string> build_ids;
  const PerfSessionRefs& refs = parser.refs();
  mmap2.add_callback([&](const EventData& d) -> Status {
    names.emplace_back(d.format.get_str(file, d.event_data).value());
    EXPECT_EQ(d.format.get_u32(prot, d.event_data).value(), 5u);
    std::uint16_t misc = refs.misc.get_u16(d.full_data).value();
    if (misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
      auto n = d.format.get_u8(bid_size, d.event_data).value();
      auto bytes = d.format.get_data(bid, d.event_data).value();
      build_ids.emplace_back(reinterpret_cast<const char*>(bytes.data()), n);
    } else {
      inodes.push_back(d.format.get_u64(ino, d.event_data).value());
    }
    return ok_status();
  });
  for (int form = 0; form < 2; ++form) {
    PayloadBuilder body;
    body.put<std::uint32_t>(9)
        .put<std::uint32_t>(9)
        .put<std::uint64_t>(0x400000)
        .put<std::uint64_t>(0x1000)
        .put<std::uint64_t>(0);
    if (form == 0) {
      body.put<std::uint32_t>(8).put<std::uint32_t>(1).put<std::uint64_t>(1234).put<std::uint64_t>(
          0);
    } else {
      body.put<std::uint8_t>(4).put<std::uint8_t>(0).put<std::uint16_t>(0);
      body.put<std::uint8_t>('a').put<std::uint8_t>('b').put<std::uint8_t>('c').put<std::uint8_t>(
          'd');
      body.pad_to(body.size() + 16);
    }
    body.put<std::uint32_t>(5).put<std::uint32_t>(2);
    std::vector<std::uint8_t> b = body.bytes();
    auto name = padded_text(form == 0 ? "/usr/lib/libc.so.6" : "/bin/my prog (deleted)");
    b.insert(b.end(), name.begin(), name.end());
    auto rec = kernel_record(
        PERF_RECORD_MMAP2,
        form == 0 ? PERF_RECORD_MISC_USER : PERF_RECORD_MISC_USER | PERF_RECORD_MISC_MMAP_BUILD_ID,
        b, 9, 10, 0, 7);
    parser.parse(ByteSpan(rec), 0);
  }
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "/usr/lib/libc.so.6");
  EXPECT_EQ(names[1], "/bin/my prog (deleted)");
  EXPECT_EQ(inodes, std::vector<std::uint64_t>{1234});
  EXPECT_EQ(build_ids, std::vector<std::string>{"abcd"});
}

TEST(PerfRecordParser, EveryRecordTypeHasAnEventAndCountsLoss) {
  PerfRecordParser parser;
  const SampleLayout* layout = parser.add_layout(leader_layout());
  parser.add_id(1, layout, nullptr, false);
  std::vector<std::string> seen;
  PerfKernelEvents& k = parser.kernel_events();
  for (Event* e :
       {&k.mmap, &k.mmap2, &k.comm, &k.exit, &k.fork, &k.lost, &k.lost_samples, &k.throttle,
        &k.unthrottle, &k.switch_task, &k.switch_cpu_wide, &k.ksymbol, &k.namespaces, &k.cgroup}) {
    e->add_callback([&seen, e](const EventData&) -> Status {
      seen.push_back(e->name());
      return ok_status();
    });
  }
  auto body = [](std::size_t n) { return std::vector<std::uint8_t>(n, 0); };
  std::vector<std::uint8_t> lost_body(16, 0);
  lost_body[8] = 5;  // lost = 5
  std::vector<std::uint8_t> lost_samples_body(8, 0);
  lost_samples_body[0] = 3;
  std::vector<std::vector<std::uint8_t>> recs = {
      kernel_record(PERF_RECORD_MMAP, 0, body(40), 1, 1, 0, 1),
      kernel_record(PERF_RECORD_MMAP2, 0, body(72), 1, 2, 0, 1),
      kernel_record(PERF_RECORD_COMM, 0, body(16), 1, 3, 0, 1),
      kernel_record(PERF_RECORD_EXIT, 0, body(24), 1, 4, 0, 1),
      kernel_record(PERF_RECORD_FORK, 0, body(24), 1, 5, 0, 1),
      kernel_record(PERF_RECORD_LOST, 0, lost_body, 1, 6, 1, 1),
      kernel_record(PERF_RECORD_LOST_SAMPLES, 0, lost_samples_body, 1, 7, 1, 1),
      kernel_record(PERF_RECORD_THROTTLE, 0, body(24), 1, 8, 0, 1),
      kernel_record(PERF_RECORD_UNTHROTTLE, 0, body(24), 1, 9, 0, 1),
      kernel_record(PERF_RECORD_SWITCH, PERF_RECORD_MISC_SWITCH_OUT, body(0), 1, 10, 0, 1),
      kernel_record(PERF_RECORD_SWITCH_CPU_WIDE, 0, body(8), 1, 11, 0, 1),
      kernel_record(PERF_RECORD_KSYMBOL, 0, body(24), 1, 12, 0, 1),
      kernel_record(PERF_RECORD_NAMESPACES, 0, body(16 + 7 * 16), 1, 13, 0, 1),
      kernel_record(PERF_RECORD_CGROUP, 0, body(16), 1, 14, 0, 1),
  };
  for (auto& r : recs) parser.parse(ByteSpan(r), 0);
  EXPECT_EQ(seen.size(), recs.size());
  EXPECT_EQ(parser.stats().malformed, 0u);
  EXPECT_EQ(parser.all_cpu_counters().at(1).lost, 5u);
  EXPECT_EQ(parser.all_cpu_counters().at(1).lost_samples, 3u);
}

// A sample with every field our sessions can ask for.
struct FullSample {
  SampleLayout layout;
  std::vector<std::uint8_t> bytes;
};

FullSample full_sample(std::uint64_t id) {
  FullSample s;
  s.layout.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
                         PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_ID |
                         PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD |
                         PERF_SAMPLE_READ | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW |
                         PERF_SAMPLE_BRANCH_STACK | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER |
                         PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_TRANSACTION |
                         PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_CGROUP;
  s.layout.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED;
  s.layout.regs_user_mask = 0b111;
  s.layout.sample_id_all = true;
  s.layout.finish();
  PayloadBuilder b;
  b.put<std::uint32_t>(PERF_RECORD_SAMPLE)
      .put<std::uint16_t>(PERF_RECORD_MISC_USER)
      .put<std::uint16_t>(0);
  b.put<std::uint64_t>(id);                           // IDENTIFIER
  b.put<std::uint64_t>(0x401000);                     // IP
  b.put<std::uint32_t>(300).put<std::uint32_t>(301);  // TID
  b.put<std::uint64_t>(777);                          // TIME
  b.put<std::uint64_t>(0xdead);                       // ADDR
  b.put<std::uint64_t>(id);                           // ID
  b.put<std::uint64_t>(id);                           // STREAM_ID
  b.put<std::uint32_t>(1).put<std::uint32_t>(0);      // CPU
  b.put<std::uint64_t>(250000);                       // PERIOD
  b.put<std::uint64_t>(2).put<std::uint64_t>(99);     // READ: nr, time_enabled
  b.put<std::uint64_t>(10).put<std::uint64_t>(1);     //   value, id
  b.put<std::uint64_t>(20).put<std::uint64_t>(2);
  b.put<std::uint64_t>(3);  // CALLCHAIN nr
  b.put<std::uint64_t>(PERF_CONTEXT_USER).put<std::uint64_t>(0x401000).put<std::uint64_t>(0x402000);
  b.put<std::uint32_t>(12);  // RAW size
  b.put<std::uint16_t>(321).put<std::uint16_t>(0).put<std::uint32_t>(0xabcd).put<std::uint32_t>(0);
  b.put<std::uint64_t>(1);  // BRANCH nr
  b.put<std::uint64_t>(1).put<std::uint64_t>(2).put<std::uint64_t>(3);
  b.put<std::uint64_t>(PERF_SAMPLE_REGS_ABI_64);  // REGS_USER
  b.put<std::uint64_t>(11).put<std::uint64_t>(12).put<std::uint64_t>(13);
  b.put<std::uint64_t>(16);  // STACK_USER size
  for (int i = 0; i < 16; ++i) b.put<std::uint8_t>(static_cast<std::uint8_t>(i));
  b.put<std::uint64_t>(8);   // dyn_size
  b.put<std::uint64_t>(55);  // WEIGHT
  b.put<std::uint64_t>(66);  // DATA_SRC
  b.put<std::uint64_t>(77);  // TRANSACTION
  b.put<std::uint64_t>(88);  // PHYS_ADDR
  b.put<std::uint64_t>(99);  // CGROUP
  s.bytes = b.bytes();
  fix_size(s.bytes);
  return s;
}

TEST(PerfRecordParser, SampleFieldsAllLandInTheirRefs) {
  PerfRecordParser parser;
  FullSample s = full_sample(5);
  const SampleLayout* layout = parser.add_layout(s.layout);
  Event event(1, "sample");
  parser.add_id(5, layout, &event, false);
  const PerfSessionRefs& r = parser.refs();
  int calls = 0;
  event.add_callback([&](const EventData& d) -> Status {
    ++calls;
    auto full = d.full_data;
    EXPECT_EQ(r.ip.get_u64(full).value(), 0x401000u);
    EXPECT_EQ(r.pid.get_u32(full).value(), 300u);
    EXPECT_EQ(r.tid.get_u32(full).value(), 301u);
    EXPECT_EQ(r.time.get_u64(full).value(), 777u);
    EXPECT_EQ(r.addr.get_u64(full).value(), 0xdeadu);
    EXPECT_EQ(r.stream_id.get_u64(full).value(), 5u);
    EXPECT_EQ(r.cpu.get_u32(full).value(), 1u);
    EXPECT_EQ(r.period.get_u64(full).value(), 250000u);
    EXPECT_EQ(r.read.length(), 8u * 6);
    EXPECT_EQ(r.callchain.length(), 24u);
    EXPECT_EQ(read_at<std::uint64_t>(full, r.callchain.start() + 16).value(), 0x402000u);
    EXPECT_EQ(r.raw.length(), 12u);
    EXPECT_EQ(r.raw.get_u16(full).value(), 321u);
    EXPECT_EQ(r.branch_stack.length(), 24u);
    EXPECT_EQ(r.regs_user_abi.get_u64(full).value(), std::uint64_t{PERF_SAMPLE_REGS_ABI_64});
    EXPECT_EQ(r.regs_user.length(), 24u);
    EXPECT_EQ(r.stack_user.length(), 8u);  // dyn_size, not the copy size
    EXPECT_EQ(r.weight.get_u64(full).value(), 55u);
    EXPECT_EQ(r.data_src.get_u64(full).value(), 66u);
    EXPECT_EQ(r.transaction.get_u64(full).value(), 77u);
    EXPECT_EQ(r.phys_addr.get_u64(full).value(), 88u);
    EXPECT_EQ(r.cgroup.get_u64(full).value(), 99u);
    EXPECT_EQ(d.event_data.size(), full.size() - 8);
    return ok_status();
  });
  parser.parse(ByteSpan(s.bytes), 0);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(parser.stats().malformed, 0u);
  EXPECT_EQ(parser.time_of(ByteSpan(s.bytes)).value(), 777u);
}

TEST(PerfRecordParser, RawPayloadIsEventDataForTracepoints) {
  PerfRecordParser parser;
  FullSample s = full_sample(9);
  const SampleLayout* layout = parser.add_layout(s.layout);
  Event tp(321, "sched:fake");
  ASSERT_TRUE(tp.format()
                  .add_field(EventField::create("common_type", "unsigned short", 0, 2).value())
                  .ok());
  ASSERT_TRUE(tp.format().add_field(EventField::create("value", "u32", 4, 4).value()).ok());
  parser.add_id(9, layout, &tp, true);
  std::uint32_t value = 0;
  tp.add_callback([&](const EventData& d) -> Status {
    EXPECT_EQ(d.event_data.size(), 12u);
    value = d.format.get_u32(d.format.get_field_ref("value").value(), d.event_data).value();
    return ok_status();
  });
  parser.parse(ByteSpan(s.bytes), 0);
  EXPECT_EQ(value, 0xabcdu);
}

TEST(PerfRecordParser, RefsOfAbsentFieldsAreReset) {
  PerfRecordParser parser;
  FullSample s = full_sample(5);
  const SampleLayout* full_layout = parser.add_layout(s.layout);
  const SampleLayout* leader = parser.add_layout(leader_layout());
  parser.set_default_layout(leader);
  Event event(1, "sample");
  parser.add_id(5, full_layout, &event, false);
  parser.add_id(6, leader, nullptr, false);
  parser.parse(ByteSpan(s.bytes), 0);
  EXPECT_TRUE(parser.refs().callchain.present());
  auto rec = kernel_record(PERF_RECORD_SWITCH, 0, {}, 1, 2, 0, 6);
  parser.parse(ByteSpan(rec), 0);
  EXPECT_FALSE(parser.refs().callchain.present());
  EXPECT_FALSE(parser.refs().ip.present());
  EXPECT_TRUE(parser.refs().time.present());
}

TEST(PerfRecordParser, MalformedRecordsAreCountedNeverRead) {
  PerfRecordParser parser;
  FullSample s = full_sample(5);
  const SampleLayout* layout = parser.add_layout(s.layout);
  Event event(1, "sample");
  int calls = 0;
  event.add_callback([&](const EventData&) -> Status {
    ++calls;
    return ok_status();
  });
  parser.add_id(5, layout, &event, false);
  // Every truncation of a valid sample (with its header size patched to
  // match) must be rejected without a callback.
  for (std::size_t n = 16; n < s.bytes.size(); n += 8) {
    std::vector<std::uint8_t> cut(s.bytes.begin(), s.bytes.begin() + n);
    fix_size(cut);
    parser.parse(ByteSpan(cut), 0);
  }
  EXPECT_EQ(calls, 0);
  EXPECT_GT(parser.stats().malformed, 0u);
  // A callchain claiming 2^60 entries.
  std::vector<std::uint8_t> huge = s.bytes;
  std::uint64_t nr = std::uint64_t{1} << 60;
  std::memcpy(huge.data() + 8 + 8 * 9 + 8 * 6, &nr, 8);
  parser.parse(ByteSpan(huge), 0);
  EXPECT_EQ(calls, 0);
  // A header size that disagrees with the span.
  std::vector<std::uint8_t> wrong = s.bytes;
  wrong[6] = 8;
  wrong[7] = 0;
  parser.parse(ByteSpan(wrong), 0);
  EXPECT_EQ(calls, 0);
  // An unknown id.
  std::vector<std::uint8_t> unknown = s.bytes;
  unknown[8] = 77;
  parser.parse(ByteSpan(unknown), 0);
  EXPECT_EQ(parser.stats().unknown_id, 1u);
  // The stream walk stops at a size of zero with an error, no endless loop.
  std::vector<std::uint8_t> stream = s.bytes;
  stream.insert(stream.end(), 16, 0);
  Status st = parser.parse_stream(ByteSpan(stream), 0);
  EXPECT_EQ(st.code(), ErrorCode::kMalformed);
  EXPECT_EQ(calls, 1);
}

TEST(PerfRing, CuttingTheStackKeepsTheRestOfTheSample) {
  FullSample s = full_sample(5);
  auto section = find_stack_section(ByteSpan(s.bytes), s.layout);
  ASSERT_TRUE(section.has_value());
  EXPECT_EQ(section->length, 8u + 16 + 8);
  std::vector<std::uint8_t> out;
  ASSERT_TRUE(append_without_stack(ByteSpan(s.bytes), s.layout, out));
  EXPECT_EQ(out.size(), s.bytes.size() - 24);
  PerfRecordParser parser;
  const SampleLayout* layout = parser.add_layout(s.layout);
  Event event(1, "sample");
  bool ok = false;
  event.add_callback([&](const EventData& d) -> Status {
    ok = !parser.refs().stack_user.present() &&
         parser.refs().weight.get_u64(d.full_data).value() == 55u &&
         parser.refs().cgroup.get_u64(d.full_data).value() == 99u;
    return ok_status();
  });
  parser.add_id(5, layout, &event, false);
  parser.parse(ByteSpan(out), 0);
  EXPECT_TRUE(ok);
  EXPECT_EQ(parser.stats().malformed, 0u);
}

TEST(PerfRing, TrimmingTheStackKeepsItsFilledBytesAndTheRest) {
  FullSample s = full_sample(5);  // a 16-byte stack copy of which 8 were filled
  auto section = find_stack_section(ByteSpan(s.bytes), s.layout);
  ASSERT_TRUE(section.has_value());
  std::vector<std::uint8_t> filled(s.bytes.begin() + section->offset + 8,
                                   s.bytes.begin() + section->offset + 16);
  std::vector<std::uint8_t> out{0xAA};  // appends after what is there
  ASSERT_TRUE(append_with_trimmed_stack(ByteSpan(s.bytes), s.layout, out));
  ASSERT_EQ(out.size(), 1 + s.bytes.size() - 8);
  EXPECT_EQ(out[0], 0xAA);
  ByteSpan trimmed(out.data() + 1, out.size() - 1);
  std::uint16_t header_size = 0;
  std::memcpy(&header_size, trimmed.data() + 6, 2);
  EXPECT_EQ(header_size, trimmed.size());

  PerfRecordParser parser;
  const SampleLayout* layout = parser.add_layout(s.layout);
  Event event(1, "sample");
  bool ok = false;
  event.add_callback([&](const EventData& d) -> Status {
    auto stack = parser.refs().stack_user.get_data(d.full_data);
    ok = stack.ok() && std::vector<std::uint8_t>(stack->begin(), stack->end()) == filled &&
         parser.refs().weight.get_u64(d.full_data).value() == 55u &&
         parser.refs().cgroup.get_u64(d.full_data).value() == 99u;
    return ok_status();
  });
  parser.add_id(5, layout, &event, false);
  parser.parse(trimmed, 0);
  EXPECT_TRUE(ok);
  EXPECT_EQ(parser.stats().malformed, 0u);

  // A full copy (dyn_size = size: the stack may have been cut) stays whole.
  std::vector<std::uint8_t> full = s.bytes;
  std::uint64_t dyn = 16;
  std::memcpy(full.data() + section->offset + 8 + 16, &dyn, 8);
  std::vector<std::uint8_t> none;
  EXPECT_FALSE(append_with_trimmed_stack(ByteSpan(full), s.layout, none));
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace one_collect
