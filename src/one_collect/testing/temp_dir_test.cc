#include "one_collect/testing/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace one_collect::testing {
namespace {

namespace fs = std::filesystem;

TEST(TempDirTest, IsFreshPrivateAndRemovedWithItsContents) {
  fs::path kept;
  {
    TempDir a("oc temp dir test");  // spaces are fine
    TempDir b("oc temp dir test");
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(fs::is_directory(a.path()));
    EXPECT_TRUE(fs::is_empty(a.path()));
    EXPECT_EQ(a.path().parent_path(), fs::temp_directory_path());
    EXPECT_EQ(a.path().filename().string().rfind("oc temp dir test_", 0), 0u);
    fs::path file = a.write("deep/er/file.txt", std::string("x\0y", 3));
    EXPECT_EQ(file, a / "deep/er/file.txt");
    EXPECT_EQ(read_text(file), std::string("x\0y", 3));
    kept = a.path();
  }
  EXPECT_FALSE(fs::exists(kept));
}

TEST(TempDirTest, ReadTextOfAMissingFileIsEmpty) {
  TempDir dir;
  EXPECT_EQ(read_text(dir / "missing"), "");
  EXPECT_EQ(read_text(dir.write("empty", "")), "");
}

}  // namespace
}  // namespace one_collect::testing
