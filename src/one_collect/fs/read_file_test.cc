#include "one_collect/fs/read_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;

TEST(ReadFileTest, ReadsWholeFilesAndProcFiles) {
  testing::TempDir tmp("oc_read_file");
  std::string big(200000, 'x');  // several read() calls
  big[123456] = '\n';
  auto text = read_file(tmp.write("whole", big).string());
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  EXPECT_EQ(*text, big);

  // procfs reports size 0: the reader must not trust st_size.
  auto status = read_file("/proc/self/status");
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->find("Pid:"), std::string::npos);
}

TEST(ReadFileTest, CapsTheSize) {
  testing::TempDir tmp("oc_read_file");
  fs::path p = tmp.write("cap", "0123456789");
  EXPECT_EQ(read_file(p.string(), 4).value(), "0123");
  EXPECT_EQ(read_file(p.string(), 10).value(), "0123456789");
  EXPECT_EQ(read_file(p.string(), 0).value(), "");
}

TEST(ReadFileTest, EmptyFile) {
  testing::TempDir tmp("oc_read_file");
  EXPECT_EQ(read_file(tmp.write("empty", "").string()).value(), "");
}

TEST(ReadFileTest, ErrorsNameThePath) {
  auto missing = read_file("/nonexistent/oc_no_file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("opening /nonexistent/oc_no_file"), std::string::npos);

  auto dir = read_file("/");
  ASSERT_FALSE(dir.ok());  // EISDIR on read
  EXPECT_NE(dir.status().message().find("reading /"), std::string::npos);
}

TEST(ReadFileTest, AFifoDoesNotBlock) {
  testing::TempDir tmp("oc_read_file");
  fs::path p = tmp / "fifo";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto text = read_file(p.string());  // no writer: reads as empty at once
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  EXPECT_EQ(*text, "");
}

TEST(ReadFileTest, ReadFdReadsFromTheCurrentOffset) {
  testing::TempDir tmp("oc_read_file");
  fs::path p = tmp.write("fd", "header\nbody");
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::lseek(fd, 7, SEEK_SET), 7);
  EXPECT_EQ(read_fd(fd, "the file").value(), "body");
  ::close(fd);
  auto bad = read_fd(-1, "closed fd");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("reading closed fd"), std::string::npos);
}

std::vector<std::string> lines_of(const std::string& path, std::size_t max_bytes = kNoSizeLimit) {
  std::vector<std::string> out;
  Status s = read_lines(
      path, [&](std::string_view line) { out.emplace_back(line); }, max_bytes);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

TEST(ReadLinesTest, PassesEveryLineAcrossReadBoundaries) {
  testing::TempDir tmp("oc_read_lines");
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 20000; ++i) {  // ~250 KB: lines cross the 64 KiB reads
    expected.push_back("line " + std::to_string(i) + std::string(i % 17, 'x'));
    text += expected.back() + "\n";
  }
  text += "last without newline";
  expected.push_back("last without newline");
  EXPECT_EQ(lines_of(tmp.write("lines", text).string()), expected);
}

TEST(ReadLinesTest, EmptyLinesAndEmptyFile) {
  testing::TempDir tmp("oc_read_lines");
  EXPECT_EQ(lines_of(tmp.write("blank", "a\n\nb\n").string()),
            (std::vector<std::string>{"a", "", "b"}));
  EXPECT_TRUE(lines_of(tmp.write("empty", "").string()).empty());
}

TEST(ReadLinesTest, AHugeLineComesInPiecesAndTheCapHolds) {
  testing::TempDir tmp("oc_read_lines");
  std::string huge(200000, 'y');
  auto pieces = lines_of(tmp.write("huge", huge + "\nend\n").string());
  std::string joined;
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) joined += pieces[i];
  EXPECT_EQ(joined, huge);
  EXPECT_EQ(pieces.back(), "end");
  EXPECT_EQ(lines_of(tmp.write("capped", "one\ntwo\nthree\n").string(), 6),
            (std::vector<std::string>{"one", "tw"}));
}

TEST(ReadLinesTest, ErrorsNameThePathAndAFifoDoesNotBlock) {
  Status missing = read_lines("/nonexistent/oc", [](std::string_view) {});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.to_string().find("/nonexistent/oc"), std::string::npos);
  testing::TempDir tmp("oc_read_lines");
  std::string fifo = (tmp.path() / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int lines = 0;
  EXPECT_TRUE(read_lines(fifo, [&](std::string_view) { ++lines; }).ok());
  EXPECT_EQ(lines, 0);
}

}  // namespace
}  // namespace one_collect
