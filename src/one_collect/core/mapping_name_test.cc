// One table of mapping names and what both the process model and the export
// model make of them.
#include "one_collect/core/mapping_name.h"

#include <gtest/gtest.h>

#include <string_view>

namespace one_collect {
namespace {

struct Case {
  std::string_view name;
  MappingNameKind kind;
  std::string_view path;  // classify_mapping_name(name).path
};

constexpr Case kCases[] = {
    {"", MappingNameKind::kAnonymous, ""},
    {"//anon", MappingNameKind::kAnonymous, "//anon"},
    {"[heap]", MappingNameKind::kAnonymous, "[heap]"},
    {"[stack]", MappingNameKind::kAnonymous, "[stack]"},
    {"[anon:v8 code]", MappingNameKind::kAnonymous, "[anon:v8 code]"},
    {"[anon_shmem:x]", MappingNameKind::kAnonymous, "[anon_shmem:x]"},
    {"[vsyscall]", MappingNameKind::kAnonymous, "[vsyscall]"},
    {"[vvar]", MappingNameKind::kAnonymous, "[vvar]"},
    {"[vdso]", MappingNameKind::kVdso, "[vdso]"},
    {"/memfd:doublemapper", MappingNameKind::kAnonymous, "/memfd:doublemapper"},
    {"/memfd:doublemapper (deleted)", MappingNameKind::kAnonymous, "/memfd:doublemapper (deleted)"},
    {"anon_inode:[perf_event]", MappingNameKind::kAnonymous, "anon_inode:[perf_event]"},
    {"/dev/zero", MappingNameKind::kAnonymous, "/dev/zero"},
    {"/dev/zero (deleted)", MappingNameKind::kAnonymous, "/dev/zero (deleted)"},
    {"/SYSV00000000 (deleted)", MappingNameKind::kAnonymous, "/SYSV00000000 (deleted)"},
    {"/usr/lib/x86_64-linux-gnu/libc.so.6", MappingNameKind::kFile,
     "/usr/lib/x86_64-linux-gnu/libc.so.6"},
    {"/opt/app/bin/server (deleted)", MappingNameKind::kDeletedFile, "/opt/app/bin/server"},
    {"/tmp/dir (deleted)/lib.so", MappingNameKind::kFile, "/tmp/dir (deleted)/lib.so"},
    {"/usr/bin/devzero", MappingNameKind::kFile, "/usr/bin/devzero"},
};

TEST(MappingName, ClassifiesEveryKnownName) {
  for (const Case& c : kCases) {
    MappingName got = classify_mapping_name(c.name);
    EXPECT_EQ(got.kind, c.kind) << "'" << c.name << "'";
    EXPECT_EQ(got.path, c.path) << "'" << c.name << "'";
    bool anonymous = c.kind == MappingNameKind::kAnonymous || c.kind == MappingNameKind::kVdso;
    EXPECT_EQ(is_anonymous_mapping_name(c.name), anonymous) << "'" << c.name << "'";
  }
}

}  // namespace
}  // namespace one_collect
