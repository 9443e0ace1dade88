#include "one_collect/fs/find_program.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;

class FindProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir / "a" / "subdir");
    write("a/tool", 0644);  // not executable
    write("b/tool", 0755);
    write("a/only_plain", 0644);
  }
  void write(const char* relative, mode_t mode) {
    ::chmod(tmp.write(relative, "#!/bin/sh\n").c_str(), mode);
  }
  std::string path(std::initializer_list<const char*> dirs) {
    std::string out;
    for (const char* d : dirs) {
      if (!out.empty()) out += ':';
      out += *d ? (dir / d).string() : std::string();
    }
    return out;
  }
  testing::TempDir tmp{"oc_find_program"};
  fs::path dir = tmp.path();
};

TEST_F(FindProgramTest, FindsAlongPathPassingOverUnexecutableFiles) {
  auto sh = find_program("sh", "/nonexistent:/usr/bin:/bin");
  ASSERT_TRUE(sh.ok()) << sh.status().to_string();
  EXPECT_EQ(sh->substr(sh->size() - 3), "/sh");

  std::string ab = path({"a", "b"});
  auto tool = find_program("tool", ab.c_str());
  ASSERT_TRUE(tool.ok()) << tool.status().to_string();
  EXPECT_EQ(*tool, (dir / "b" / "tool").string());
  // A directory of that name is no match either.
  auto subdir = find_program("subdir", ab.c_str());
  EXPECT_EQ(subdir.status().code(), ErrorCode::kNotFound);
}

TEST_F(FindProgramTest, OnlyUnexecutableMatchesArePermissionDenied) {
  std::string a = path({"a"});
  auto plain = find_program("only_plain", a.c_str());
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(plain.status().message().find("is not executable"), std::string::npos);
  EXPECT_EQ(find_program((dir / "a" / "tool").string(), nullptr).status().code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(FindProgramTest, PathsWithASlashAreTakenAsGiven) {
  EXPECT_EQ(find_program((dir / "b" / "tool").string(), "").value(), (dir / "b" / "tool").string());
  auto missing = find_program("/no/such/file", "/usr/bin");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  auto directory = find_program(dir.string() + "/a", nullptr);
  EXPECT_EQ(directory.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(directory.status().message().find("is a directory"), std::string::npos);
}

TEST_F(FindProgramTest, EmptyEntriesMeanTheCurrentDirectory) {
  fs::path old = fs::current_path();
  fs::current_path(dir / "b");
  EXPECT_EQ(find_program("tool", "/nonexistent:").value(), "./tool");
  EXPECT_EQ(find_program("tool", ":/nonexistent").value(), "./tool");
  fs::current_path(old);
}

TEST_F(FindProgramTest, MissingAndEmptyNamesAreNotFound) {
  auto missing = find_program("oc-no-such-command-xyz", "/usr/bin:/bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("command not found: 'oc-no-such-command-xyz'"),
            std::string::npos);
  EXPECT_NE(missing.status().message().find("not found in PATH=/usr/bin:/bin"), std::string::npos);
  EXPECT_EQ(find_program("", nullptr).status().code(), ErrorCode::kNotFound);
  // A null PATH searches the default directories.
  EXPECT_TRUE(find_program("sh", nullptr).ok());
}

}  // namespace
}  // namespace one_collect
