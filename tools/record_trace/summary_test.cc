#include "tools/record_trace/summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/record_trace/test_machine.h"

namespace one_collect::record_trace {
namespace {

using testing::fn;
using ::testing::HasSubstr;
using testing::TableResolver;

enum Fn { kMain, kSort, kIntro, kMap, kHash, kRecurse };

// main -> sort -> introsort (50), main -> map (30), main -> hash (15),
// main -> recurse -> recurse -> recurse (5): recursion counted once in total.
void build(ExportMachine& m) {
  m.metadata().start_time = 1'000'000'000;
  m.metadata().end_time = 3'000'000'000;
  m.add_process_start(42, 0, "demo");
  m.add_mapping(42, 0, testing::kBase, testing::kBase + 0x10000, 0, "/usr/bin/demo");
  m.add_process_start(43, 0, "other");
  SampleKind cpu = m.sample_kind(kCpuKind, MetricKind::kDuration);
  std::uint64_t t = 1'000'000'000;
  auto add = [&](int n, std::uint32_t pid, std::uint64_t leaf, std::vector<std::uint64_t> frames) {
    for (int i = 0; i < n; ++i) {
      m.add_sample(t += 1000, MetricValue::duration(1'000'000), pid, pid, 0, cpu, leaf, frames);
    }
  };
  add(50, 42, fn(kIntro), {fn(kSort), fn(kMain)});
  add(30, 42, fn(kMap), {fn(kMain)});
  add(15, 42, fn(kHash), {fn(kMain)});
  add(5, 42, fn(kRecurse), {fn(kRecurse), fn(kRecurse), fn(kMain)});
  m.add_lost(kCpuKind, 3);
  TableResolver resolver({"main", "sort_work(long)", "std::__introsort_loop<int*>", "map_work()",
                          "hash_work()", "recurse(int)"});
  ASSERT_TRUE(m.capture_and_resolve_symbols(resolver).ok());
}

const HotFunction* find(const std::vector<HotFunction>& v, std::string_view name) {
  for (const HotFunction& h : v) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

TEST(RecordTraceSummary, SelfAndTotalSharesOfKnownFunctions) {
  ExportMachine m;
  build(m);
  HotFunctions hot = hottest_functions(m, 0, 10);
  EXPECT_EQ(hot.samples, 100u);
  EXPECT_EQ(hot.value, 100u * 1'000'000);
  ASSERT_GE(hot.by_self.size(), 4u);
  EXPECT_EQ(hot.by_self[0].name, "std::__introsort_loop<int*>");
  EXPECT_DOUBLE_EQ(hot.by_self[0].self_share, 50);
  EXPECT_EQ(hot.by_self[0].module, "demo");
  EXPECT_EQ(hot.by_self[1].name, "map_work()");
  EXPECT_EQ(hot.by_self[2].name, "hash_work()");
  EXPECT_EQ(hot.by_self[3].name, "recurse(int)");
  EXPECT_EQ(find(hot.by_self, "main"), nullptr);  // no self time: not listed

  ASSERT_GE(hot.by_total.size(), 6u);
  EXPECT_EQ(hot.by_total[0].name, "main");
  EXPECT_DOUBLE_EQ(hot.by_total[0].total_share, 100);
  EXPECT_DOUBLE_EQ(hot.by_total[0].self_share, 0);
  const HotFunction* sort = find(hot.by_total, "sort_work(long)");
  ASSERT_NE(sort, nullptr);
  EXPECT_DOUBLE_EQ(sort->total_share, 50);
  EXPECT_DOUBLE_EQ(sort->self_share, 0);
  const HotFunction* rec = find(hot.by_total, "recurse(int)");
  ASSERT_NE(rec, nullptr);
  EXPECT_DOUBLE_EQ(rec->total_share, 5);  // three frames deep, counted once
  EXPECT_DOUBLE_EQ(rec->self_share, 5);
}

TEST(RecordTraceSummary, CountLimitsTheTables) {
  ExportMachine m;
  build(m);
  HotFunctions hot = hottest_functions(m, 0, 2);
  EXPECT_EQ(hot.by_self.size(), 2u);
  EXPECT_EQ(hot.by_total.size(), 2u);
}

TEST(RecordTraceSummary, EmptyKindGivesEmptyTables) {
  ExportMachine m;
  build(m);
  HotFunctions hot = hottest_functions(m, *m.find_sample_kind(kOffCpuKind), 10);
  EXPECT_EQ(hot.samples, 0u);
  EXPECT_TRUE(hot.by_self.empty());
  EXPECT_EQ(format_hot_functions(m, hot), "");
}

TEST(RecordTraceSummary, TextNamesSamplesLostDurationFilesAndFunctions) {
  ExportMachine m;
  build(m);
  RecordingFacts facts;
  facts.files = {{"out/trace.nettrace", 1536}, {"out/trace.pb.gz", 2u << 20}};
  facts.notes = {"something worth knowing"};
  std::string text = format_recording_summary(m, facts);
  EXPECT_THAT(text, HasSubstr("recorded 2.00 s: 100 cpu samples, 3 lost (2.91% of 103)"));
  EXPECT_THAT(text, HasSubstr("1 process"));
  EXPECT_THAT(text, HasSubstr("more than 1% lost"));
  EXPECT_THAT(text, HasSubstr("note: something worth knowing"));
  EXPECT_THAT(text, HasSubstr("out/trace.nettrace  1.5 KiB"));
  EXPECT_THAT(text, HasSubstr("out/trace.pb.gz     2.0 MiB"));

  std::string table = format_hot_functions(m, hottest_functions(m, 0), 60);
  EXPECT_THAT(table, HasSubstr("hottest functions by self (cpu, 100 samples)"));
  EXPECT_THAT(table, HasSubstr("hottest functions by total (cpu, 100 samples)"));
  EXPECT_THAT(table, HasSubstr(" 50.00%   50.00%  std::__introsort_loop<int*>  [demo]"));
  EXPECT_THAT(table, HasSubstr("  0.00%  100.00%  main  [demo]"));
}

TEST(RecordTraceSummary, LongNamesAreCutToTheWidth) {
  ExportMachine m;
  m.add_process_start(1, 0, "x");
  m.add_mapping(1, 0, testing::kBase, testing::kBase + 0x10000, 0, "/usr/bin/demo");
  m.add_sample(1, MetricValue::duration(1), 1, 1, 0, 0, fn(0), {});
  TableResolver resolver({std::string(300, 'f')});
  ASSERT_TRUE(m.capture_and_resolve_symbols(resolver).ok());
  std::string table = format_hot_functions(m, hottest_functions(m, 0), 80);
  EXPECT_THAT(table, HasSubstr(std::string(49, 'f') + "...  [demo]\n"));
}

TEST(RecordTraceSummary, CompactNamesDropTemplateArgumentsAndParameters) {
  EXPECT_EQ(compact_function_name("void std::__introsort_loop<int*, long>(int*, int*, long)"),
            "void std::__introsort_loop<...>(...)");
  EXPECT_EQ(compact_function_name("(anonymous namespace)::f(std::vector<int, A<B>>)"),
            "(anonymous namespace)::f(...)");
  EXPECT_EQ(compact_function_name("main"), "main");
  EXPECT_EQ(compact_function_name("bool operator<(A const&, B const&)"),
            "bool operator<(A const&, B const&)");
  EXPECT_EQ(compact_function_name("unbalanced<(x"), "unbalanced<(x");
}

TEST(RecordTraceSummary, HumanNumbers) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1.0 KiB");
  EXPECT_EQ(human_bytes(3u << 30), "3.00 GiB");
  EXPECT_EQ(with_commas(0), "0");
  EXPECT_EQ(with_commas(999), "999");
  EXPECT_EQ(with_commas(1000), "1,000");
  EXPECT_EQ(with_commas(12345678), "12,345,678");
}

}  // namespace
}  // namespace one_collect::record_trace
