#include "one_collect/fs/open_in_root.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;

constexpr int kRead = O_RDONLY | O_CLOEXEC | O_NONBLOCK;

// A fake process root: <root>/oc_etc/name holds "inside"; absolute and
// relative symlinks point at it the way a container's files would.
class OpenInRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp.write("oc_etc/name", "inside");
    fs::create_symlink("/oc_etc/name", root / "absolute_link");
    fs::create_symlink("oc_etc/name", root / "relative_link");
    root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_fd, 0);
  }
  void TearDown() override {
    if (root_fd >= 0) ::close(root_fd);
  }

  // The contents of what open_in_root opened, or "errno N".
  std::string read(const std::string& path, Symlinks symlinks = Symlinks::kResolveInRoot) {
    int fd = open_in_root(root_fd, path, kRead, symlinks);
    if (fd < 0) return "errno " + std::to_string(errno);
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n < 0 ? "read failed" : std::string(buf, static_cast<std::size_t>(n));
  }

  testing::TempDir tmp{"oc_open_in_root"};
  fs::path root = tmp.path();
  int root_fd = -1;
};

TEST_F(OpenInRootTest, PathsResolveInsideTheRoot) {
  EXPECT_EQ(read("/oc_etc/name"), "inside");
  EXPECT_EQ(read("oc_etc/name"), "inside");
  EXPECT_EQ(read("//oc_etc//name"), "inside");
  // An absolute symlink means the root's /oc_etc, which the host lacks.
  ASSERT_FALSE(fs::exists("/oc_etc/name"));
  EXPECT_EQ(read("/absolute_link"), "inside");
  EXPECT_EQ(read("/relative_link"), "inside");
  // ".." cannot climb out of the root.
  EXPECT_EQ(read("/../../../oc_etc/name"), "inside");
}

TEST_F(OpenInRootTest, RefusedSymlinksFailWithEloop) {
  EXPECT_EQ(read("/oc_etc/name", Symlinks::kRefuse), "inside");
  EXPECT_EQ(read("/absolute_link", Symlinks::kRefuse), "errno " + std::to_string(ELOOP));
  EXPECT_EQ(read("/relative_link", Symlinks::kRefuse), "errno " + std::to_string(ELOOP));
}

TEST_F(OpenInRootTest, BadPathsFail) {
  EXPECT_EQ(read(""), "errno " + std::to_string(EINVAL));
  EXPECT_EQ(read("///"), "errno " + std::to_string(EINVAL));
  EXPECT_EQ(read("/missing"), "errno " + std::to_string(ENOENT));
  // Magic links (/proc/self/fd/N) are refused even when the root has them.
  int proc_root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(proc_root, 0);
  std::string magic = "/proc/self/fd/" + std::to_string(root_fd);
  int fd = open_in_root(proc_root, magic, O_PATH | O_CLOEXEC);
  EXPECT_LT(fd, 0);
  if (fd >= 0) ::close(fd);
  ::close(proc_root);
}

TEST_F(OpenInRootTest, NegativeRootOpensOnTheHost) {
  std::string host_path = (root / "oc_etc" / "name").string();
  int fd = open_in_root(-1, host_path, kRead);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_LT(open_in_root(-1, "/oc_etc/name", kRead), 0);
}

TEST(OpenProcessRootTest, OwnRootIsADirectoryAndMissingPidFails) {
  int fd = open_process_root(static_cast<int>(::getpid()));
  ASSERT_GE(fd, 0);
  int probe = open_in_root(fd, "/proc/self/status", kRead);
  EXPECT_GE(probe, 0);
  if (probe >= 0) ::close(probe);
  ::close(fd);
  EXPECT_LT(open_process_root(-5), 0);
  EXPECT_LT(open_process_root(0), 0);
}

}  // namespace
}  // namespace one_collect
