#include "one_collect/export/export_process_tracker.h"

#include <gtest/gtest.h>

namespace one_collect {
namespace {

constexpr StringId kKernelName = 1;

ExportMapping mapping(std::uint64_t start, std::uint64_t end, std::uint64_t time,
                      StringId filename = 7, std::uint64_t file_offset = 0) {
  ExportMapping m;
  m.start = start;
  m.end = end;
  m.time = time;
  m.filename = filename;
  m.file_offset = file_offset;
  return m;
}

TEST(ExportProcessTracker, ProcessesAreFoundOrAddedOnce) {
  ExportProcessTracker t(kKernelName);
  EXPECT_EQ(t.find(42), nullptr);
  ExportProcess& p = t.process(42);
  EXPECT_EQ(p.pid, 42u);
  EXPECT_EQ(p.ns_pid, 42u);
  EXPECT_EQ(p.start_time, kUnknownTime) << "unknown start: existed before collection";
  EXPECT_EQ(&t.process(42), t.find(42));
  EXPECT_EQ(t.processes().size(), 1u);
}

TEST(ExportProcessTracker, StartAndExitRecordTimesAndKeepCommWhenNoneGiven) {
  ExportProcessTracker t(kKernelName);
  t.start(5, 100, /*comm=*/9);
  t.start(5, 120, /*comm=*/0);
  t.exit(5, 300);
  const ExportProcess* p = t.find(5);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->start_time, 120u);
  EXPECT_EQ(p->comm, 9u);
  EXPECT_EQ(p->exit_time, 300u);
}

TEST(ExportProcessTracker, MappingLookupIsTimeAware) {
  ExportProcessTracker t(kKernelName);
  std::uint32_t old_id = t.add_mapping(1, mapping(0x1000, 0x2000, 10, 7));
  std::uint32_t new_id = t.add_mapping(1, mapping(0x1000, 0x2000, 50, 8));
  EXPECT_NE(old_id, 0u);
  EXPECT_NE(old_id, new_id);
  EXPECT_EQ(t.find_mapping(1, 0x1800, 20)->filename, 7u);
  EXPECT_EQ(t.find_mapping(1, 0x1800, 50)->filename, 8u);
  EXPECT_EQ(t.find_mapping(1, 0x1800, 5)->filename, 7u) << "before every mapping: the oldest";
  EXPECT_EQ(t.find_mapping(1, 0x2000, 60), nullptr) << "end is exclusive";
  EXPECT_EQ(t.find_mapping(2, 0x1800, 60), nullptr) << "another process";
}

TEST(ExportProcessTracker, EmptyRangeIsNotAMapping) {
  ExportProcessTracker t(kKernelName);
  EXPECT_EQ(t.add_mapping(1, mapping(0x2000, 0x2000, 0)), 0u);
}

TEST(ExportProcessTracker, OverlappingMappingsAreFoundBehindALongOne) {
  ExportProcessTracker t(kKernelName);
  t.add_mapping(1, mapping(0x1000, 0x9000, 0, 7));  // long, starts first
  t.add_mapping(1, mapping(0x2000, 0x3000, 1, 8));
  t.add_mapping(1, mapping(0x4000, 0x5000, 1, 9));  // mapped over it later
  EXPECT_EQ(t.find_mapping(1, 0x6000, 2)->filename, 7u);
  EXPECT_EQ(t.find_mapping(1, 0x4800, 2)->filename, 9u);
  EXPECT_EQ(t.find_mapping(1, 0x4800, 0)->filename, 7u) << "before the later mapping";
}

TEST(ExportProcessTracker, ForkCopiesMappingsUnderNewIds) {
  ExportProcessTracker t(kKernelName);
  t.start(1, 0, 9);
  std::uint32_t parent_id = t.add_mapping(1, mapping(0x1000, 0x2000, 0));
  t.fork(1, 2, 40);
  const ExportProcess* child = t.find(2);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->start_time, 40u);
  EXPECT_EQ(child->comm, 9u);
  ASSERT_EQ(child->mappings().size(), 1u);
  EXPECT_NE(child->mappings()[0].id, parent_id);
  EXPECT_EQ(t.find_mapping(2, 0x1800, 50)->start, 0x1000u);
  t.fork(2, 2, 60);  // a thread reported as its own fork: no change
  EXPECT_EQ(t.find(2)->start_time, 40u);
}

TEST(ExportProcessTracker, KernelAddressesFallBackToTheKernelMapping) {
  ExportProcessTracker t(kKernelName);
  const ExportMapping* k = t.find_mapping(1, kKernelAddressStart + 0x10, 0);
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->kernel);
  EXPECT_EQ(k->filename, kKernelName);
  // A kernel module registered on the process wins over the machine-wide one.
  ExportMapping module = mapping(kKernelAddressStart + 0x1000, kKernelAddressStart + 0x2000, 0, 5);
  module.kernel = true;
  t.add_mapping(1, module);
  EXPECT_EQ(t.find_mapping(1, kKernelAddressStart + 0x1800, 0)->filename, 5u);
}

}  // namespace
}  // namespace one_collect
