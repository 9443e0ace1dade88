#include "one_collect/formats/atomic_file.h"
#include "one_collect/testing/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace one_collect {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class AtomicFileTest : public ::testing::Test {
 protected:
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::string slurp(const fs::path& p) { return testing::read_text(p); }
  testing::TempDir tmp{"oc_atomic"};
  fs::path dir = tmp.path();
};

TEST_F(AtomicFileTest, CommitRenamesLargeAndSmallWrites) {
  AtomicFile f;
  ASSERT_TRUE(f.open(dir / "out.txt").ok());
  EXPECT_EQ(listing().size(), 1u);  // only the temporary file
  EXPECT_FALSE(fs::exists(dir / "out.txt"));
  std::string big(3 << 20, 'x');
  f.write("head:");
  f.write(big);
  f.write(":tail");
  EXPECT_EQ(f.bytes_written(), big.size() + 10);
  ASSERT_TRUE(f.commit().ok());
  EXPECT_EQ(listing(), std::vector<std::string>{"out.txt"});
  EXPECT_EQ(slurp(dir / "out.txt"), "head:" + big + ":tail");
}

TEST_F(AtomicFileTest, ReplacesExistingFileOnlyOnCommit) {
  ASSERT_TRUE(write_file_atomically(dir / "f", "old").ok());
  {
    AtomicFile f;
    ASSERT_TRUE(f.open(dir / "f").ok());
    f.write("new");
    // destroyed without commit
  }
  EXPECT_EQ(slurp(dir / "f"), "old");
  EXPECT_EQ(listing(), std::vector<std::string>{"f"});
  ASSERT_TRUE(write_file_atomically(dir / "f", "new").ok());
  EXPECT_EQ(slurp(dir / "f"), "new");
}

TEST_F(AtomicFileTest, MissingDirectoryIsAClearError) {
  AtomicFile f;
  Status s = f.open(dir / "no" / "such" / "out.txt");
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("no/such/out.txt"));
  EXPECT_THAT(s.message(), HasSubstr("No such file or directory"));
  EXPECT_TRUE(listing().empty());
  EXPECT_EQ(f.commit().code(), ErrorCode::kInvalidArgument);
}

TEST_F(AtomicFileTest, BadTargetsLeaveNothingBehind) {
  EXPECT_EQ(write_file_atomically("", "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_file_atomically((dir / "sub/").string(), "x").code(),
            ErrorCode::kInvalidArgument);
  // The target is an existing directory: the rename fails, the temp goes.
  fs::create_directories(dir / "adir");
  Status s = write_file_atomically(dir / "adir", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("adir"));
  EXPECT_EQ(listing(), std::vector<std::string>{"adir"});
  EXPECT_TRUE(fs::is_empty(dir / "adir"));
  // A parent that is a file.
  ASSERT_TRUE(write_file_atomically(dir / "file", "x").ok());
  EXPECT_EQ(write_file_atomically(dir / "file" / "child", "x").code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace one_collect
