#include "one_collect/export/export_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace one_collect {
namespace {

// Symbols: each file has functions at 0x100-aligned offsets named after the
// file and offset; the kernel likewise.
class TableResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& out,
                 std::vector<ExportResolvedLine>&) override {
    for (std::uint64_t a : addresses) {
      std::uint64_t start = a & ~0xffULL;
      if ((start & 0xf00) == 0xf00) continue;  // leave some unresolved
      std::string base = q.kind == SymbolQuery::Kind::kKernel ? "k" : std::string(q.filename);
      out.push_back({start, start + 0x100, base + "_" + std::to_string(start >> 8), "", 0});
    }
    return ok_status();
  }
};

std::string path_of(const ExportGraph& g, std::uint32_t node) {
  std::string out;
  for (std::uint32_t n = node; n != ExportGraph::kRoot; n = g.nodes()[n].parent) {
    out = g.frame_name(g.nodes()[n].frame) + (out.empty() ? "" : ";") + out;
  }
  return out;
}

class ExportGraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m.set_comm(1, "app");
    m.add_mapping(1, 0, 0x1000, 0x10000, 0x1000, "/bin/app");
    m.set_comm(2, "other");
    m.add_mapping(2, 0, 0x1000, 0x10000, 0x1000, "/bin/app");
    // main(0x1100) -> work(0x1200) -> leaf at 0x1310 / 0x1320 (same function)
    std::vector<std::uint64_t> s1 = {0x1210, 0x1110};
    m.add_sample(1, MetricValue::duration(10), 1, 1, 0, 0, 0x1310, s1);
    m.add_sample(2, MetricValue::duration(10), 1, 1, 0, 0, 0x1320, s1);
    m.add_sample(3, MetricValue::duration(5), 1, 1, 0, 0, 0x1210,
                 std::vector<std::uint64_t>{0x1110});
    m.add_sample(4, MetricValue::duration(7), 2, 2, 0, 0, 0x1f10, s1);    // unresolved leaf
    m.add_sample(5, MetricValue::duration(100), 1, 1, 0, 1, 0x1310, s1);  // off_cpu kind
    TableResolver r;
    ASSERT_TRUE(m.capture_and_resolve_symbols(r).ok());
  }
  ExportMachine m;
};

TEST_F(ExportGraphTest, FunctionGranularityMergesAddresses) {
  ExportGraph g(m);
  EXPECT_EQ(g.add_samples(0), 4u);
  const auto& nodes = g.nodes();
  EXPECT_EQ(nodes[ExportGraph::kRoot].total, 32u);
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_path;
  for (std::uint32_t i = 1; i < nodes.size(); ++i) {
    by_path[path_of(g, i)] = {nodes[i].exclusive, nodes[i].total};
  }
  using P = std::pair<std::uint64_t, std::uint64_t>;
  EXPECT_EQ(by_path["app!/bin/app_17"], (P{0, 32}));
  EXPECT_EQ(by_path["app!/bin/app_17;app!/bin/app_18"], (P{5, 32}));
  EXPECT_EQ(by_path["app!/bin/app_17;app!/bin/app_18;app!/bin/app_19"], (P{20, 20}));
  EXPECT_EQ(by_path["app!/bin/app_17;app!/bin/app_18;app!0x1f10"], (P{7, 7}));
  EXPECT_EQ(nodes.size(), 5u);  // root + 4
}

TEST_F(ExportGraphTest, AddressGranularityKeepsAddresses) {
  GraphOptions o;
  o.granularity = FrameGranularity::kAddress;
  ExportGraph g(m, o);
  g.add_samples(0, {}, ExportGraph::sample_count());
  EXPECT_EQ(g.nodes()[ExportGraph::kRoot].total, 4u);
  // 0x1310 and 0x1320 stay apart; the leaf 0x1210 and the caller frame
  // returning to 0x1210 (named at 0x120f, inside its call) are apart too.
  EXPECT_EQ(g.nodes().size(), 7u);
}

TEST_F(ExportGraphTest, ProcessRootsAndFilters) {
  GraphOptions o;
  o.root = RootFrame::kProcess;
  ExportGraph g(m, o);
  g.add_samples(0, [](std::uint32_t pid) { return pid == 2; });
  EXPECT_EQ(g.nodes()[ExportGraph::kRoot].total, 7u);
  EXPECT_EQ(g.frame_name(g.nodes()[1].frame), "other (2)");
  g.reset();
  EXPECT_EQ(g.nodes().size(), 1u);
  GraphOptions by_comm;
  by_comm.root = RootFrame::kComm;
  ExportGraph c(m, by_comm);
  c.add_samples(0);
  EXPECT_EQ(c.frame_name(c.nodes()[1].frame), "app");
  g.add_samples(1);
  EXPECT_EQ(g.nodes()[ExportGraph::kRoot].total, 100u);
}

TEST_F(ExportGraphTest, CustomConverterAndNoStack) {
  ExportGraph g(m);
  ExportSample bare;
  bare.pid = 9;
  bare.kind = 0;
  std::uint32_t leaf = g.add_sample(bare, 3);
  EXPECT_NE(leaf, ExportGraph::kRoot);  // a frame-less sample still gets a node
  EXPECT_EQ(g.frame_name(g.nodes()[leaf].frame), "[unknown]!0x0");
  g.add_samples(0, {}, [](const ExportMachine&, const ExportSample& s) { return s.value * 2; });
  EXPECT_EQ(g.nodes()[ExportGraph::kRoot].total, 3u + 64u);
}

}  // namespace
}  // namespace one_collect
