// End to end: settings -> UniversalExporter with a fake OS session ->
// export hooks by format name -> files on disk.
#include "one_collect/formats/format_hooks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "one_collect/formats/testing/format_fixture.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Replays the format fixture as if the OS had produced it.
class FixtureSession : public ExportSession {
 public:
  Status start(std::string_view, const ExportSettings&,
               const Writable<ExportMachine>& machine) override {
    machine_ = machine;
    return ok_status();
  }
  Status parse_until(const std::function<bool()>&) override {
    machine_->write([](ExportMachine& m) { build_format_fixture(m); });
    return ok_status();
  }
  Status stop() override { return ok_status(); }

 private:
  std::optional<Writable<ExportMachine>> machine_;
};

TEST(FormatHooks, EveryFormatByNameThroughTheUniversalExporter) {
  testing::TempDir tmp("oc_format_hooks");
  const fs::path& dir = tmp.path();
  ExportSettings settings;
  ASSERT_TRUE(settings.add_scenario("cpu").ok());
  ASSERT_TRUE(settings.add_scenario("off_cpu").ok());
  settings.set_output_path((dir / "profile").string());
  UniversalExporter exporter(std::move(settings), std::make_unique<FixtureSession>());
  // Every registered format, by the name record-trace's --format takes.
  for (const OutputFormat& f : output_formats()) {
    auto hook = export_hook_for(f.name);
    ASSERT_TRUE(hook.ok()) << f.name;
    exporter.add_export_hook(*hook);
  }
  ASSERT_TRUE(exporter.collect_until("t", [] { return true; }).ok());
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.insert(e.path().filename());
  EXPECT_EQ(files, (std::set<std::string>{
                       "profile.nettrace", "profile.pb.gz", "profile.off_cpu.pb.gz",
                       "profile.speedscope.json", "profile.off_cpu.speedscope.json",
                       "profile.folded", "profile.off_cpu.folded", "profile.chrome.json",
                       "profile.app.cpu.PerfView.xml", "profile.app.off_cpu.PerfView.xml",
                       "profile.we_ird_____name___x_.cpu.PerfView.xml"}));
}

// Only off-CPU asked for: it gets the plain names, as in record-trace.
TEST(FormatHooks, TheFirstRequestedKindGetsThePlainName) {
  testing::TempDir tmp("oc_format_hooks");
  ExportSettings settings;
  ASSERT_TRUE(settings.add_scenario("off_cpu").ok());
  settings.set_output_path((tmp.path() / "p").string());
  UniversalExporter exporter(std::move(settings), std::make_unique<FixtureSession>());
  exporter.add_export_hook(*export_hook_for("folded"));
  ASSERT_TRUE(exporter.collect_until("t", [] { return true; }).ok());
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(tmp.path())) files.insert(e.path().filename());
  EXPECT_EQ(files, (std::set<std::string>{"p.folded", "p.cpu.folded"}));
  EXPECT_THAT(testing::read_text(tmp.path() / "p.folded"), HasSubstr("[kernel]!schedule"));
  EXPECT_THAT(testing::read_text(tmp.path() / "p.cpu.folded"),
              ::testing::Not(HasSubstr("[kernel]!schedule")));
}

TEST(FormatHooks, UnknownFormatAndMissingOutput) {
  auto bad = export_hook_for("svg");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("unknown format 'svg' (known: " + output_format_names() + ")"));
  // The old name still works (deprecated alias).
  EXPECT_TRUE(export_hook_for("perfview").ok());
  ExportMachine m;
  ExportSettings no_output;
  Status s = (*export_hook_for("chrome"))(m, no_output);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace one_collect
