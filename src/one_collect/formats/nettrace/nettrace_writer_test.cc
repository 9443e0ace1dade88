// The writer checked by the independent reader: exact decoded values.
#include "one_collect/formats/nettrace/nettrace_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "one_collect/formats/nettrace/nettrace_reader.h"
#include "one_collect/formats/nettrace/universal_nettrace.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect::nettrace {
namespace {

using ntread::Trace;
using ntread::Value;

NetTraceOptions test_options() {
  NetTraceOptions o;
  // 2024-02-29T13:45:30.123Z, a Thursday.
  o.sync_time = SyncTime::from_unix_ns(1709214330123456789ULL);
  o.sync_ticks = 1000;
  o.tick_frequency = 1'000'000'000;
  o.key_values = {{"HardwareThreadCount", "8"}, {"LostEvents", "0"}};
  return o;
}

std::unique_ptr<NetTraceWriter> make(std::vector<std::uint8_t>& out,
                                     NetTraceOptions options = test_options()) {
  auto w = NetTraceWriter::create(std::make_unique<VectorSink>(out), std::move(options));
  EXPECT_TRUE(w.ok()) << w.status().to_string();
  return std::move(w).value();
}

Trace read_ok(const std::vector<std::uint8_t>& bytes) {
  auto t = ntread::read_nettrace(bytes);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return t.ok() ? std::move(t).value() : Trace{};
}

TEST(SyncTime, CalendarFromUnixNs) {
  SyncTime t = SyncTime::from_unix_ns(1709214330123456789ULL);
  EXPECT_EQ(t.year, 2024);
  EXPECT_EQ(t.month, 2);
  EXPECT_EQ(t.day, 29);
  EXPECT_EQ(t.day_of_week, 4);  // Thursday, Sunday = 0
  EXPECT_EQ(t.hour, 13);
  EXPECT_EQ(t.minute, 45);
  EXPECT_EQ(t.second, 30);
  EXPECT_EQ(t.millisecond, 123);
  SyncTime epoch = SyncTime::from_unix_ns(0);
  EXPECT_EQ(epoch.year, 1970);
  EXPECT_EQ(epoch.day_of_week, 4);
}

TEST(NetTraceWriter, EmptyTraceHasHeaderTraceBlockAndEnd) {
  std::vector<std::uint8_t> out;
  auto w = make(out);
  ASSERT_TRUE(w->finish().ok());
  ASSERT_GE(out.size(), 20u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 8), "Nettrace");
  Trace t = read_ok(out);
  EXPECT_EQ(t.major, 6u);
  EXPECT_EQ(t.minor, 0u);
  EXPECT_EQ(t.year, 2024);
  EXPECT_EQ(t.day_of_week, 4);
  EXPECT_EQ(t.millisecond, 123);
  EXPECT_EQ(t.sync_ticks, 1000);
  EXPECT_EQ(t.tick_frequency, 1'000'000'000);
  EXPECT_EQ(t.pointer_size, 8);
  EXPECT_EQ(t.key_value("HardwareThreadCount"), "8");
  EXPECT_EQ(t.key_value("LostEvents"), "0");
  EXPECT_TRUE(t.events.empty());
  EXPECT_EQ(t.block_counts[0], 1u);  // EndOfStream
  // The last 4 bytes are the EndOfStream header.
  EXPECT_EQ(std::vector<std::uint8_t>(out.end() - 4, out.end()),
            (std::vector<std::uint8_t>{0, 0, 0, 0}));
}

TEST(UniversalNetTrace, RoundTripsProcessesMappingsSymbolsAndSamples) {
  std::vector<std::uint8_t> out;
  auto u = UniversalNetTrace::create(make(out));
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  auto& nt = **u;
  ASSERT_TRUE(nt.existing_process(1000, 100, 7, "bash", "").ok());
  ASSERT_TRUE(nt.process_create(1500, 200, 200, "worker \"quoted\" ünïcode", "ns1").ok());
  ASSERT_TRUE(nt.mapping_metadata(1500, 200, 1, R"({"type":"ELF","build_id":"abcd"})", "{}").ok());
  ASSERT_TRUE(nt.mapping(1500, 200, 5, 0x400000, 0x401000, 0x1000, "/usr/bin/worker", 1).ok());
  ASSERT_TRUE(nt.symbol(1500, 200, 0, 5, 0x400100, 0x4001ff, "main").ok());
  auto cpu = nt.sample_kind("cpu");
  auto cswitch = nt.sample_kind("cswitch");
  ASSERT_TRUE(cpu.ok() && cswitch.ok());
  EXPECT_EQ(*nt.sample_kind("cpu"), *cpu);  // defined once
  std::vector<std::uint64_t> s1 = {0x400150, 0x400120, 0x7fff0000};
  std::vector<std::uint64_t> s2 = {0x400180};
  ASSERT_TRUE(nt.sample(*cpu, 2000, 200, 201, 3, 1, s1).ok());
  ASSERT_TRUE(nt.sample(*cpu, 2000, 200, 201, 3, 1, s1).ok());
  ASSERT_TRUE(nt.sample(*cpu, 2500, 200, 202, 1, 1, s2).ok());
  ASSERT_TRUE(nt.sample(*cswitch, 3000, 200, 201, 0, 12345, s2).ok());
  ASSERT_TRUE(nt.sample(*cpu, 3100, 100, 100, 2, 1, {}).ok());
  ASSERT_TRUE(nt.process_exit(4000, 200).ok());
  ASSERT_TRUE(nt.finish().ok());

  Trace t = read_ok(out);
  ASSERT_EQ(t.events.size(), 11u);
  ASSERT_EQ(t.metadata.size(), 8u);
  EXPECT_EQ(t.dropped_events, 0u);

  auto name = [&](const ntread::DecodedEvent& e) {
    return t.metadata_of(e).provider + "/" + t.metadata_of(e).name;
  };
  // Metadata: providers, event ids and declared field types.
  const auto& mapping_md = t.metadata[3];
  EXPECT_EQ(mapping_md.provider, "Universal.System");
  EXPECT_EQ(mapping_md.name, "ProcessMapping");
  EXPECT_EQ(mapping_md.event_id, 3u);
  ASSERT_EQ(mapping_md.fields.size(), 6u);
  EXPECT_EQ(mapping_md.fields[4].name, "FileName");
  EXPECT_EQ(mapping_md.fields[4].type.code, 19);                // Array
  EXPECT_EQ(mapping_md.fields[4].type.element.at(0).code, 23);  // of UTF8CodeUnit
  EXPECT_EQ(mapping_md.fields[5].type.code, 21);                // VarUInt
  EXPECT_EQ(t.metadata[4].name, "ProcessSymbol");
  EXPECT_EQ(t.metadata[4].event_id, 4u);
  EXPECT_EQ(t.metadata[5].name, "ProcessMappingMetadata");
  EXPECT_EQ(t.metadata[5].event_id, 5u);
  EXPECT_EQ(t.metadata[6].provider, "Universal.Events");
  EXPECT_EQ(t.metadata[6].name, "cpu");
  EXPECT_EQ(t.metadata[7].name, "cswitch");

  const auto& e0 = t.events[0];
  EXPECT_EQ(name(e0), "Universal.System/ExistingProcess");
  EXPECT_EQ(e0.pid, 100u);
  EXPECT_EQ(e0.timestamp, 1000u);
  EXPECT_EQ(e0.fields[0].u, 7u);
  EXPECT_EQ(e0.fields[1].s, "bash");
  EXPECT_EQ(e0.fields[2].s, "");

  const auto& e1 = t.events[1];
  EXPECT_EQ(name(e1), "Universal.System/ProcessCreate");
  EXPECT_EQ(e1.pid, 200u);
  EXPECT_EQ(e1.fields[1].s, "worker \"quoted\" ünïcode");
  EXPECT_EQ(e1.fields[2].s, "ns1");

  const auto& e2 = t.events[2];
  EXPECT_EQ(name(e2), "Universal.System/ProcessMappingMetadata");
  EXPECT_EQ(e2.fields[0].u, 1u);
  EXPECT_EQ(e2.fields[1].s, R"({"type":"ELF","build_id":"abcd"})");
  EXPECT_EQ(e2.fields[2].s, "{}");

  const auto& e3 = t.events[3];
  EXPECT_EQ(name(e3), "Universal.System/ProcessMapping");
  EXPECT_EQ(e3.fields[0].u, 5u);
  EXPECT_EQ(e3.fields[1].u, 0x400000u);
  EXPECT_EQ(e3.fields[2].u, 0x401000u);
  EXPECT_EQ(e3.fields[3].u, 0x1000u);
  EXPECT_EQ(e3.fields[4].s, "/usr/bin/worker");
  EXPECT_EQ(e3.fields[5].u, 1u);

  const auto& e4 = t.events[4];
  EXPECT_EQ(name(e4), "Universal.System/ProcessSymbol");
  EXPECT_EQ(e4.fields[0].u, 0u);
  EXPECT_EQ(e4.fields[1].u, 5u);
  EXPECT_EQ(e4.fields[2].u, 0x400100u);
  EXPECT_EQ(e4.fields[3].u, 0x4001ffu);
  EXPECT_EQ(e4.fields[4].s, "main");

  const auto& e5 = t.events[5];
  EXPECT_EQ(name(e5), "Universal.Events/cpu");
  EXPECT_EQ(e5.pid, 200u);
  EXPECT_EQ(e5.tid, 201u);
  EXPECT_EQ(e5.processor, 3u);
  EXPECT_EQ(e5.timestamp, 2000u);
  EXPECT_EQ(e5.fields[0].u, 1u);
  EXPECT_EQ(e5.stack, s1);
  EXPECT_EQ(t.events[6].stack, s1);
  EXPECT_EQ(t.events[6].stack_id, e5.stack_id);  // deduplicated
  EXPECT_EQ(t.events[7].tid, 202u);
  EXPECT_EQ(t.events[7].processor, 1u);
  EXPECT_EQ(t.events[7].stack, s2);
  EXPECT_EQ(name(t.events[8]), "Universal.Events/cswitch");
  EXPECT_EQ(t.events[8].fields[0].u, 12345u);
  EXPECT_EQ(t.events[8].stack, s2);
  EXPECT_EQ(t.events[8].timestamp, 3000u);
  EXPECT_TRUE(t.events[9].stack.empty());
  EXPECT_EQ(t.events[9].stack_id, 0u);
  EXPECT_EQ(name(t.events[10]), "Universal.System/ProcessExit");
  EXPECT_TRUE(t.events[10].payload.empty());

  // Sequence numbers count per thread from 1.
  EXPECT_EQ(t.events[5].sequence, 1u);  // thread (200, 201)
  EXPECT_EQ(t.events[6].sequence, 2u);
  EXPECT_EQ(t.events[8].sequence, 3u);
  EXPECT_EQ(t.events[1].sequence, 1u);  // thread (200, 200)
  EXPECT_EQ(t.events[10].sequence, 5u);
  ASSERT_EQ(t.sequence_points.size(), 1u);
  EXPECT_EQ(t.sequence_points[0].timestamp, 4000u);
  for (const auto& e : t.events) EXPECT_TRUE(e.sorted);
}

TEST(NetTraceWriter, EveryFieldTypeAndLabelListRoundTrips) {
  std::vector<std::uint8_t> out;
  auto w = make(out);
  EventSpec spec;
  spec.provider = "Test";
  spec.event_id = 42;
  spec.name = "AllTypes";
  spec.opcode = 10;
  spec.level = 4;
  spec.version = 2;
  spec.keywords = 0x8000000000000001ULL;
  spec.description = "every type";
  spec.fields = {
      FieldSpec::scalar("b32", TypeCode::kBoolean32),
      FieldSpec::scalar("sb", TypeCode::kSByte),
      FieldSpec::scalar("u8", TypeCode::kByte),
      FieldSpec::scalar("i16", TypeCode::kInt16),
      FieldSpec::scalar("u16", TypeCode::kUInt16),
      FieldSpec::scalar("i32", TypeCode::kInt32),
      FieldSpec::scalar("u32", TypeCode::kUInt32),
      FieldSpec::scalar("i64", TypeCode::kInt64),
      FieldSpec::scalar("u64", TypeCode::kUInt64),
      FieldSpec::scalar("f", TypeCode::kSingle),
      FieldSpec::scalar("d", TypeCode::kDouble),
      FieldSpec::scalar("vi", TypeCode::kVarInt),
      FieldSpec::scalar("vu", TypeCode::kVarUInt),
      FieldSpec{"fixed", TypeCode::kFixedLengthArray, TypeCode::kUInt16, 3},
      FieldSpec{"arr", TypeCode::kArray, TypeCode::kUInt32, 0},
      FieldSpec::short_utf8("text"),
      FieldSpec::scalar("b8", TypeCode::kBoolean8),
  };
  auto id = w->define_event(spec);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  PayloadEncoder p;
  p.fixed<std::uint32_t>(1).fixed<std::int8_t>(-5).fixed<std::uint8_t>(250);
  p.fixed<std::int16_t>(-300).fixed<std::uint16_t>(60000).fixed<std::int32_t>(-70000);
  p.fixed<std::uint32_t>(4000000000u).fixed<std::int64_t>(-5000000000LL);
  p.fixed<std::uint64_t>(18000000000000000000ULL).fixed<float>(1.5f).fixed<double>(-2.25);
  p.varint(-123456789).varuint(987654321012345ULL);
  p.fixed<std::uint16_t>(1).fixed<std::uint16_t>(2).fixed<std::uint16_t>(3);
  p.fixed<std::uint16_t>(2).fixed<std::uint32_t>(77).fixed<std::uint32_t>(88);
  p.short_utf8("héllo").fixed<std::uint8_t>(1);
  Label labels[] = {{Label::Kind::kString, "request", "abc", 0},
                    {Label::Kind::kVarInt, "delta", {}, -42}};
  EventHeader h;
  h.metadata_id = *id;
  h.thread = w->thread(1, 2, "main thread");
  h.processor = 7;
  h.timestamp = 5000;
  auto ll = w->label_list(labels);
  ASSERT_TRUE(ll.ok());
  h.label_list = *ll;
  EXPECT_EQ(*w->label_list(labels), *ll);
  ASSERT_TRUE(w->write_event(h, p.bytes()).ok());
  ASSERT_TRUE(w->finish().ok());

  Trace t = read_ok(out);
  ASSERT_EQ(t.events.size(), 1u);
  const auto& md = t.metadata.at(0);
  EXPECT_EQ(md.provider, "Test");
  EXPECT_EQ(md.event_id, 42u);
  EXPECT_EQ(md.opcode, 10);
  EXPECT_EQ(md.level, 4);
  EXPECT_EQ(md.version, 2);
  EXPECT_EQ(md.keywords, 0x8000000000000001ULL);
  EXPECT_EQ(md.description, "every type");
  EXPECT_EQ(md.fields[13].type.code, 22);
  EXPECT_EQ(md.fields[13].type.count, 3);
  const auto& f = t.events[0].fields;
  ASSERT_EQ(f.size(), 17u);
  EXPECT_EQ(f[0].u, 1u);
  EXPECT_EQ(f[1].i, -5);
  EXPECT_EQ(f[2].u, 250u);
  EXPECT_EQ(f[3].i, -300);
  EXPECT_EQ(f[4].u, 60000u);
  EXPECT_EQ(f[5].i, -70000);
  EXPECT_EQ(f[6].u, 4000000000u);
  EXPECT_EQ(f[7].i, -5000000000LL);
  EXPECT_EQ(f[8].u, 18000000000000000000ULL);
  EXPECT_EQ(f[9].f, 1.5);
  EXPECT_EQ(f[10].f, -2.25);
  EXPECT_EQ(f[11].i, -123456789);
  EXPECT_EQ(f[12].u, 987654321012345ULL);
  ASSERT_EQ(f[13].items.size(), 3u);
  EXPECT_EQ(f[13].items[2].u, 3u);
  ASSERT_EQ(f[14].items.size(), 2u);
  EXPECT_EQ(f[14].items[1].u, 88u);
  EXPECT_EQ(f[15].s, "héllo");
  EXPECT_EQ(f[16].u, 1u);
  const auto& e = t.events[0];
  EXPECT_EQ(e.pid, 1u);
  EXPECT_EQ(e.tid, 2u);
  EXPECT_EQ(t.threads.at(e.thread).name, "main thread");
  EXPECT_EQ(e.processor, 7u);
  ASSERT_EQ(e.labels.size(), 2u);
  EXPECT_EQ(e.labels[0].key, "request");
  EXPECT_EQ(e.labels[0].text, "abc");
  EXPECT_EQ(e.labels[1].kind, 6);
  EXPECT_EQ(e.labels[1].number, -42);
}

// Small segment limits: many segments, each with its own stacks and a
// sequence point; every event still resolves its own stack.
TEST(NetTraceWriter, SegmentsFlushStacksAndKeepEveryReferenceValid) {
  std::vector<std::uint8_t> out;
  NetTraceOptions o = test_options();
  o.segment_event_bytes = 2000;
  o.segment_stack_bytes = 3000;
  auto u = UniversalNetTrace::create(make(out, o));
  ASSERT_TRUE(u.ok());
  auto cpu = (*u)->sample_kind("cpu");
  ASSERT_TRUE(cpu.ok());
  std::vector<std::vector<std::uint64_t>> expected;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    std::vector<std::uint64_t> ips;
    for (std::uint64_t k = 0; k <= i % 7; ++k) ips.push_back(0x1000 + (i % 50) * 16 + k);
    ASSERT_TRUE((*u)->sample(*cpu, 10 + i / 3, 1, 1 + i % 4, i % 2, i, ips).ok());
    expected.push_back(ips);
  }
  std::uint64_t generations = (*u)->writer().generation();
  EXPECT_GT(generations, 10u);
  ASSERT_TRUE((*u)->finish().ok());
  Trace t = read_ok(out);
  ASSERT_EQ(t.events.size(), 3000u);
  for (std::size_t i = 0; i < 3000; ++i) {
    ASSERT_EQ(t.events[i].stack, expected[i]) << i;
    ASSERT_EQ(t.events[i].fields[0].u, i);
    ASSERT_EQ(t.events[i].timestamp, 10 + i / 3);
    ASSERT_EQ(t.events[i].tid, 1 + i % 4);
  }
  EXPECT_EQ(t.sequence_points.size(), generations + 1);  // finish() ends the last segment
  EXPECT_GT(t.block_counts[5], 10u);                     // stack blocks
  EXPECT_EQ(t.dropped_events, 0u);
  // Each sequence point carries the threads' last sequence numbers.
  std::uint32_t last_of_thread1 = 0;
  for (const auto& [index, seq] : t.sequence_points.back().threads) {
    if (t.threads.at(index).tid == 1u) last_of_thread1 = seq;
  }
  EXPECT_EQ(last_of_thread1, 750u);
}

TEST(UniversalNetTrace, ProcessExitRemovesThreadsAndReusedPidsGetNewIndices) {
  std::vector<std::uint8_t> out;
  auto u = UniversalNetTrace::create(make(out));
  ASSERT_TRUE(u.ok());
  auto& nt = **u;
  auto cpu = nt.sample_kind("cpu");
  ASSERT_TRUE(nt.process_create(10, 7, 7, "first", "").ok());
  ASSERT_TRUE(nt.sample(*cpu, 11, 7, 8, 0, 1, {}).ok());
  ASSERT_TRUE(nt.process_exit(12, 7).ok());
  ASSERT_TRUE(nt.process_create(13, 7, 7, "second", "").ok());
  ASSERT_TRUE(nt.sample(*cpu, 14, 7, 8, 0, 1, {}).ok());
  ASSERT_TRUE(nt.finish().ok());
  Trace t = read_ok(out);
  ASSERT_EQ(t.events.size(), 5u);
  EXPECT_EQ(t.block_counts[7], 1u);  // one RemoveThread block
  EXPECT_NE(t.events[1].thread, t.events[4].thread);
  EXPECT_EQ(t.events[4].pid, 7u);
  EXPECT_EQ(t.events[4].tid, 8u);
  EXPECT_EQ(t.events[4].sequence, 1u);  // a fresh thread counts from 1
  EXPECT_EQ(t.dropped_events, 0u);
}

TEST(NetTraceWriter, LargeStackTablesSplitIntoSeveralBlocks) {
  std::vector<std::uint8_t> out;
  NetTraceOptions o = test_options();
  o.segment_stack_bytes = 64u << 20;
  auto u = UniversalNetTrace::create(make(out, o));
  ASSERT_TRUE(u.ok());
  auto cpu = (*u)->sample_kind("cpu");
  std::vector<std::uint64_t> ips(64);
  for (std::uint64_t i = 0; i < 12000; ++i) {  // 12000 * 516 bytes > 4 MiB per block
    for (std::size_t k = 0; k < ips.size(); ++k) ips[k] = i * 1000 + k;
    ASSERT_TRUE((*u)->sample(*cpu, i, 1, 1, 0, 1, ips).ok());
  }
  ASSERT_TRUE((*u)->finish().ok());
  auto t = ntread::read_nettrace(out, {.keep_events = false});
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->event_count, 12000u);
  EXPECT_EQ(t->stack_count, 12000u);
  EXPECT_GE(t->block_counts[5], 2u);
  EXPECT_EQ(t->sequence_points.size(), 1u);
}

TEST(NetTraceWriter, RejectsBadReferencesAndTimeGoingBackwards) {
  std::vector<std::uint8_t> out;
  auto w = make(out);
  EventSpec spec;
  spec.provider = "P";
  spec.event_id = 1;
  spec.name = "E";
  auto id = w->define_event(spec);
  ASSERT_TRUE(id.ok());
  std::uint64_t thread = w->thread(1, 1);
  EventHeader h{*id, thread, 0, 0, 0, 100};
  EXPECT_EQ(w->write_event({99, thread, 0, 0, 0, 100}, {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w->write_event({*id, 42, 0, 0, 0, 100}, {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w->write_event({*id, thread, 0, 5, 0, 100}, {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w->write_event({*id, thread, 0, 0, 3, 100}, {}).code(), ErrorCode::kInvalidArgument);
  std::uint64_t ip = 1;
  auto stack = w->stack(std::span(&ip, 1));
  ASSERT_TRUE(stack.ok());
  h.stack = *stack;
  ASSERT_TRUE(w->write_event(h, {}).ok());
  Status back = w->write_event({*id, thread, 0, 0, 0, 99}, {});
  EXPECT_EQ(back.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(back.message().find("earlier"), std::string::npos);
  // After a flush the old stack id is gone.
  ASSERT_TRUE(w->flush().ok());
  EXPECT_EQ(w->write_event(h, {}).code(), ErrorCode::kInvalidArgument);
  EventSpec bad_type;
  bad_type.name = "Bad";
  bad_type.fields = {FieldSpec::scalar("x", static_cast<TypeCode>(2))};
  EXPECT_FALSE(w->define_event(bad_type).ok());
  std::vector<std::uint64_t> deep(70000, 1);
  EXPECT_FALSE(w->stack(deep).ok());
  ASSERT_TRUE(w->finish().ok());
  EXPECT_FALSE(w->write_event(h, {}).ok());
  Trace t = read_ok(out);
  EXPECT_EQ(t.events.size(), 1u);
}

// ---- files

class TempDir : public ::testing::Test {
 protected:
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir_),
                                                  std::filesystem::directory_iterator()));
  }
  one_collect::testing::TempDir tmp_{"nettrace_test"};
  std::string dir_ = tmp_.string();
};

TEST_F(TempDir, FileIsRenamedIntoPlaceOnFinish) {
  std::string path = dir_ + "/out.nettrace";
  auto w = NetTraceWriter::open_file(path, test_options());
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_FALSE(std::filesystem::exists(path));  // only the temporary so far
  EXPECT_EQ(entries(), 1u);
  ASSERT_TRUE((*w)->finish().ok());
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(entries(), 1u);  // no temporary left
  auto t = ntread::read_nettrace_file(path);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->key_value("HardwareThreadCount"), "8");
}

TEST_F(TempDir, AbandonedWriterLeavesNoFile) {
  std::string path = dir_ + "/out.nettrace";
  {
    auto w = NetTraceWriter::open_file(path, test_options());
    ASSERT_TRUE(w.ok());
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(TempDir, MissingDirectoryIsAClearError) {
  std::string path = dir_ + "/missing/out.nettrace";
  auto w = NetTraceWriter::open_file(path, test_options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(w.status().message().find(path), std::string::npos);
  EXPECT_NE(w.status().message().find("No such file"), std::string::npos);
  EXPECT_EQ(entries(), 0u);
}

TEST_F(TempDir, PathThroughAFileIsAClearError) {
  std::string file = dir_ + "/plain";
  std::ofstream(file) << "x";
  auto w = NetTraceWriter::open_file(file + "/out.nettrace", test_options());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("Not a directory"), std::string::npos);
  EXPECT_EQ(entries(), 1u);
}

TEST_F(TempDir, TargetThatIsADirectoryFailsAtRenameAndLeavesNoTemporary) {
  std::string path = dir_ + "/taken";
  std::filesystem::create_directory(path);
  std::filesystem::create_directory(path + "/child");  // non-empty: rename must fail
  auto w = NetTraceWriter::open_file(path, test_options());
  ASSERT_TRUE(w.ok());
  Status s = (*w)->finish();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("renaming"), std::string::npos);
  w->reset();
  EXPECT_EQ(entries(), 1u);  // just the directory
}

TEST(NetTraceWriter, EmptyPathIsRejected) {
  auto w = NetTraceWriter::open_file("", test_options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), ErrorCode::kInvalidArgument);
}

class FailingSink : public NetTraceSink {
 public:
  explicit FailingSink(std::size_t budget) : budget_(budget) {}
  Status write(std::span<const std::uint8_t> bytes) override {
    if (bytes.size() > budget_) return error(ErrorCode::kIo, "disk full");
    budget_ -= bytes.size();
    return ok_status();
  }

 private:
  std::size_t budget_;
};

TEST(NetTraceWriter, SinkFailureIsReportedAndSticky) {
  auto w = NetTraceWriter::create(std::make_unique<FailingSink>(200), test_options());
  ASSERT_TRUE(w.ok());
  auto u = UniversalNetTrace::create(std::move(w).value());
  ASSERT_TRUE(u.ok());
  auto cpu = (*u)->sample_kind("cpu");
  Status s;
  for (int i = 0; i < 10 && s.ok(); ++i) s = (*u)->sample(*cpu, i, 1, 1, 0, 1, {});
  ASSERT_TRUE(s.ok());
  s = (*u)->finish();
  EXPECT_EQ(s.code(), ErrorCode::kIo);
  EXPECT_FALSE((*u)->sample(*cpu, 20, 1, 1, 0, 1, {}).ok());
}

// ---- reader robustness on writer output

std::vector<std::uint8_t> small_trace() {
  std::vector<std::uint8_t> out;
  auto u = UniversalNetTrace::create(make(out));
  auto& nt = **u;
  EXPECT_TRUE(nt.process_create(10, 5, 5, "p", "").ok());
  EXPECT_TRUE(nt.mapping(10, 5, 1, 0x1000, 0x2000, 0, "/bin/p", 0).ok());
  auto cpu = nt.sample_kind("cpu");
  std::vector<std::uint64_t> ips = {0x1100, 0x1200};
  Label label{Label::Kind::kString, "k", "v", 0};
  EXPECT_TRUE(nt.sample(*cpu, 20, 5, 6, 1, 1, ips, std::span(&label, 1)).ok());
  EXPECT_TRUE(nt.sample(*cpu, 30, 5, 6, 1, 1, ips).ok());
  EXPECT_TRUE(nt.finish().ok());
  return out;
}

TEST(NetTraceReader, EveryTruncationIsAnErrorNotACrash) {
  std::vector<std::uint8_t> full = small_trace();
  ASSERT_TRUE(ntread::read_nettrace(full).ok());
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto t = ntread::read_nettrace(cut);
    ASSERT_FALSE(t.ok()) << "prefix of " << n << " bytes accepted";
    ASSERT_EQ(t.status().code(), ErrorCode::kMalformed) << t.status().to_string();
  }
}

TEST(NetTraceReader, EveryByteFlipIsHandled) {
  std::vector<std::uint8_t> full = small_trace();
  std::size_t errors = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::vector<std::uint8_t> bad = full;
      bad[i] ^= mask;
      auto t = ntread::read_nettrace(bad);  // must return, never crash
      if (!t.ok()) ++errors;
    }
  }
  // Most corruptions are detected (string bytes and values can change freely).
  EXPECT_GT(errors, full.size());
}

}  // namespace
}  // namespace one_collect::nettrace
