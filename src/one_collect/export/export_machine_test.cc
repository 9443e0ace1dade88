#include "one_collect/export/export_machine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "one_collect/export/export_graph.h"
#include "one_collect/export/export_settings.h"

namespace one_collect {
namespace {

using ::testing::ElementsAre;

TEST(ExportMachine, BuiltInKindsAndLookup) {
  ExportMachine m;
  EXPECT_EQ(m.sample_kind("cpu"), 0);
  EXPECT_EQ(m.sample_kind("off_cpu"), 1);
  EXPECT_EQ(m.sample_metric(0), MetricKind::kDuration);
  SampleKind k = m.sample_kind("page_faults", MetricKind::kCount);
  EXPECT_EQ(k, 2);
  EXPECT_EQ(m.sample_kind("page_faults"), k);
  EXPECT_EQ(m.find_sample_kind("page_faults"), k);
  EXPECT_FALSE(m.find_sample_kind("nope").has_value());
  EXPECT_EQ(m.sample_kind_name(k), "page_faults");
  EXPECT_EQ(m.sample_kind_name(999), "unknown");
}

TEST(ExportMachine, SamplesAreCompactAndStacksInterned) {
  ExportMachine m;
  std::vector<std::uint64_t> stack = {0x1010, 0x1020};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(m.add_sample(100 + i, MetricValue::duration(1000), 7, 8, 1, 0, 0x1000, stack));
  }
  ASSERT_EQ(m.samples().size(), 10u);
  EXPECT_EQ(m.callstacks().size(), 2u);  // the empty stack and ours
  EXPECT_EQ(m.samples()[3].callstack, m.samples()[4].callstack);
  EXPECT_NE(m.find_process(7), nullptr);
  EXPECT_EQ(m.sample_magnitude(m.samples()[0]), 1000u);
}

TEST(ExportMachine, SampleHooksDrop) {
  ExportMachine m;
  m.add_sample_hook([](const SampleHookContext& c) { return c.sample.pid != 2; });
  EXPECT_TRUE(m.add_sample(1, MetricValue::count(1), 1, 1, 0, 0, 0x10, {}));
  EXPECT_FALSE(m.add_sample(1, MetricValue::count(1), 2, 2, 0, 0, 0x10, {}));
  EXPECT_EQ(m.samples().size(), 1u);
}

TEST(ExportMachine, TimeAwareMappings) {
  ExportMachine m;
  m.add_mapping(1, 0, 0x1000, 0x2000, 0, "/bin/old");
  m.add_mapping(1, 50, 0x1000, 0x2000, 0x3000, "/bin/new");
  m.add_mapping(1, 0, 0x100000, 0x200000, 0, "/lib/big");
  m.add_mapping(1, 0, 0x5000, 0x6000, 0, "");
  auto name = [&](const ExportMapping* mp) {
    return mp ? std::string(m.string(mp->filename)) : std::string("none");
  };
  EXPECT_EQ(name(m.find_mapping(1, 0x1500, 10)), "/bin/old");
  EXPECT_EQ(name(m.find_mapping(1, 0x1500, 50)), "/bin/new");
  EXPECT_EQ(name(m.find_mapping(1, 0x1500, 99)), "/bin/new");
  EXPECT_EQ(name(m.find_mapping(1, 0x150000, 99)), "/lib/big");
  EXPECT_EQ(name(m.find_mapping(1, 0x3000, 99)), "none");
  EXPECT_EQ(name(m.find_mapping(1, 0x200000, 99)), "none");  // end is exclusive
  EXPECT_EQ(name(m.find_mapping(2, 0x1500, 99)), "none");
  EXPECT_TRUE(m.find_mapping(1, 0x5500, 0)->anon);
  const ExportMapping* k = m.find_mapping(1, 0xffffffff81000000ULL, 0);
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->kernel);
  // A sample older than every mapping still finds the oldest.
  m.add_mapping(1, 500, 0x9000, 0xa000, 0, "/late");
  EXPECT_EQ(name(m.find_mapping(1, 0x9000, 10)), "/late");
  // Many overlapping mappings: the backward scan must not stop early.
  for (std::uint64_t i = 0; i < 100; ++i) {
    m.add_mapping(3, i, 0x10000 + i * 0x10, 0x10000 + i * 0x10 + 8, 0, "/small");
  }
  m.add_mapping(3, 0, 0x10000, 0x90000, 0, "/wide");
  EXPECT_EQ(name(m.find_mapping(3, 0x10000 + 99 * 0x10 + 9, 1000)), "/wide");
  EXPECT_EQ(name(m.find_mapping(3, 0x10000 + 99 * 0x10 + 1, 1000)), "/small");
}

TEST(ExportMachine, OffCpuFromSwitchOutToSwitchIn) {
  ExportMachine m;
  std::vector<std::uint64_t> stack = {0x2000, 0x3000};
  m.on_switch_out(10, 11, 2, 1000, 0x1111, stack);
  EXPECT_EQ(m.pending_switches(), 1u);
  EXPECT_FALSE(m.on_switch_in(12, 1500));  // another thread: nothing pending
  EXPECT_TRUE(m.on_switch_in(11, 1750));
  EXPECT_FALSE(m.on_switch_in(11, 1800));  // already consumed
  ASSERT_EQ(m.samples().size(), 1u);
  const ExportSample& s = m.samples()[0];
  EXPECT_EQ(s.kind, *m.find_sample_kind("off_cpu"));
  EXPECT_EQ(s.time, 1000u);
  EXPECT_EQ(s.value, 750u);
  EXPECT_EQ(s.pid, 10u);
  EXPECT_EQ(s.tid, 11u);
  EXPECT_EQ(s.cpu, 2);
  EXPECT_EQ(s.leaf_ip, 0x1111u);
  auto frames = m.callstacks().get(s.callstack);
  ASSERT_TRUE(frames);
  EXPECT_THAT(std::vector<std::uint64_t>(frames->begin(), frames->end()),
              ElementsAre(0x2000, 0x3000));
  // Switch-in before switch-out (reordered records): dropped, not negative.
  m.on_switch_out(10, 11, 2, 5000, 0x1, {});
  EXPECT_FALSE(m.on_switch_in(11, 4000));
  m.on_switch_out(0, 0, 0, 1, 0, {});  // idle: ignored
  EXPECT_EQ(m.pending_switches(), 0u);
}

TEST(ExportMachine, RecordsAttributesSpansLost) {
  ExportMachine m;
  ExportRecordType t;
  t.name = m.intern("sched/sched_wakeup");
  std::uint32_t type = m.record_type(t);
  EXPECT_EQ(m.record_type(t), type);
  std::vector<std::uint8_t> a = {1, 2, 3};
  std::vector<std::uint8_t> b = {4, 5};
  std::uint32_t ra = m.add_record(type, a);
  std::uint32_t rb = m.add_record(type, b);
  EXPECT_EQ(ra, 1u);
  EXPECT_THAT(std::vector<std::uint8_t>(m.record_data(rb).begin(), m.record_data(rb).end()),
              ElementsAre(4, 5));
  EXPECT_TRUE(m.record_data(0).empty());
  EXPECT_TRUE(m.record_data(99).empty());
  EXPECT_EQ(m.add_record(42, a), 0u);  // unknown type

  ExportAttribute set[] = {ExportAttribute::label(m.intern("k"), m.intern("v")),
                           ExportAttribute::number(m.intern("n"), 5)};
  std::uint32_t id = m.attributes(set);
  EXPECT_NE(id, 0u);
  EXPECT_EQ(m.attributes(set), id);
  EXPECT_EQ(m.attribute_set(id).size(), 2u);
  EXPECT_TRUE(m.attribute_set(12345).empty());

  SampleKind span_kind = m.sample_kind("request", MetricKind::kSpan);
  std::uint32_t span = m.add_span(ExportSpan{100, 350, m.intern("req"), 0, 1, 1});
  m.add_sample(100, MetricValue::span(span), 1, 1, 0, span_kind, 0, {});
  EXPECT_EQ(m.sample_magnitude(m.samples().back()), 250u);

  m.add_lost("cpu", 3);
  m.add_lost(m.sample_kind("cpu"), 4);
  m.add_lost("records", 1);
  EXPECT_EQ(m.total_lost(), 8u);
  EXPECT_EQ(m.lost().size(), 2u);
}

TEST(ExportMachine, ForkCopiesCommAndMappings) {
  ExportMachine m;
  m.add_process_start(1, 5, "parent");
  m.add_mapping(1, 5, 0x1000, 0x2000, 0, "/bin/p");
  m.add_fork(1, 2, 10);
  const ExportProcess* c = m.find_process(2);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(m.string(c->comm), "parent");
  EXPECT_EQ(c->start_time, 10u);
  ASSERT_EQ(c->mappings().size(), 1u);
  EXPECT_NE(c->mappings()[0].id, m.find_process(1)->mappings()[0].id);
}

TEST(ExportMachine, SplitByComm) {
  ExportMachine m;
  m.set_comm(30, "b");
  m.set_comm(10, "a");
  m.set_comm(20, "b");
  auto groups = m.split_processes_by_comm();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(m.string(groups[0].comm), "a");
  EXPECT_THAT(groups[1].pids, ElementsAre(20, 30));
}

TEST(ExportMachine, ReplayByTime) {
  ExportMachine m;
  m.set_comm(1, "existing");
  m.add_mapping(1, 0, 0x1000, 0x2000, 0, "/bin/e");
  m.add_sample(300, MetricValue::count(1), 1, 1, 0, 0, 0x1000, {});
  m.add_process_start(2, 150, "new");
  m.add_sample(100, MetricValue::count(1), 1, 1, 0, 0, 0x1000, {});
  m.add_sample(150, MetricValue::count(1), 2, 2, 0, 0, 0x1000, {});
  m.add_process_exit(2, 150);
  std::vector<std::pair<ReplayEvent::Kind, std::uint64_t>> seen;
  m.replay_by_time([&](const ReplayEvent& e) { seen.emplace_back(e.kind, e.time); });
  using K = ReplayEvent::Kind;
  EXPECT_THAT(seen, ElementsAre(std::pair{K::kProcessStart, 0ull}, std::pair{K::kMapping, 0ull},
                                std::pair{K::kSample, 100ull}, std::pair{K::kProcessStart, 150ull},
                                std::pair{K::kSample, 150ull}, std::pair{K::kProcessExit, 150ull},
                                std::pair{K::kSample, 300ull}));
  std::size_t count = 0;
  m.replay_by_time([&](const ReplayEvent&) { ++count; },
                   [](std::uint32_t pid) { return pid == 2; });
  EXPECT_EQ(count, 3u);
}

// A fake resolver: every file has one symbol per 0x100 of offsets.
class FakeResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& symbols,
                 std::vector<ExportResolvedLine>& lines) override {
    calls.push_back(std::string(q.filename) + "|" + std::to_string(static_cast<int>(q.kind)) + "|" +
                    std::to_string(addresses.size()));
    if (q.filename == "/bad") return error(ErrorCode::kMalformed, "bad elf");
    for (std::uint64_t a : addresses) {
      std::uint64_t start = a & ~0xffULL;
      symbols.push_back(
          {start, start + 0x100,
           std::string(q.kind == SymbolQuery::Kind::kKernel ? "k_" : "f_") + std::to_string(start),
           "x.c", 7});
      lines.push_back({a, "x.c", static_cast<std::uint32_t>(a & 0xff), ""});
    }
    return ok_status();
  }
  std::optional<std::string> build_id(const SymbolQuery& q) override {
    if (q.filename == "/bin/a") return std::string("abcd");
    return std::nullopt;
  }
  std::vector<std::string> calls;
};

TEST(ExportMachine, CaptureAndResolveSymbols) {
  ExportMachine m;
  m.add_mapping(1, 0, 0x400000, 0x500000, 0x1000, "/bin/a");
  m.add_mapping(2, 0, 0x600000, 0x700000, 0x1000, "/bin/a");
  m.add_mapping(1, 0, 0x800000, 0x900000, 0, "/bad");
  // Caller frames are return addresses, resolved at ip - 1: 0x800001 lies in /bad.
  std::vector<std::uint64_t> stack = {0x400210, 0x800001, 0xffffffff81000010ULL};
  m.add_sample(1, MetricValue::count(1), 1, 1, 0, 0, 0x400105, stack);
  m.add_sample(2, MetricValue::count(1), 1, 1, 0, 0, 0x400105, stack);
  m.add_sample(2, MetricValue::count(1), 2, 2, 0, 0, 0x600105, {});
  FakeResolver r;
  std::vector<std::string> errors;
  ASSERT_TRUE(m.capture_and_resolve_symbols(r, &errors).ok());
  // One call per distinct file (shared by both processes), one for the kernel.
  EXPECT_THAT(r.calls, ::testing::UnorderedElementsAre("/bin/a|0|2", "/bad|0|1", "|1|1"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::HasSubstr("bad elf"));

  const ExportMapping* mp = nullptr;
  const ExportLine* line = nullptr;
  const ExportSymbol* s = m.find_symbol(1, 0x400105, 1, &mp, &line);
  ASSERT_NE(s, nullptr);
  // 0x400105 - 0x400000 + 0x1000 = 0x1105 -> symbol at 0x1100
  EXPECT_EQ(m.string(s->name), "f_" + std::to_string(0x1100));
  EXPECT_EQ(m.string(mp->build_id), "abcd");
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->line, 5u);
  const ExportSymbol* s2 = m.find_symbol(2, 0x600105, 1);
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s2->name, s->name);
  const ExportSymbol* k = m.find_symbol(1, 0xffffffff81000010ULL, 1);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(m.string(k->name).substr(0, 2), "k_");
  EXPECT_EQ(m.find_symbol(1, 0x800000, 1), nullptr);  // its resolution failed
}

// Mappings carrying the OS session's held file are grouped by that file: a
// path replaced during the recording names two files (two queries), one file
// seen under two paths is one query; the query carries the file handle.
TEST(ExportMachine, SymbolQueriesGroupByHeldFile) {
  class FileResolver : public FakeResolver {
   public:
    Status resolve(const SymbolQuery& q, std::span<const std::uint64_t> addresses,
                   std::vector<ExportResolvedSymbol>& symbols,
                   std::vector<ExportResolvedLine>& lines) override {
      files.push_back(q.file);
      return FakeResolver::resolve(q, addresses, symbols, lines);
    }
    std::vector<std::uint32_t> files;
  };
  ExportMachine m;
  using Origin = ExportMachine::MappingOrigin;
  m.add_mapping(1, 0, 0x400000, 0x500000, 0, "/bin/app", {}, Origin{false, 7});
  m.add_mapping(2, 0, 0x400000, 0x500000, 0, "/bin/app", {}, Origin{false, 8});  // replaced
  m.add_mapping(3, 0, 0x400000, 0x500000, 0, "/other/path", {}, Origin{false, 7});
  m.add_mapping(3, 0, 0x600000, 0x700000, 0, "/dev/zero");                // anonymous (one rule)
  m.add_mapping(3, 0, 0x800000, 0x900000, 0, "/x", {}, Origin{true, 9});  // caller says anon
  EXPECT_TRUE(m.find_mapping(3, 0x600000, 0)->anon);
  EXPECT_TRUE(m.find_mapping(3, 0x800000, 0)->anon);
  EXPECT_EQ(m.find_mapping(3, 0x800000, 0)->file, 0u);
  for (std::uint32_t pid : {1u, 2u, 3u}) {
    m.add_sample(1, MetricValue::count(1), pid, pid, 0, 0, 0x400105 + pid * 0x100, {});
  }
  FileResolver r;
  ASSERT_TRUE(m.capture_and_resolve_symbols(r).ok());
  EXPECT_THAT(r.files, ::testing::UnorderedElementsAre(7u, 8u));
  EXPECT_THAT(r.calls, ::testing::UnorderedElementsAre("/bin/app|0|2", "/bin/app|0|1"));
  const ExportSymbol* a = m.find_symbol(1, 0x400205, 1);
  const ExportSymbol* b = m.find_symbol(2, 0x400305, 1);
  const ExportSymbol* c = m.find_symbol(3, 0x400405, 1);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(m.find_mapping(1, 0x400205, 1)->symbols, m.find_mapping(3, 0x400405, 1)->symbols);
  EXPECT_NE(m.find_mapping(1, 0x400205, 1)->symbols, m.find_mapping(2, 0x400305, 1)->symbols);
}

TEST(ExportMachine, CallerFramesAreNamedAtReturnAddressMinusOne) {
  EXPECT_EQ(frame_lookup_ip(0x1000, true), 0x1000u);
  EXPECT_EQ(frame_lookup_ip(0x1000, false), 0xfffu);
  EXPECT_EQ(frame_lookup_ip(0, false), 0u);
  ExportMachine m;
  m.add_mapping(1, 0, 0x400000, 0x500000, 0x1000, "/bin/a");
  // The caller's call was its last instruction: it returns to 0x400100, the
  // first byte of the next symbol (file offset 0x1100). The leaf sits exactly
  // at a symbol start and keeps it.
  std::vector<std::uint64_t> stack = {0x400100};
  m.add_sample(1, MetricValue::count(1), 1, 1, 0, 0, 0x400200, stack);
  FakeResolver r;
  ASSERT_TRUE(m.capture_and_resolve_symbols(r).ok());
  EXPECT_THAT(r.calls, ::testing::ElementsAre("/bin/a|0|2"));
  const ExportSymbol* caller = m.find_symbol(1, frame_lookup_ip(0x400100, false), 1);
  ASSERT_NE(caller, nullptr);
  EXPECT_EQ(m.string(caller->name), "f_" + std::to_string(0x1000));
  const ExportSymbol* leaf = m.find_symbol(1, frame_lookup_ip(0x400200, true), 1);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(m.string(leaf->name), "f_" + std::to_string(0x1200));

  // ExportGraph applies the same rule.
  ExportGraph graph(m);
  graph.add_samples(0);
  std::vector<std::string> names;
  for (std::uint32_t f = 0; f < graph.frames().size(); ++f) names.push_back(graph.frame_name(f));
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("a!f_" + std::to_string(0x1000),
                                                     "a!f_" + std::to_string(0x1200)));
}

// Lines with inlined frames: several per address, innermost first.
class InlineResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery&, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& symbols,
                 std::vector<ExportResolvedLine>& lines) override {
    symbols.push_back({0x1000, 0x2000, "outer", "outer.c", 0});
    for (std::uint64_t a : addresses) {
      lines.push_back({a, "inner.h", 40, "inner"});
      lines.push_back({a, "outer.c", 12, ""});
    }
    return ok_status();
  }
};

// Records whether file queries asked for source lines.
class LineRequestResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t>,
                 std::vector<ExportResolvedSymbol>&, std::vector<ExportResolvedLine>&) override {
    if (q.kind == SymbolQuery::Kind::kFile) asked.push_back(q.want_lines);
    return ok_status();
  }
  std::vector<bool> asked;
};

TEST(ExportMachine, SourceLinesAreAskedForUnlessTurnedOff) {
  ExportMachine m;
  m.add_mapping(1, 0, 0x400000, 0x500000, 0, "/bin/a");
  m.add_sample(1, MetricValue::count(1), 1, 1, 0, 0, 0x400050, {});
  LineRequestResolver with;
  ASSERT_TRUE(m.capture_and_resolve_symbols(with).ok());
  EXPECT_EQ(with.asked, std::vector<bool>{true});
  LineRequestResolver without;
  ASSERT_TRUE(m.capture_and_resolve_symbols(without, nullptr, /*source_lines=*/false).ok());
  EXPECT_EQ(without.asked, std::vector<bool>{false});
  EXPECT_TRUE(ExportSettings().source_lines()) << "the library default keeps lines";
}

TEST(ExportMachine, InlinedFramesKeepTheirOrder) {
  ExportMachine m;
  m.add_mapping(1, 0, 0x400000, 0x500000, 0x1000, "/bin/a");
  m.add_sample(1, MetricValue::count(1), 1, 1, 0, 0, 0x400050, {});
  m.add_sample(1, MetricValue::count(1), 1, 1, 0, 0, 0x400010, {});
  InlineResolver r;
  ASSERT_TRUE(m.capture_and_resolve_symbols(r).ok());
  const ExportMapping* mp = nullptr;
  const ExportLine* line = nullptr;
  ASSERT_NE(m.find_symbol(1, 0x400050, 1, &mp, &line), nullptr);
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->line, 12u);  // the containing function's own line
  EXPECT_EQ(line->function, 0u);
  const ExportSymbolTable* table = m.symbol_table(mp->symbols);
  ASSERT_NE(table, nullptr);
  EXPECT_TRUE(table->has_inline_frames);
  auto lines = table->find_lines(0x1050);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(m.string(lines[0].function), "inner");
  EXPECT_EQ(m.string(lines[0].source_file), "inner.h");
  EXPECT_EQ(lines[0].line, 40u);
  EXPECT_EQ(lines[1].line, 12u);
  EXPECT_TRUE(table->find_lines(0x1051).empty());
}

TEST(ExportMachine, MemoryPerSampleIsBounded) {
  ExportMachine m;
  constexpr int kSamples = 200000;
  m.reserve_samples(kSamples);
  std::vector<std::uint64_t> stack(20);
  for (int i = 0; i < kSamples; ++i) {
    for (int f = 0; f < 20; ++f) stack[f] = 0x400000 + (i % 1000) * 64 + f;
    m.add_sample(i, MetricValue::duration(1000), 1, 1, 0, 0, 0x400000, stack);
  }
  // 1000 distinct stacks of 20 frames: the stacks cost little per sample.
  double per_sample = static_cast<double>(m.memory_bytes()) / kSamples;
  EXPECT_LE(per_sample, 64.0);
}

}  // namespace
}  // namespace one_collect
