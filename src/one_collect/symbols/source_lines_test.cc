#include "one_collect/symbols/source_lines.h"

#include <gtest/gtest.h>

#include <string>

#include "one_collect/symbols/fixture_output_test_util.h"
#include "one_collect/symbols/symbol_cache.h"

namespace one_collect {
namespace {

// The fixture records a return address inside an always-inline function
// (inlined_step, inlined into outer_function) and the two source lines.
void check_inline_frames(const std::string& program) {
  auto out = testing::run_fixture(program);
  ASSERT_TRUE(out.has_value());
  ASSERT_NE(out->inline_return, 0u);
  SymbolCache cache;
  auto id = cache.load(program);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  const auto* m = out->mapping_of(out->inline_return);
  ASSERT_NE(m, nullptr);
  // The call instruction is just before the return address.
  auto vaddr = cache.process_to_vaddr(*id, out->inline_return - 1, m->start, m->pgoff);
  ASSERT_TRUE(vaddr.has_value());
  ASSERT_FALSE(cache.module(*id)->dwarf_file.empty());
  SourceLines lines;
  auto frames = lines.frames(cache.module(*id)->dwarf_file, *vaddr);
  ASSERT_TRUE(frames.ok()) << frames.status().to_string();
  ASSERT_EQ(frames->size(), 2u);
  const SourceFrame& inner = (*frames)[0];
  const SourceFrame& outer = (*frames)[1];
  EXPECT_EQ(inner.function, "inlined_step");
  EXPECT_TRUE(inner.inlined);
  EXPECT_EQ(inner.line, out->inline_line);
  EXPECT_NE(inner.file.find("sym_fixture.c"), std::string::npos) << inner.file;
  EXPECT_EQ(outer.function, "outer_function");
  EXPECT_FALSE(outer.inlined);
  EXPECT_EQ(outer.line, out->inline_call_line);
  EXPECT_NE(outer.file.find("sym_fixture.c"), std::string::npos);
  // The symbol table agrees on the enclosing function.
  EXPECT_EQ(cache.resolve(*id, *vaddr)->name, "outer_function");
}

TEST(SourceLines, InlinedFramesInTheBinary) { check_inline_frames(OC_SYM_FIXTURE); }

TEST(SourceLines, InlinedFramesThroughTheSeparateDebugFile) {
  check_inline_frames(std::string(OC_SYM_STRIPPED_DIR) + "/oc_sym_fixture");
}

TEST(SourceLines, ClearErrors) {
  SourceLines lines;
  EXPECT_EQ(lines.frames("/nonexistent", 0x1000).status().code(), ErrorCode::kNotFound);
  // A file without DWARF.
  auto r = lines.frames(std::string(OC_SYM_STRIPPED_DIR) + "/oc_sym_fixture", 0x1000);
  EXPECT_FALSE(r.ok());
  // An address no unit covers.
  auto far = lines.frames(OC_SYM_FIXTURE, 0x7fffffff0000);
  EXPECT_EQ(far.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace one_collect
