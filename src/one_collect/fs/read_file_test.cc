#include "one_collect/fs/read_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace one_collect {
namespace {

namespace fs = std::filesystem;

fs::path temp_path(const char* leaf) {
  return fs::temp_directory_path() / ("oc_read_file_" + std::to_string(::getpid()) + "_" + leaf);
}

TEST(ReadFileTest, ReadsWholeFilesAndProcFiles) {
  fs::path p = temp_path("whole");
  std::string big(200000, 'x');  // several read() calls
  big[123456] = '\n';
  std::ofstream(p) << big;
  auto text = read_file(p.string());
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  EXPECT_EQ(*text, big);
  fs::remove(p);

  // procfs reports size 0: the reader must not trust st_size.
  auto status = read_file("/proc/self/status");
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->find("Pid:"), std::string::npos);
}

TEST(ReadFileTest, CapsTheSize) {
  fs::path p = temp_path("cap");
  std::ofstream(p) << "0123456789";
  EXPECT_EQ(read_file(p.string(), 4).value(), "0123");
  EXPECT_EQ(read_file(p.string(), 10).value(), "0123456789");
  EXPECT_EQ(read_file(p.string(), 0).value(), "");
  fs::remove(p);
}

TEST(ReadFileTest, EmptyFile) {
  fs::path p = temp_path("empty");
  std::ofstream{p};
  EXPECT_EQ(read_file(p.string()).value(), "");
  fs::remove(p);
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
  fs::path p = temp_path("fifo");
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto text = read_file(p.string());  // no writer: reads as empty at once
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  EXPECT_EQ(*text, "");
  fs::remove(p);
}

TEST(ReadFileTest, ReadFdReadsFromTheCurrentOffset) {
  fs::path p = temp_path("fd");
  std::ofstream(p) << "header\nbody";
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::lseek(fd, 7, SEEK_SET), 7);
  EXPECT_EQ(read_fd(fd, "the file").value(), "body");
  ::close(fd);
  auto bad = read_fd(-1, "closed fd");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("reading closed fd"), std::string::npos);
  fs::remove(p);
}

}  // namespace
}  // namespace one_collect
