// The format registry: what it holds, how it names files, and writing every
// format through it.
#include "one_collect/formats/format_registry.h"

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

const OutputFormat& format(std::string_view name) {
  Result<const OutputFormat*> f = find_output_format(name);
  return **f;  // aborts naming the error when missing
}

TEST(FormatRegistry, HoldsEveryFormatOnceInHelpOrder) {
  std::vector<std::string_view> names;
  for (const OutputFormat& f : output_formats()) {
    names.push_back(f.name);
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_EQ(f.description.find('\n'), std::string_view::npos) << f.name;
    EXPECT_TRUE(f.extension.starts_with(".")) << f.name;
    EXPECT_NE(f.write, nullptr) << f.name;
    ASSERT_TRUE(find_output_format(f.name).ok()) << f.name;
    EXPECT_EQ(*find_output_format(f.name), &f);
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"nettrace", "perfview-xml", "pprof", "speedscope",
                                                  "folded", "chrome"}));
  EXPECT_EQ(output_format_names(), "nettrace, perfview-xml, pprof, speedscope, folded, chrome");
  EXPECT_EQ(default_output_format().name, "nettrace");
}

TEST(FormatRegistry, DeprecatedAliasesResolveAndUnknownNamesAreErrors) {
  EXPECT_EQ(&format("perfview"), &format("perfview-xml"));
  EXPECT_EQ(&format("xml"), &format("perfview-xml"));
  EXPECT_EQ(&format("chrome-trace"), &format("chrome"));
  EXPECT_EQ(&format("perfetto"), &format("chrome"));
  Result<const OutputFormat*> bad = find_output_format("svg");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(bad.status().message(),
            "unknown format 'svg' (known: nettrace, perfview-xml, pprof, speedscope, folded, "
            "chrome)");
  EXPECT_FALSE(find_output_format("").ok());
  EXPECT_FALSE(find_output_format("PPROF").ok());
}

TEST(FormatRegistry, OnlyFormatsShowingLinesAskForThem) {
  std::set<std::string> with_lines;
  for (const OutputFormat& f : output_formats()) {
    if (f.shows_source_lines) with_lines.insert(std::string(f.name));
  }
  EXPECT_EQ(with_lines, (std::set<std::string>{"pprof", "speedscope"}));
}

TEST(FormatRegistry, FileNames) {
  std::vector<std::string> patterns;
  for (const OutputFormat& f : output_formats()) {
    patterns.push_back(output_file_pattern(f, "trace"));
  }
  EXPECT_EQ(patterns, (std::vector<std::string>{
                          "trace.nettrace", "trace.<comm>.<kind>.PerfView.xml", "trace.pb.gz",
                          "trace.speedscope.json", "trace.folded", "trace.chrome.json"}));
  EXPECT_EQ(output_target(format("pprof"), "d/run1"), "d/run1.pb.gz");
  EXPECT_EQ(output_target(format("perfview-xml"), "d/run1"), "d/run1");  // a prefix
  EXPECT_EQ(output_target_for_path(format("folded"), "d/cpu.txt"), "d/cpu.txt");
  const OutputFormat& xml = format("perfview-xml");
  EXPECT_EQ(output_target_for_path(xml, "d/x.PerfView.xml"), "d/x");
  EXPECT_EQ(output_target_for_path(xml, "d/x.xml"), "d/x");
  EXPECT_EQ(output_target_for_path(xml, "d/x.PerfView"), "d/x");
  EXPECT_EQ(output_target_for_path(xml, "d/x"), "d/x");
}

TEST(FormatRegistry, PathForKind) {
  const OutputFormat& pprof = format("pprof");
  const OutputFormat& folded = format("folded");
  EXPECT_EQ(path_for_kind("d/trace.pb.gz", pprof, "off_cpu"), "d/trace.off_cpu.pb.gz");
  EXPECT_EQ(path_for_kind("d/cpu.prof", pprof, "off_cpu"), "d/cpu.off_cpu.prof");
  EXPECT_EQ(path_for_kind("d.x/cpu", folded, "off_cpu"), "d.x/cpu.off_cpu");
  EXPECT_EQ(path_for_kind(".folded", folded, "off_cpu"), ".folded.off_cpu");
  EXPECT_EQ(path_for_kind("d/trace.folded", folded, "sched:sched_switch"),
            "d/trace.sched_sched_switch.folded");
}

TEST(FormatRegistry, KindsToExport) {
  ExportMachine m;
  build_format_fixture(m);
  SampleKind cpu = *m.find_sample_kind(kCpuKind);
  SampleKind off = *m.find_sample_kind(kOffCpuKind);
  EXPECT_EQ(kinds_to_export(m, true, true), (std::vector<SampleKind>{cpu, off}));
  EXPECT_EQ(kinds_to_export(m, false, true), (std::vector<SampleKind>{off, cpu}));
  ExportMachine empty;
  EXPECT_EQ(kinds_to_export(empty, true, false), std::vector<SampleKind>{0});
}

// Every format through the registry: the files are where the naming rule
// says, and what the writer reports is what is on disk.
TEST(FormatRegistry, WritesEveryFormatWhereItsNamingRuleSays) {
  ExportMachine m;
  build_format_fixture(m);
  testing::TempDir tmp("oc_format_registry");
  const std::string prefix = (tmp.path() / "trace").string();
  std::vector<SampleKind> kinds = kinds_to_export(m, true, true);
  ASSERT_EQ(kinds.size(), 2u);
  for (const OutputFormat& f : output_formats()) {
    std::vector<std::string> written;
    Status s = write_format(f, m, output_target(f, prefix), kinds, &written);
    ASSERT_TRUE(s.ok()) << f.name << ": " << s.to_string();
    std::set<std::string> names;
    for (const std::string& p : written) {
      EXPECT_TRUE(fs::is_regular_file(p)) << p;
      EXPECT_GT(fs::file_size(p), 0u) << p;
      names.insert(fs::path(p).filename());
    }
    std::string ext(f.extension);
    switch (f.files) {
      case FormatFiles::kOne:
        EXPECT_EQ(names, std::set<std::string>{"trace" + ext}) << f.name;
        break;
      case FormatFiles::kPerKind:
        EXPECT_EQ(names, (std::set<std::string>{"trace" + ext, "trace.off_cpu" + ext})) << f.name;
        break;
      case FormatFiles::kPerCommand:
        EXPECT_EQ(names, (std::set<std::string>{"trace.app.cpu" + ext, "trace.app.off_cpu" + ext,
                                                "trace.we_ird_____name___x_.cpu" + ext}))
            << f.name;
        break;
    }
  }
  std::set<std::string> on_disk;
  for (const auto& e : fs::directory_iterator(tmp.path())) on_disk.insert(e.path().filename());
  EXPECT_EQ(on_disk.size(), 2u + 3u + 3u * 2u);  // kOne, kPerCommand, kPerKind
}

TEST(FormatRegistry, WriteFailuresNameEveryFileAndTheFirstCode) {
  ExportMachine m;
  build_format_fixture(m);
  testing::TempDir tmp("oc_format_registry");
  const std::string prefix = (tmp.path() / "gone" / "trace").string();
  std::vector<SampleKind> kinds = kinds_to_export(m, true, true);
  std::vector<std::string> written;
  Status s = write_format(format("folded"), m, prefix + ".folded", kinds, &written);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("writing " + prefix + ".folded: "));
  EXPECT_THAT(s.message(), HasSubstr("; writing " + prefix + ".off_cpu.folded: "));
  EXPECT_TRUE(written.empty());
  s = write_format(format("perfview-xml"), m, prefix, kinds, &written);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("writing " + prefix + ".*.PerfView.xml: "));
  EXPECT_TRUE(written.empty());
}

}  // namespace
}  // namespace one_collect
