#include "one_collect/fs/read_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

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

}  // namespace
}  // namespace one_collect
