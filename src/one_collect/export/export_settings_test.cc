#include "one_collect/export/export_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "one_collect/export/scenario_registry.h"

namespace one_collect {
namespace {

using ::testing::HasSubstr;

TEST(ExportSettings, DefaultsCollectNothing) {
  ExportSettings s;
  EXPECT_FALSE(s.cpu_sampling());
  EXPECT_FALSE(s.callstacks());
  EXPECT_FALSE(s.context_switches());
  Status v = s.validate();
  EXPECT_EQ(v.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(v.message(), HasSubstr("cpu, off_cpu"));
}

TEST(ExportSettings, FrequencyOrInterval) {
  ExportSettings s;
  ASSERT_TRUE(s.set_cpu_sampling_frequency(99).ok());
  EXPECT_TRUE(s.cpu_sampling());
  EXPECT_EQ(s.cpu_frequency_hz(), 99u);
  EXPECT_EQ(s.cpu_interval_ns(), 0u);
  EXPECT_EQ(s.cpu_period_ns(), 1000000000u / 99);
  ASSERT_TRUE(s.set_cpu_sampling_interval_ns(2000000).ok());
  EXPECT_EQ(s.cpu_frequency_hz(), 0u);
  EXPECT_EQ(s.cpu_period_ns(), 2000000u);
  EXPECT_EQ(s.set_cpu_sampling_frequency(0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.set_cpu_sampling_interval_ns(10).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(s.validate().ok());
}

TEST(ExportSettings, CallstackModes) {
  ExportSettings s;
  s.enable_callstacks(true);
  EXPECT_EQ(s.callstack_mode(), CallstackMode::kDwarf);
  s.set_callstack_mode(CallstackMode::kFramePointer);
  s.enable_callstacks(true);  // keeps the chosen mode
  EXPECT_EQ(s.callstack_mode(), CallstackMode::kFramePointer);
  s.enable_callstacks(false);
  EXPECT_FALSE(s.callstacks());
  EXPECT_EQ(callstack_mode_name(CallstackMode::kDwarf), "dwarf");
}

TEST(ExportSettings, TargetsEventsHooksOutput) {
  ExportSettings s;
  s.add_target_pid(5);
  s.add_target_pid(5);
  s.add_target_pid(6);
  EXPECT_EQ(s.target_pids(), (std::vector<std::uint32_t>{5, 6}));
  ASSERT_TRUE(s.add_event({"sched", "sched_wakeup", true, "", true}).ok());
  ASSERT_TRUE(s.add_event({"irq", "irq_handler_entry", false, "", false}).ok());
  EXPECT_EQ(s.events()[0].sample_kind, "sched_wakeup");
  EXPECT_FALSE(s.events()[1].as_samples);
  EXPECT_EQ(s.add_event({"", "x", false, "", false}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.add_event({"a/b", "x", false, "", false}).code(), ErrorCode::kInvalidArgument);
  s.add_sample_hook([](const SampleHookContext&) { return true; });
  EXPECT_EQ(s.sample_hooks().size(), 1u);
  s.set_output_path("/tmp/x");
  EXPECT_EQ(s.output_path(), "/tmp/x");
  EXPECT_TRUE(s.validate().ok());  // events alone are something to collect
}

TEST(ExportSettings, Scenarios) {
  ExportSettings s;
  ASSERT_TRUE(s.add_scenario("cpu").ok());
  EXPECT_TRUE(s.cpu_sampling());
  EXPECT_TRUE(s.callstacks());
  EXPECT_EQ(s.cpu_frequency_hz(), 1000u);
  EXPECT_FALSE(s.context_switches());
  ASSERT_TRUE(s.add_scenario("off_cpu").ok());
  ASSERT_TRUE(s.add_scenario("off_cpu").ok());
  EXPECT_TRUE(s.context_switches());
  EXPECT_EQ(s.scenarios(), (std::vector<std::string>{"cpu", "off_cpu"}));

  Status bad = s.add_scenario("cpu_profiling");
  EXPECT_EQ(bad.code(), ErrorCode::kNotFound);
  EXPECT_THAT(bad.message(), HasSubstr("unknown scenario 'cpu_profiling'"));
  EXPECT_THAT(bad.message(), HasSubstr("known scenarios: cpu, off_cpu"));
}

TEST(ExportSettings, ScenarioKeepsAnExplicitFrequency) {
  ExportSettings s;
  ASSERT_TRUE(s.set_cpu_sampling_frequency(4000).ok());
  ASSERT_TRUE(s.add_scenario("cpu").ok());
  EXPECT_EQ(s.cpu_frequency_hz(), 4000u);
}

TEST(ScenarioRegistry, EveryBuiltinHasADescription) {
  const ScenarioRegistry& r = ScenarioRegistry::builtin();
  ASSERT_GE(r.scenarios().size(), 2u);
  for (const Scenario& s : r.scenarios()) {
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_TRUE(s.apply) << s.name;
  }
  EXPECT_EQ(r.find("nope"), nullptr);
}

}  // namespace
}  // namespace one_collect
