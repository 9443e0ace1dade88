// Golden and structural tests of every writer on the synthetic fixture.
// Independent readers (go pprof, speedscope's JSON schema, python's XML and
// JSON parsers) check the same outputs in the formats_*_check ctest tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "one_collect/formats/chrome_trace.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/perfview_xml.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/formats/speedscope.h"
#include "one_collect/formats/testing/format_fixture.h"
#include "one_collect/testing/temp_dir.h"
#include "profile.pb.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class FormatsTest : public ::testing::Test {
 protected:
  void SetUp() override { build_format_fixture(m); }
  static std::string slurp(const fs::path& p) { return testing::read_text(p); }
  static std::size_t count(const std::string& text, std::string_view what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
  }
  ExportMachine m;
  testing::TempDir tmp{"oc_formats"};
  fs::path dir = tmp.path();
};

// ---------------------------------------------------------------- folded

TEST_F(FormatsTest, FoldedGolden) {
  EXPECT_EQ(
      folded_text(m),
      "app;libc.so.6!__libc_start_main;app!main 1\n"
      "app;libc.so.6!__libc_start_main;app!main;app!std::vector<int>::push_back(int const&) 3\n"
      "app;libc.so.6!__libc_start_main;app!main;app!std::vector<int>::push_back(int const&);"
      "app!operator<<(a&b, \"q\" 'x':y) 1\n"
      "app;libc.so.6!__libc_start_main;app!main;libc.so.6!read;[kernel]!do_syscall_64 1\n"
      "we<ird> & \"name\" 'x';libc.so.6!__libc_start_main;app!main;libc.so.6!bad\xEF\xBF\xBDutf8 "
      "1\n"
      "we<ird> & \"name\" 'x';libc.so.6!__libc_start_main;app!main;app!0x9000 1\n"
      "app;libc.so.6!__libc_start_main;app!main;[anon:jit]!0x10000040 1\n");
  FoldedOptions off;
  off.kind = *m.find_sample_kind("off_cpu");
  off.count_samples = false;
  EXPECT_EQ(folded_text(m, off),
            "app;libc.so.6!__libc_start_main;app!main;libc.so.6!read;[kernel]!do_syscall_64;"
            "[kernel]!schedule 8000000\n"
            "app;libc.so.6!__libc_start_main;app!main;libc.so.6!read;[kernel]!schedule 2000000\n");
}

TEST_F(FormatsTest, FoldedLinesSplitBackIntoFrames) {
  FoldedOptions o;
  o.root = RootFrame::kProcess;
  ASSERT_TRUE(write_folded(m, dir / "cpu.folded", o).ok());
  std::istringstream in(slurp(dir / "cpu.folded"));
  std::string line;
  std::uint64_t total = 0;
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    auto space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    std::string value = line.substr(space + 1);
    ASSERT_FALSE(value.empty());
    ASSERT_EQ(value.find_first_not_of("0123456789"), std::string::npos) << line;
    total += std::stoull(value);
    // Every frame is non-empty and the root is the process.
    std::vector<std::string> frames;
    std::stringstream ss(line.substr(0, space));
    for (std::string f; std::getline(ss, f, ';');) frames.push_back(f);
    ASSERT_GE(frames.size(), 2u) << line;
    for (const auto& f : frames) EXPECT_FALSE(f.empty()) << line;
    EXPECT_THAT(frames[0], ::testing::MatchesRegex(".* \\([0-9]+\\)")) << line;
  }
  EXPECT_EQ(total, 9u);  // every CPU sample once
  EXPECT_EQ(lines, 7u);  // per-process roots: 3 stacks of pid 100, 2 of 200, 2 of 300
}

// ------------------------------------------------------------- PerfView XML

TEST_F(FormatsTest, PerfViewOneFilePerCommAndKind) {
  auto written = write_perfview_xml(m, (dir / "trace").string());
  ASSERT_TRUE(written.ok()) << written.status().to_string();
  std::vector<std::string> names;
  for (const auto& p : *written) names.push_back(fs::path(p).filename());
  EXPECT_EQ(names, (std::vector<std::string>{"trace.app.cpu.PerfView.xml",
                                             "trace.app.off_cpu.PerfView.xml",
                                             "trace.we_ird_____name___x_.cpu.PerfView.xml"}));
  std::string cpu = slurp(dir / "trace.app.cpu.PerfView.xml");
  // Both "app" processes are in the file, as separate process frames.
  EXPECT_THAT(cpu, HasSubstr("<Frame ID=\"0\">app (100)</Frame>"));
  EXPECT_THAT(cpu, HasSubstr(">app (300)</Frame>"));
  // Fully escaped, quotes included.
  EXPECT_THAT(cpu, HasSubstr("app!operator&lt;&lt;(a&amp;b, &quot;q&quot; &apos;x&apos;;y)"));
  EXPECT_THAT(cpu, HasSubstr("std::vector&lt;int&gt;::push_back(int const&amp;)"));
  EXPECT_THAT(cpu, HasSubstr("lost.total=4"));
  // 7 CPU samples of the "app" processes over 5 distinct stacks, 1 ms each.
  EXPECT_EQ(count(cpu, "<Sample "), 5u);
  EXPECT_THAT(cpu, HasSubstr("Count=\"3\" Metric=\"3.000\""));
  std::string off = slurp(dir / "trace.app.off_cpu.PerfView.xml");
  EXPECT_THAT(off, HasSubstr("Count=\"2\" Metric=\"8.000\""));  // 2 waits, 8 ms
  EXPECT_THAT(off, HasSubstr("Count=\"1\" Metric=\"2.000\""));
  std::string weird = slurp(dir / "trace.we_ird_____name___x_.cpu.PerfView.xml");
  EXPECT_THAT(weird, HasSubstr("we&lt;ird&gt; &amp; &quot;name&quot; &apos;x&apos; (200)"));
  EXPECT_THAT(weird, HasSubstr("bad\xEF\xBF\xBDutf8"));  // no invalid UTF-8 in XML
}

TEST_F(FormatsTest, PerfViewGoldenSmall) {
  ExportMachine small;
  small.set_comm(1, "a&b");
  small.add_sample(1, MetricValue::duration(1000000), 1, 1, 0, 0, 0x10,
                   std::vector<std::uint64_t>{0x20});
  auto written = write_perfview_xml(small, (dir / "s").string());
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(written->size(), 1u);
  std::string text = slurp(written->front());
  auto body = text.substr(text.find("<StackWindow>"));
  EXPECT_EQ(body,
            "<StackWindow>\n<StackSource>\n<Frames Count=\"3\">\n"
            "<Frame ID=\"0\">a&amp;b (1)</Frame>\n"
            "<Frame ID=\"1\">[unknown]!0x1f</Frame>\n"  // a caller: return address - 1
            "<Frame ID=\"2\">[unknown]!0x10</Frame>\n"
            "</Frames>\n<Stacks Count=\"3\">\n"
            "<Stack ID=\"0\" CallerID=\"-1\" FrameID=\"0\"/>\n"
            "<Stack ID=\"1\" CallerID=\"0\" FrameID=\"1\"/>\n"
            "<Stack ID=\"2\" CallerID=\"1\" FrameID=\"2\"/>\n"
            "</Stacks>\n<Samples Count=\"1\">\n"
            "<Sample ID=\"0\" Time=\"0\" StackID=\"2\" Count=\"1\" Metric=\"1.000\"/>\n"
            "</Samples>\n</StackSource>\n</StackWindow>\n");
}

// --------------------------------------------------------------------- pprof

std::string gunzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  return out;
}

TEST_F(FormatsTest, PprofCpuProfile) {
  ASSERT_TRUE(write_pprof(m, dir / "cpu.pb.gz").ok());
  std::string gz = slurp(dir / "cpu.pb.gz");
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  perftools::profiles::Profile p;
  ASSERT_TRUE(p.ParseFromString(gunzip(gz)));
  auto s = [&](std::int64_t i) { return p.string_table(static_cast<int>(i)); };
  ASSERT_EQ(p.string_table(0), "");
  ASSERT_EQ(p.sample_type_size(), 2);
  EXPECT_EQ(s(p.sample_type(0).type()) + "/" + s(p.sample_type(0).unit()), "samples/count");
  EXPECT_EQ(s(p.sample_type(1).type()) + "/" + s(p.sample_type(1).unit()), "cpu/nanoseconds");
  EXPECT_EQ(s(p.period_type().type()), "cpu");
  EXPECT_EQ(p.period(), 1000000);
  EXPECT_EQ(p.time_nanos(), 1700000000000000000LL);
  EXPECT_EQ(p.duration_nanos(), 2000000000LL);
  std::set<std::string> comments;
  for (auto c : p.comment()) comments.insert(s(c));
  EXPECT_TRUE(comments.count("host: test-host"));
  EXPECT_TRUE(comments.count("kernel: Linux 6.1.0-test"));
  EXPECT_TRUE(comments.count("lost.cpu: 3"));
  EXPECT_TRUE(comments.count("lost.total: 4"));

  // Samples: aggregated per (pid, tid, stack); 3 identical ones became one.
  std::int64_t n = 0;
  std::int64_t ns = 0;
  for (const auto& sample : p.sample()) {
    ASSERT_EQ(sample.value_size(), 2);
    n += sample.value(0);
    ns += sample.value(1);
    std::map<std::string, std::string> labels;
    for (const auto& l : sample.label()) {
      labels[s(l.key())] = l.str() ? s(l.str()) : std::to_string(l.num());
    }
    EXPECT_TRUE(labels.count("pid") && labels.count("tid") && labels.count("comm"));
    for (auto id : sample.location_id()) {
      EXPECT_GE(id, 1u);
      EXPECT_LE(id, static_cast<std::uint64_t>(p.location_size()));
    }
  }
  EXPECT_EQ(n, 9);
  EXPECT_EQ(ns, 9000000);
  EXPECT_EQ(p.sample_size(), 7);

  // Deduplicated locations and functions, dense ids.
  std::set<std::pair<std::uint64_t, std::uint64_t>> locs;
  for (int i = 0; i < p.location_size(); ++i) {
    EXPECT_EQ(p.location(i).id(), static_cast<std::uint64_t>(i + 1));
    EXPECT_TRUE(locs.insert({p.location(i).mapping_id(), p.location(i).address()}).second);
  }
  std::set<std::string> fnames;
  for (int i = 0; i < p.function_size(); ++i) {
    EXPECT_EQ(p.function(i).id(), static_cast<std::uint64_t>(i + 1));
    EXPECT_TRUE(fnames.insert(s(p.function(i).name())).second);
  }
  EXPECT_TRUE(fnames.count("main"));
  EXPECT_TRUE(fnames.count("bad\xEF\xBF\xBDutf8"));  // sanitised to UTF-8
  EXPECT_TRUE(fnames.count("do_syscall_64"));
  // Line numbers: main's sampled address has a known line (12).
  bool main_line = false;
  for (const auto& loc : p.location()) {
    for (const auto& line : loc.line()) {
      if (s(p.function(static_cast<int>(line.function_id() - 1)).name()) == "main" &&
          line.line() == 12) {
        main_line = true;
      }
    }
  }
  EXPECT_TRUE(main_line);
  // Mappings with build ids (one given, one found by the resolver).
  std::set<std::string> build_ids;
  for (const auto& mp : p.mapping()) {
    if (mp.build_id()) build_ids.insert(s(mp.build_id()));
  }
  EXPECT_TRUE(build_ids.count("deadbeef"));
  EXPECT_TRUE(build_ids.count("c0ffee"));
}

TEST_F(FormatsTest, PprofOffCpuProfile) {
  PprofOptions o;
  o.kind = *m.find_sample_kind("off_cpu");
  auto bytes = pprof_profile_bytes(m, o);
  ASSERT_TRUE(bytes.ok());
  perftools::profiles::Profile p;
  ASSERT_TRUE(p.ParseFromString(*bytes));
  EXPECT_EQ(p.string_table(static_cast<int>(p.sample_type(1).type())), "off-cpu");
  EXPECT_EQ(p.string_table(static_cast<int>(p.sample_type(1).unit())), "nanoseconds");
  EXPECT_EQ(p.period(), 0);
  std::int64_t ns = 0;
  for (const auto& sample : p.sample()) ns += sample.value(1);
  EXPECT_EQ(ns, 10000000);
  PprofOptions bad;
  bad.kind = 999;
  EXPECT_EQ(pprof_profile_bytes(m, bad).status().code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------- speedscope

TEST_F(FormatsTest, Speedscope) {
  ASSERT_TRUE(write_speedscope(m, dir / "cpu.speedscope.json").ok());
  std::string text = slurp(dir / "cpu.speedscope.json");
  EXPECT_TRUE(
      text.starts_with("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\""));
  EXPECT_EQ(count(text, "\"type\":\"sampled\""), 4u);  // (100,100) (100,101) (200,200) (300,300)
  EXPECT_THAT(text, HasSubstr("\"name\":\"app (100) tid 100\",\"unit\":\"nanoseconds\","
                              "\"startValue\":0,\"endValue\":3000000,\"samples\":[[0,1,2]],"
                              "\"weights\":[3000000]"));
  EXPECT_THAT(text, HasSubstr("{\"name\":\"app!main\",\"file\":\"app.cc\",\"line\":10}"));
  EXPECT_THAT(text, HasSubstr("\"app!operator<<(a&b, \\\"q\\\" 'x';y)\""));
  EXPECT_THAT(text, HasSubstr("lost.total=4"));
  EXPECT_EQ(text.find('\xff'), std::string::npos);
}

// -------------------------------------------------------------- chrome trace

TEST_F(FormatsTest, ChromeTrace) {
  ASSERT_TRUE(write_chrome_trace(m, dir / "trace.json").ok());
  std::string text = slurp(dir / "trace.json");
  EXPECT_EQ(count(text, "\"ph\":\"X\",\"cat\":\"cpu\""), 9u);
  EXPECT_EQ(count(text, "\"ph\":\"X\",\"cat\":\"off_cpu\""), 3u);
  EXPECT_EQ(count(text, "\"name\":\"thread_name\""), 4u);
  EXPECT_EQ(count(text, "\"name\":\"process_name\""), 3u);
  EXPECT_THAT(text, HasSubstr("\"otherData\":{\"host\":\"test-host\""));
  EXPECT_THAT(text, HasSubstr("\"lost.total\":\"4\""));
  // The 5 ms wait of thread 101, 100 ms after the start, with its stack.
  EXPECT_THAT(text, HasSubstr("\"name\":\"off-cpu\",\"pid\":100,\"tid\":101,\"ts\":100000.000,"
                              "\"dur\":5000.000"));
}

TEST_F(FormatsTest, ChromeTraceSlicesNeverOverlapOnAThread) {
  ExportMachine small;
  // Samples closer together than the period: each is cut at the next.
  small.metadata().sample_period_ns = 1000000;
  for (std::uint64_t t : {1000000ull, 1400000ull, 3000000ull}) {
    small.add_sample(t, MetricValue::duration(1000000), 1, 1, 0, 0, 0x10, {});
  }
  std::string text = chrome_trace_text(small);
  EXPECT_THAT(text, HasSubstr("\"ts\":0.000,\"dur\":400.000"));
  EXPECT_THAT(text, HasSubstr("\"ts\":400.000,\"dur\":1000.000"));
  EXPECT_THAT(text, HasSubstr("\"ts\":2000.000,\"dur\":1000.000"));
}

// -------------------------------------------------------------------- errors

TEST_F(FormatsTest, EveryWriterReportsAMissingDirectoryAndLeavesNothing) {
  fs::path missing = dir / "missing" / "out";
  std::vector<Status> results;
  results.push_back(write_folded(m, missing.string()));
  results.push_back(write_pprof(m, missing.string()));
  results.push_back(write_speedscope(m, missing.string()));
  results.push_back(write_chrome_trace(m, missing.string()));
  results.push_back(write_perfview_xml(m, missing.string()).status());
  for (const Status& s : results) {
    EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("missing/out"));
  }
  EXPECT_TRUE(fs::is_empty(dir));
  // A target that is a directory: the write fails and no temporary remains.
  fs::create_directories(dir / "adir");
  EXPECT_FALSE(write_speedscope(m, (dir / "adir").string()).ok());
  EXPECT_FALSE(write_pprof(m, (dir / "adir").string()).ok());
  std::size_t entries = 0;
  for (auto it = fs::directory_iterator(dir); it != fs::directory_iterator(); ++it) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST_F(FormatsTest, EmptyMachineWritesValidEmptyOutputs) {
  ExportMachine empty;
  EXPECT_EQ(folded_text(empty), "");
  EXPECT_THAT(speedscope_text(empty), HasSubstr("\"profiles\":[]"));
  EXPECT_THAT(chrome_trace_text(empty), HasSubstr("\"traceEvents\":[]"));
  EXPECT_TRUE(pprof_profile_bytes(empty).ok());
  auto pv = write_perfview_xml(empty, (dir / "e").string());
  ASSERT_TRUE(pv.ok());
  EXPECT_TRUE(pv->empty());
}

}  // namespace
}  // namespace one_collect
