#include "one_collect/export/off_cpu_tracker.h"

#include <gtest/gtest.h>

namespace one_collect {
namespace {

constexpr SampleKind kOffCpu = 1;

TEST(OffCpuTracker, SwitchOutThenInGivesTheWaitWithTheBlockingStack) {
  OffCpuTracker t;
  t.switch_out(/*pid=*/10, /*tid=*/11, /*cpu=*/3, /*time=*/1000, /*leaf_ip=*/0x401000,
               /*callstack=*/7);
  EXPECT_EQ(t.pending(), 1u);
  auto s = t.switch_in(11, 1750, kOffCpu);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->time, 1000u);
  EXPECT_EQ(s->value, 750u);
  EXPECT_EQ(s->leaf_ip, 0x401000u);
  EXPECT_EQ(s->pid, 10u);
  EXPECT_EQ(s->tid, 11u);
  EXPECT_EQ(s->callstack, 7u);
  EXPECT_EQ(s->cpu, 3u);
  EXPECT_EQ(s->kind, kOffCpu);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_FALSE(t.switch_in(11, 2000, kOffCpu).has_value()) << "each wait is reported once";
}

TEST(OffCpuTracker, SwitchInWithoutSwitchOutGivesNothing) {
  OffCpuTracker t;
  EXPECT_FALSE(t.switch_in(5, 100, kOffCpu).has_value());
}

TEST(OffCpuTracker, IdleTaskNeverWaits) {
  OffCpuTracker t;
  t.switch_out(0, 0, 0, 100, 0, 0);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_FALSE(t.switch_in(0, 200, kOffCpu).has_value());
}

TEST(OffCpuTracker, LaterSwitchOutReplacesAnUnpairedOne) {
  OffCpuTracker t;
  t.switch_out(1, 2, 0, 100, 0xa, 1);
  t.switch_out(1, 2, 1, 300, 0xb, 2);  // the switch-in between was lost
  auto s = t.switch_in(2, 400, kOffCpu);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->time, 300u);
  EXPECT_EQ(s->value, 100u);
  EXPECT_EQ(s->leaf_ip, 0xbu);
}

TEST(OffCpuTracker, OutOfOrderSwitchInIsDroppedAndForgotten) {
  OffCpuTracker t;
  t.switch_out(1, 2, 0, 500, 0, 0);
  EXPECT_FALSE(t.switch_in(2, 400, kOffCpu).has_value());
  EXPECT_EQ(t.pending(), 0u);
}

TEST(OffCpuTracker, ThreadsArePairedIndependently) {
  OffCpuTracker t;
  t.switch_out(1, 2, 0, 100, 0, 0);
  t.switch_out(1, 3, 1, 150, 0, 0);
  auto b = t.switch_in(3, 160, kOffCpu);
  auto a = t.switch_in(2, 400, kOffCpu);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->value, 300u);
  EXPECT_EQ(b->value, 10u);
}

}  // namespace
}  // namespace one_collect
