// write_nettrace on small synthetic machines, read back by the independent
// reader: exact processes, modules, symbols, stacks, values and timestamps.
#include "one_collect/formats/nettrace/nettrace_export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "one_collect/formats/nettrace/nettrace_reader.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

using ntread::DecodedEvent;
using ntread::Trace;

constexpr std::uint64_t kKernelIp = 0xffffffff81000040ULL;

class FakeResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& symbols,
                 std::vector<ExportResolvedLine>&) override {
    switch (q.kind) {
      case SymbolQuery::Kind::kFile:
        // File offsets: the mapping below maps file offset 0x1000 at 0x400000.
        symbols.push_back({0x1100, 0x1200, "main", "", 0});
        symbols.push_back({0x1200, 0x1300, "work(int)", "", 0});
        symbols.push_back({0x9000, 0x9100, "outside_the_mapping", "", 0});
        break;
      case SymbolQuery::Kind::kKernel:
        symbols.push_back({0xffffffff81000000ULL, 0xffffffff81000100ULL, "schedule", "", 0});
        break;
      case SymbolQuery::Kind::kAnonymous:
        symbols.push_back({0x7f0100, 0x7f0200, "jitted", "", 0});
        break;
    }
    (void)addresses;
    return ok_status();
  }
};

// pid 100 "bash" existed before collection; pid 200 "worker" starts at 2000
// and exits at 90000.
void fill(ExportMachine& m) {
  CollectionMetadata& md = m.metadata();
  md.start_time = 1000;
  md.end_time = 100000;
  md.start_unix_ns = 1709214330123456789ULL;
  md.cpu_count = 4;
  md.sample_frequency_hz = 1000;
  md.sample_period_ns = 1000000;
  md.host = "testhost";
  md.kernel = "Linux 6.1";
  m.set_comm(100, "bash");
  m.add_process_start(200, 2000, "worker");
  m.add_mapping(200, 2000, 0x400000, 0x402000, 0x1000, "/usr/bin/worker", "abcd");
  m.add_mapping(200, 2500, 0x7f0000, 0x7f1000, 0, "//anon");
  SampleKind cpu = *m.find_sample_kind(kCpuKind);
  std::vector<std::uint64_t> frames = {0x400210, kKernelIp};
  m.add_sample(3000, MetricValue::duration(1000000), 200, 201, 1, cpu, 0x400150, frames);
  m.add_sample(3500, MetricValue::duration(1000000), 200, 201, 1, cpu, 0x400150, frames);
  m.add_sample(4000, MetricValue::duration(1000000), 200, 202, 2, cpu, 0x7f0150, {});
  m.add_sample(4500, MetricValue::duration(1000000), 100, 100, 0, cpu, 0x1234, {});
  std::vector<std::uint64_t> wait = {0x400220};
  m.on_switch_out(200, 201, 3, 5000, kKernelIp, wait);
  m.on_switch_in(201, 7000);  // 2000 ns off CPU
  m.add_sample(6000, MetricValue::duration(1000000), 200, 202, 0, cpu, 0x400160, {});
  m.add_lost(kCpuKind, 3);
  m.add_process_exit(200, 90000);
  FakeResolver resolver;
  ASSERT_TRUE(m.capture_and_resolve_symbols(resolver).ok());
}

Trace export_and_read(const ExportMachine& m, const PidPredicate& predicate = {}) {
  std::vector<std::uint8_t> out;
  NetTraceExportStats stats;
  Status s = write_nettrace(m, std::make_unique<nettrace::VectorSink>(out), predicate, &stats);
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(stats.bytes, out.size());
  auto t = ntread::read_nettrace(out);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return t.ok() ? std::move(t).value() : Trace{};
}

std::string name_of(const Trace& t, const DecodedEvent& e) { return t.metadata_of(e).name; }

std::vector<const DecodedEvent*> named(const Trace& t, std::string_view name) {
  std::vector<const DecodedEvent*> out;
  for (const auto& e : t.events) {
    if (t.metadata_of(e).name == name) out.push_back(&e);
  }
  return out;
}

TEST(NetTraceExport, SyntheticMachineRoundTrips) {
  ExportMachine m;
  fill(m);
  Trace t = export_and_read(m);
  EXPECT_EQ(t.sync_ticks, 1000);
  EXPECT_EQ(t.tick_frequency, 1000000000);
  EXPECT_EQ(t.year, 2024);
  EXPECT_EQ(t.key_value("HardwareThreadCount"), "4");
  EXPECT_EQ(t.key_value("ExpectedCPUSamplingRate"), "1000");
  EXPECT_EQ(t.key_value("SamplePeriodNs"), "1000000");
  EXPECT_EQ(t.key_value("DurationNs"), "99000");
  EXPECT_EQ(t.key_value("Host"), "testhost");
  EXPECT_EQ(t.key_value("Kernel"), "Linux 6.1");
  EXPECT_EQ(t.key_value("LostEvents"), "3");
  EXPECT_EQ(t.key_value("LostEvents.cpu"), "3");
  EXPECT_EQ(t.dropped_events, 0u);

  // Timestamps never decrease.
  for (std::size_t i = 1; i < t.events.size(); ++i) {
    ASSERT_LE(t.events[i - 1].timestamp, t.events[i].timestamp) << i;
  }

  auto existing = named(t, "ExistingProcess");
  ASSERT_EQ(existing.size(), 1u);
  EXPECT_EQ(existing[0]->pid, 100u);
  EXPECT_EQ(existing[0]->timestamp, 1000u);
  EXPECT_EQ(existing[0]->fields[1].s, "bash");

  auto created = named(t, "ProcessCreate");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0]->pid, 200u);
  EXPECT_EQ(created[0]->timestamp, 2000u);
  EXPECT_EQ(created[0]->fields[0].u, 200u);
  EXPECT_EQ(created[0]->fields[1].s, "worker");

  auto metadata = named(t, "ProcessMappingMetadata");
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0]->fields[0].u, 1u);
  EXPECT_EQ(metadata[0]->fields[1].s, R"({"type":"ELF","build_id":"abcd"})");

  auto mappings = named(t, "ProcessMapping");
  ASSERT_EQ(mappings.size(), 4u);  // worker, anon, kernel for pid 200 and pid 100
  const DecodedEvent* file_map = nullptr;
  for (const DecodedEvent* e : mappings) {
    if (e->fields[4].s == "/usr/bin/worker") file_map = e;
  }
  ASSERT_NE(file_map, nullptr);
  EXPECT_EQ(file_map->pid, 200u);
  EXPECT_EQ(file_map->timestamp, 2000u);
  EXPECT_EQ(file_map->fields[1].u, 0x400000u);
  EXPECT_EQ(file_map->fields[2].u, 0x402000u);
  EXPECT_EQ(file_map->fields[3].u, 0x1000u);
  EXPECT_EQ(file_map->fields[4].s, "/usr/bin/worker");
  EXPECT_EQ(file_map->fields[5].u, 1u);
  std::uint64_t file_map_id = file_map->fields[0].u;

  std::map<std::string, const DecodedEvent*> symbols;
  for (const DecodedEvent* e : named(t, "ProcessSymbol")) symbols[e->fields[4].s] = e;
  ASSERT_EQ(symbols.size(), 4u);  // main, work(int), jitted, schedule
  EXPECT_EQ(symbols.count("outside_the_mapping"), 0u);
  EXPECT_EQ(symbols["main"]->fields[1].u, file_map_id);
  EXPECT_EQ(symbols["main"]->fields[2].u, 0x400100u);  // file 0x1100 -> va
  EXPECT_EQ(symbols["main"]->fields[3].u, 0x4001ffu);  // inclusive end
  EXPECT_EQ(symbols["work(int)"]->fields[2].u, 0x400200u);
  EXPECT_EQ(symbols["jitted"]->fields[2].u, 0x7f0100u);
  EXPECT_EQ(symbols["jitted"]->fields[3].u, 0x7f01ffu);
  EXPECT_EQ(symbols["schedule"]->fields[2].u, 0xffffffff81000000ULL);
  EXPECT_EQ(symbols["schedule"]->fields[1].u, m.kernel_mapping().id);
  // The kernel mapping is announced for both sampled processes, with one id.
  int kernel_maps = 0;
  for (const DecodedEvent* e : mappings) {
    if (e->fields[4].s == "[kernel]") {
      ++kernel_maps;
      EXPECT_EQ(e->fields[0].u, m.kernel_mapping().id);
    }
  }
  EXPECT_EQ(kernel_maps, 2);

  auto cpu = named(t, "cpu");
  ASSERT_EQ(cpu.size(), 5u);
  EXPECT_EQ(t.metadata_of(*cpu[0]).provider, "Universal.Events");
  EXPECT_EQ(cpu[0]->timestamp, 3000u);
  EXPECT_EQ(cpu[0]->pid, 200u);
  EXPECT_EQ(cpu[0]->tid, 201u);
  EXPECT_EQ(cpu[0]->processor, 1u);
  EXPECT_EQ(cpu[0]->fields[0].u, 1u);  // one sample
  // Caller frames go out at return address - 1 (frame_lookup_ip), the leaf as sampled.
  EXPECT_EQ(cpu[0]->stack, (std::vector<std::uint64_t>{0x400150, 0x400210 - 1, kKernelIp - 1}));
  EXPECT_EQ(cpu[1]->stack, cpu[0]->stack);
  EXPECT_EQ(cpu[2]->stack, (std::vector<std::uint64_t>{0x7f0150}));
  EXPECT_EQ(cpu[2]->tid, 202u);
  EXPECT_EQ(cpu[3]->pid, 100u);
  EXPECT_EQ(cpu[4]->timestamp, 6000u);

  auto cswitch = named(t, "cswitch");
  ASSERT_EQ(cswitch.size(), 1u);
  EXPECT_EQ(cswitch[0]->timestamp, 7000u);    // switch-in
  EXPECT_EQ(cswitch[0]->fields[0].u, 2000u);  // ns switched out
  EXPECT_EQ(cswitch[0]->tid, 201u);
  EXPECT_EQ(cswitch[0]->processor, 3u);
  EXPECT_EQ(cswitch[0]->stack, (std::vector<std::uint64_t>{kKernelIp, 0x400220 - 1}));

  auto exits = named(t, "ProcessExit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0]->pid, 200u);
  EXPECT_EQ(exits[0]->timestamp, 90000u);
  EXPECT_EQ(name_of(t, t.events.back()), "ProcessExit");
}

TEST(NetTraceExport, PredicateSelectsProcesses) {
  ExportMachine m;
  fill(m);
  Trace t = export_and_read(m, [](std::uint32_t pid) { return pid == 100; });
  for (const auto& e : t.events) EXPECT_EQ(e.pid, 100u) << name_of(t, e);
  EXPECT_EQ(named(t, "cpu").size(), 1u);
  EXPECT_EQ(named(t, "ProcessCreate").size(), 0u);
  EXPECT_EQ(named(t, "ExistingProcess").size(), 1u);
}

TEST(NetTraceExport, AttributesBecomeLabelLists) {
  ExportMachine m;
  m.metadata().start_time = 10;
  SampleKind kind = m.sample_kind("allocs", MetricKind::kBytes);
  ExportAttribute set[] = {ExportAttribute::label(m.intern("type"), m.intern("Foo")),
                           ExportAttribute::number(m.intern("size"), 48)};
  std::uint32_t attrs = m.attributes(set);
  m.add_sample(20, MetricValue::bytes(4096), 1, 1, 0, kind, 0x10, {}, 0, attrs);
  Trace t = export_and_read(m);
  auto allocs = named(t, "allocs");
  ASSERT_EQ(allocs.size(), 1u);
  EXPECT_EQ(allocs[0]->fields[0].u, 4096u);
  ASSERT_EQ(allocs[0]->labels.size(), 2u);
  EXPECT_EQ(allocs[0]->labels[0].key, "type");
  EXPECT_EQ(allocs[0]->labels[0].text, "Foo");
  EXPECT_EQ(allocs[0]->labels[1].key, "size");
  EXPECT_EQ(allocs[0]->labels[1].number, 48);
}

TEST(NetTraceExport, EmptyMachineIsAValidTrace) {
  ExportMachine m;
  Trace t = export_and_read(m);
  EXPECT_TRUE(t.events.empty());
}

TEST(NetTraceExport, FilePathErrorsLeaveNothingBehind) {
  testing::TempDir tmp("nettrace_export");
  std::string dir = tmp.string();
  ExportMachine m;
  fill(m);
  Status missing = write_nettrace(m, dir + "/no/such/dir/out.nettrace");
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("out.nettrace"), std::string::npos);
  std::filesystem::create_directories(dir + "/taken/child");
  EXPECT_FALSE(write_nettrace(m, dir + "/taken").ok());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);  // only "taken"
  std::string path = dir + "/good.nettrace";
  NetTraceExportStats stats;
  ASSERT_TRUE(write_nettrace(m, path, {}, &stats).ok());
  EXPECT_EQ(stats.samples, 6u);
  auto t = ntread::read_nettrace_file(path);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->event_count, stats.events);
}

}  // namespace
}  // namespace one_collect
