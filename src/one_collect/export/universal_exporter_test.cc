#include "one_collect/export/universal_exporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "one_collect/export/export_graph.h"

namespace one_collect {
namespace {

using ::testing::HasSubstr;

class FakeResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery&, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& out,
                 std::vector<ExportResolvedLine>&) override {
    for (std::uint64_t a : addresses) out.push_back({a, a + 1, "fn_" + std::to_string(a), "", 0});
    return ok_status();
  }
};

// A fake OS: on start it "rundowns" one process; each parse step feeds a
// burst of synthetic CPU samples and context switches, honouring the settings.
class FakeSession : public ExportSession {
 public:
  explicit FakeSession(int steps = 5) : steps_(steps) {}

  Status start(std::string_view name, const ExportSettings& settings,
               const Writable<ExportMachine>& machine) override {
    if (name == "fail") return error(ErrorCode::kPermissionDenied, "perf_event_open: EACCES");
    settings_ = &settings;
    machine_ = machine;
    machine.write([&](ExportMachine& m) {
      m.add_process_start(100, 0, "fake");
      m.add_mapping(100, 0, 0x400000, 0x500000, 0, "/usr/bin/fake");
      m.metadata().host = "testhost";
      m.metadata().kernel = "Fake 1.0";
      m.metadata().start_time = 1000;
    });
    log.push_back("start");
    return ok_status();
  }

  Status parse_until(const std::function<bool()>& should_stop) override {
    log.push_back("parse");
    std::uint64_t t = 1000;
    for (int step = 0; !should_stop(); ++step) {
      if (step >= steps_) {
        // Out of synthetic data: say so once, then wait for the stop request
        // like a real session.
        if (step == steps_) {
          std::lock_guard lock(fed_mutex_);
          fed_ = true;
          fed_cv_.notify_all();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      machine_->write([&](ExportMachine& m) {
        std::vector<std::uint64_t> stack = {0x400100, 0x400200};
        if (!settings_->callstacks()) stack.clear();
        for (int i = 0; i < 10; ++i) {
          t += 1000;
          if (settings_->cpu_sampling()) {
            m.add_sample(t, MetricValue::duration(settings_->cpu_period_ns()), 100, 100 + (i % 2),
                         static_cast<std::uint16_t>(i % 2), 0, 0x400010, stack);
          }
          if (settings_->context_switches()) {
            m.on_switch_out(100, 101, 1, t, 0x400020, stack);
            m.on_switch_in(101, t + 500);
          }
        }
        m.add_lost("cpu", 1);
      });
    }
    return ok_status();
  }

  Status stop() override {
    log.push_back("stop");
    machine_->write([&](ExportMachine& m) { m.metadata().end_time = 999999; });
    return ok_status();
  }

  SymbolResolver* symbol_resolver() override { return &resolver_; }

  // Blocks until every synthetic step has been fed to the machine (no
  // wall-clock guess: the collection thread may be slow to get a CPU).
  void wait_until_fed() {
    std::unique_lock lock(fed_mutex_);
    fed_cv_.wait(lock, [&] { return fed_; });
  }

  std::vector<std::string> log;

 private:
  int steps_;
  std::mutex fed_mutex_;
  std::condition_variable fed_cv_;
  bool fed_ = false;
  const ExportSettings* settings_ = nullptr;
  std::optional<Writable<ExportMachine>> machine_;
  FakeResolver resolver_;
};

TEST(UniversalExporter, EndToEndWithBackgroundCollection) {
  ExportSettings settings;
  ASSERT_TRUE(settings.add_scenario("cpu").ok());
  ASSERT_TRUE(settings.add_scenario("off_cpu").ok());
  ASSERT_TRUE(settings.set_cpu_sampling_frequency(500).ok());
  settings.set_output_path("unused");
  // Keep only thread 100's CPU samples and every off-CPU sample.
  settings.add_sample_hook(
      [](const SampleHookContext& c) { return c.sample.kind != 0 || c.sample.tid == 100; });
  auto session = std::make_unique<FakeSession>();
  FakeSession* fake = session.get();
  UniversalExporter exporter(std::move(settings), std::move(session));

  std::vector<std::string> order;
  std::uint64_t exported_cpu = 0;
  exporter.add_parsed_hook([&](ExportMachine& m) {
    order.push_back("parsed");
    // Custom processing after aggregation: symbols are already resolved.
    const ExportSymbol* s = m.find_symbol(100, 0x400010, 2000);
    if (!s || m.string(s->name) != "fn_16") return error(ErrorCode::kInternal, "unresolved");
    m.add_lost("parsed_marker", 7);
    return ok_status();
  });
  exporter.add_export_hook([&](const ExportMachine& m, const ExportSettings& s) {
    order.push_back("export:" + s.output_path());
    ExportGraph g(m);
    g.add_samples(0, {}, ExportGraph::sample_count());
    exported_cpu = g.nodes()[ExportGraph::kRoot].total;
    return ok_status();
  });

  auto machine = exporter.start_collection("session");
  ASSERT_TRUE(machine.ok()) << machine.status().to_string();
  EXPECT_TRUE(exporter.running());
  // Let the fake produce all its bursts; the thread stops when asked.
  fake->wait_until_fed();
  ASSERT_TRUE(exporter.stop_and_export().ok());
  EXPECT_FALSE(exporter.running());

  EXPECT_EQ(fake->log, (std::vector<std::string>{"start", "parse", "stop"}));
  EXPECT_EQ(order, (std::vector<std::string>{"parsed", "export:unused"}));
  exporter.machine().read([&](const ExportMachine& m) {
    std::size_t cpu = 0;
    std::size_t off = 0;
    for (const ExportSample& s : m.samples()) {
      if (s.kind == 0) {
        ++cpu;
        EXPECT_EQ(s.tid, 100u);
        EXPECT_EQ(s.value, 2000000u);
      } else {
        ++off;
        EXPECT_EQ(s.value, 500u);
      }
    }
    EXPECT_EQ(cpu, 5u * 5u);  // 5 steps x 10 samples, half kept by the hook
    EXPECT_EQ(off, 5u * 10u);
    EXPECT_EQ(exported_cpu, cpu);
    EXPECT_EQ(m.metadata().sample_frequency_hz, 500u);
    EXPECT_EQ(m.metadata().sample_period_ns, 2000000u);
    EXPECT_EQ(m.metadata().host, "testhost");
    EXPECT_EQ(m.metadata().end_time, 999999u);
    EXPECT_EQ(m.total_lost(), 5u + 7u);
  });
  // Machine handle from start_collection shares the same value.
  EXPECT_EQ(machine->use_count(), exporter.machine().use_count());
}

TEST(UniversalExporter, SynchronousCollectUntil) {
  ExportSettings settings;
  ASSERT_TRUE(settings.add_scenario("cpu").ok());
  UniversalExporter exporter(std::move(settings), std::make_unique<FakeSession>(3));
  int polls = 0;
  ASSERT_TRUE(exporter.collect_until("sync", [&] { return ++polls > 3; }).ok());
  exporter.machine().read([](const ExportMachine& m) { EXPECT_EQ(m.samples().size(), 30u); });
  // A second collection works on a fresh machine.
  polls = 0;
  ASSERT_TRUE(exporter.collect_until("again", [&] { return ++polls > 1; }).ok());
  exporter.machine().read([](const ExportMachine& m) { EXPECT_EQ(m.samples().size(), 10u); });
}

TEST(UniversalExporter, Errors) {
  {
    UniversalExporter exporter(ExportSettings(), std::make_unique<FakeSession>());
    Status s = exporter.collect_until("x", [] { return true; });
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);  // nothing to collect
    EXPECT_THAT(s.message(), HasSubstr("nothing to collect"));
    EXPECT_EQ(exporter.stop_and_export().code(), ErrorCode::kInvalidArgument);
  }
  {
    ExportSettings settings;
    ASSERT_TRUE(settings.add_scenario("cpu").ok());
    UniversalExporter exporter(std::move(settings), std::make_unique<FakeSession>());
    auto r = exporter.start_collection("fail");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  }
  {
    ExportSettings settings;
    ASSERT_TRUE(settings.add_scenario("cpu").ok());
    UniversalExporter exporter(std::move(settings), std::make_unique<FakeSession>(1));
    int calls = 0;
    exporter.add_export_hook([&](const ExportMachine&, const ExportSettings&) {
      ++calls;
      return error(ErrorCode::kIo, "disk full");
    });
    exporter.add_export_hook([&](const ExportMachine&, const ExportSettings&) {
      ++calls;
      return ok_status();
    });
    Status s = exporter.collect_for("x", std::chrono::milliseconds(1));
    EXPECT_EQ(s.code(), ErrorCode::kIo);
    EXPECT_THAT(s.message(), HasSubstr("disk full"));
    EXPECT_EQ(calls, 2);  // the failing hook did not stop the next one
  }
  {
    ExportSettings settings;
    ASSERT_TRUE(settings.add_scenario("cpu").ok());
    UniversalExporter exporter(std::move(settings), std::make_unique<FakeSession>(1));
    bool exported = false;
    exporter.add_parsed_hook([](ExportMachine&) { return error(ErrorCode::kInternal, "boom"); });
    exporter.add_export_hook([&](const ExportMachine&, const ExportSettings&) {
      exported = true;
      return ok_status();
    });
    Status s = exporter.collect_until("x", [] { return true; });
    EXPECT_THAT(s.message(), HasSubstr("parsed hook"));
    EXPECT_FALSE(exported);
  }
  {
    // Destroying a running exporter stops its thread.
    ExportSettings settings;
    ASSERT_TRUE(settings.add_scenario("cpu").ok());
    UniversalExporter exporter(std::move(settings), std::make_unique<FakeSession>(1));
    ASSERT_TRUE(exporter.start_collection("x").ok());
  }
}

}  // namespace
}  // namespace one_collect
