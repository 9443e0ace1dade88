#include "one_collect/linux/tracefs.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "one_collect/testing/privileged.h"

namespace one_collect {
namespace {

constexpr std::string_view kExecFormat =
    "name: sched_process_exec\n"
    "ID: 365\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n"
    "\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
    "\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n"
    "\n"
    "print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid\n";

TEST(SplitFieldDeclaration, CDeclarations) {
  struct Case {
    std::string_view decl, type, name;
  };
  const Case cases[] = {
      {"char comm[16]", "char[16]", "comm"},
      {"__data_loc char[] filename", "__data_loc char[]", "filename"},
      {"const char * name", "const char *", "name"},
      {"const char *name", "const char *", "name"},
      {"unsigned long args[6]", "unsigned long[6]", "args"},
      {"int common_pid", "int", "common_pid"},
      {"__u8 saddr[sizeof(struct sockaddr_in6)]", "__u8[sizeof(struct sockaddr_in6)]", "saddr"},
      {"u8 grid[2][4]", "u8[8]", "grid"},
      {"struct mm_struct * mm", "struct mm_struct *", "mm"},
      {"  unsigned   int   x  ", "unsigned   int", "x"},
  };
  for (const auto& c : cases) {
    auto r = split_field_declaration(c.decl);
    ASSERT_TRUE(r.ok()) << c.decl << ": " << r.status().to_string();
    EXPECT_EQ(r->first, c.type) << c.decl;
    EXPECT_EQ(r->second, c.name) << c.decl;
  }
}

TEST(SplitFieldDeclaration, RejectsBrokenDeclarations) {
  for (std::string_view bad :
       {"", "   ", "name", "char [16]", "char comm16]", "int 5x", "char *"}) {
    auto r = split_field_declaration(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' should not split";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kMalformed);
    }
  }
}

TEST(ParseTracepointFormat, SchedProcessExec) {
  auto tp = parse_tracepoint_format(kExecFormat, "sched", "sched_process_exec");
  ASSERT_TRUE(tp.ok()) << tp.status().to_string();
  EXPECT_EQ(tp->id, 365u);
  EXPECT_EQ(tp->system, "sched");
  EXPECT_EQ(tp->name, "sched_process_exec");
  ASSERT_EQ(tp->format.fields().size(), 7u);
  const EventField* filename = tp->format.find_field("filename");
  ASSERT_NE(filename, nullptr);
  EXPECT_EQ(filename->location, LocationType::kDataLoc);
  EXPECT_EQ(filename->offset, 8u);
  EXPECT_EQ(filename->kind, ValueKind::kUtf8);
  const EventField* pid = tp->format.find_field("pid");
  ASSERT_NE(pid, nullptr);
  EXPECT_EQ(pid->kind, ValueKind::kSigned);
  EXPECT_EQ(pid->size, 4u);
  EXPECT_EQ(pid->offset, 12u);
  const EventField* type = tp->format.find_field("common_type");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->kind, ValueKind::kUnsigned);

  // Decode a payload laid out as the kernel does: filename at offset 20.
  std::vector<std::uint8_t> payload(20 + 8, 0);
  std::uint32_t loc = (8u << 16) | 20u;  // length 8 ("/bin/ls" + NUL), offset 20
  std::memcpy(payload.data() + 8, &loc, 4);
  std::int32_t p = 4242;
  std::memcpy(payload.data() + 12, &p, 4);
  std::memcpy(payload.data() + 20, "/bin/ls", 8);
  auto fref = tp->format.get_field_ref("filename");
  ASSERT_TRUE(fref.ok());
  auto name = tp->format.get_str(*fref, ByteSpan(payload));
  ASSERT_TRUE(name.ok()) << name.status().to_string();
  EXPECT_EQ(*name, "/bin/ls");
  auto pref = tp->format.get_field_ref("pid");
  ASSERT_TRUE(pref.ok());
  EXPECT_EQ(tp->format.get_s32(*pref, ByteSpan(payload)).value_or(0), 4242);
}

TEST(ParseTracepointFormat, UnknownTypedefUsesSizeAndSignedHint) {
  std::string text =
      "name: x\nID: 7\nformat:\n"
      "\tfield:gfp_t flags;\toffset:8;\tsize:4;\tsigned:0;\n"
      "\tfield:loff_t pos;\toffset:16;\tsize:8;\tsigned:1;\n"
      "\tfield:struct weird blob;\toffset:24;\tsize:12;\tsigned:0;\n"
      "\tfield:char buf[];\toffset:36;\tsize:0;\tsigned:0;\n";
  auto tp = parse_tracepoint_format(text, "s", "x");
  ASSERT_TRUE(tp.ok()) << tp.status().to_string();
  EXPECT_EQ(tp->format.find_field("flags")->kind, ValueKind::kUnsigned);
  EXPECT_EQ(tp->format.find_field("pos")->kind, ValueKind::kSigned);
  EXPECT_EQ(tp->format.find_field("blob")->kind, ValueKind::kBytes);
  EXPECT_EQ(tp->format.find_field("blob")->size, 12u);
  EXPECT_TRUE(tp->format.find_field("buf")->is_variable_size());
}

TEST(ParseTracepointFormat, TrailingFlexibleNumberArray) {
  // ftrace:bprint and ftrace:function end with "u32 buf[]" / "unsigned long args[]".
  std::string text =
      "name: bprint\nID: 6\nformat:\n"
      "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
      "\tfield:u32 buf[];\toffset:16;\tsize:0;\tsigned:0;\n";
  auto tp = parse_tracepoint_format(text, "ftrace", "bprint");
  ASSERT_TRUE(tp.ok()) << tp.status().to_string();
  const EventField* buf = tp->format.find_field("buf");
  ASSERT_NE(buf, nullptr);
  EXPECT_EQ(buf->offset, 16u);
  EXPECT_EQ(buf->size, 0u);
  EXPECT_EQ(buf->element_size, 4u);
  EXPECT_TRUE(buf->is_array);
}

TEST(ParseTracepointFormat, MalformedTextGivesLineAndReason) {
  struct Case {
    std::string text;
    std::string expect_in_message;
  };
  const std::string head = "name: x\nID: 1\nformat:\n";
  const Case cases[] = {
      {"", "no 'format:' section"},
      {"name: x\nID: 1\n", "no 'format:' section"},
      {head, "no fields"},
      {"name: x\nID: abc\nformat:\n", "line 2: ID 'abc' is not a number"},
      {"\tfield:int a;\toffset:0;\tsize:4;\n", "line 1: field line before 'format:'"},
      {head + "\tfield:int a;\tsize:4;\tsigned:1;\n", "line 4: field without offset"},
      {head + "\tfield:int a;\toffset:0;\tsigned:1;\n", "line 4: field without size"},
      {head + "\tfield:int a;\toffset:-4;\tsize:4;\n", "offset '-4' is not a number"},
      {head + "\tfield:int a;\toffset:0;\tsize:4x;\n", "size '4x' is not a number"},
      {head + "\tfield:int a;\toffset:0;\tsize:4;\tsigned:2;\n", "signed '2' is not 0 or 1"},
      {head + "\tfield:int a;\toffset 0;\tsize:4;\n", "attribute without ':'"},
      {head + "\tfield:a;\toffset:0;\tsize:4;\n", "no type in declaration"},
      {head + "\tfield:int a[4;\toffset:0;\tsize:16;\n", "line 4"},
      {head + "\tfield:int a;\toffset:0;\tsize:4;\n\tfield:int a;\toffset:4;\tsize:4;\n",
       "line 5: field 'a' already exists"},
      {head + "garbage here\n", "line 4: unexpected line 'garbage here'"},
      {head + "\tfield:__data_loc char[] f;\toffset:0;\tsize:8;\n", "descriptor"},
      {head + "format:\n", "second 'format:' section"},
  };
  for (const auto& c : cases) {
    auto tp = parse_tracepoint_format(c.text, "s", "x");
    ASSERT_FALSE(tp.ok()) << "accepted: " << c.text;
    EXPECT_EQ(tp.status().code(), ErrorCode::kMalformed) << c.text;
    EXPECT_NE(tp.status().message().find(c.expect_in_message), std::string::npos)
        << "message '" << tp.status().message() << "' lacks '" << c.expect_in_message << "'";
    EXPECT_NE(tp.status().message().find("s:x"), std::string::npos) << tp.status().message();
  }
}

TEST(ParseTracepointFormat, TruncatedAtEveryByteNeverCrashes) {
  // Every prefix either parses or fails cleanly (ASan checks the reads).
  std::string_view text = kExecFormat;
  int parsed = 0;
  for (std::size_t n = 0; n <= text.size(); ++n) {
    auto tp = parse_tracepoint_format(text.substr(0, n), "sched", "sched_process_exec");
    if (tp.ok()) ++parsed;
  }
  EXPECT_GT(parsed, 0);
}

TEST(Tracefs, OpenAtRejectsNonTracefsDirectory) {
  auto t = Tracefs::open_at("/tmp");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(t.status().message().find("not a tracefs directory"), std::string::npos);
}

TEST(TracefsLive, OpenFindsOrMountsIt) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_TRUE(t->exists("events"));
  auto again = Tracefs::find();
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->root(), t->root());
}

// In a private mount namespace (so other tests keep their tracefs), unmount
// tracefs and check that find() says how to mount it, an unprivileged open()
// fails with that advice, and a root open() mounts it.
TEST(TracefsLive, MountsWhenAbsentAndSaysHowWhenNotPermitted) {
  OC_REQUIRE_ROOT();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(20);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(21);
    for (const char* m : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
      for (int i = 0; i < 8 && ::umount2(m, MNT_DETACH) == 0; ++i) {
      }
    }
    // Any other tracefs in this namespace (a chroot's bind of /sys, a
    // container's) would be found too: detach them all, deepest first.
    for (int round = 0; round < 8; ++round) {
      std::ifstream mounts("/proc/self/mounts");
      std::string dev, dir, type, rest;
      bool detached = false;
      while (mounts >> dev >> dir >> type && std::getline(mounts, rest)) {
        if (type == "tracefs") detached |= ::umount2(dir.c_str(), MNT_DETACH) == 0;
      }
      if (!detached) break;
    }
    auto found = Tracefs::find();
    if (found.ok()) ::_exit(10);
    if (found.status().message().find("mount -t tracefs nodev /sys/kernel/tracing") ==
        std::string::npos) {
      ::_exit(11);
    }
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      if (::setresuid(65534, 65534, 65534) != 0) ::_exit(30);
      auto denied = Tracefs::open();
      if (denied.ok()) ::_exit(31);
      if (denied.status().code() != ErrorCode::kPermissionDenied) ::_exit(32);
      if (denied.status().message().find("mount -t tracefs") == std::string::npos) ::_exit(33);
      ::_exit(0);
    }
    int gstatus = 0;
    if (grandchild < 0 || ::waitpid(grandchild, &gstatus, 0) != grandchild) ::_exit(22);
    if (!WIFEXITED(gstatus) || WEXITSTATUS(gstatus) != 0) {
      ::_exit(WIFEXITED(gstatus) ? WEXITSTATUS(gstatus) : 23);
    }
    auto opened = Tracefs::open();
    if (!opened.ok()) ::_exit(12);
    if (opened->root() != "/sys/kernel/tracing") ::_exit(13);
    if (!opened->load_tracepoint("sched", "sched_switch").ok()) ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10/11: find() on an unmounted tracefs; 3x: unprivileged open(); 12-14: mounting open()";
  // Our own namespace still has it.
  EXPECT_TRUE(Tracefs::find().ok());
}

TEST(TracefsLive, LoadsSchedSwitchWithIdFromIdFile) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto tp = t->load_tracepoint("sched", "sched_switch");
  ASSERT_TRUE(tp.ok()) << tp.status().to_string();
  auto id_text = t->read_file("events/sched/sched_switch/id");
  ASSERT_TRUE(id_text.ok());
  EXPECT_EQ(tp->id, static_cast<std::uint32_t>(std::stoul(*id_text)));
  const EventField* prev_comm = tp->format.find_field("prev_comm");
  ASSERT_NE(prev_comm, nullptr);
  EXPECT_EQ(prev_comm->location, LocationType::kStaticString);
  EXPECT_EQ(prev_comm->size, 16u);
  ASSERT_NE(tp->format.find_field("next_pid"), nullptr);
  EXPECT_EQ(tp->format.find_field("next_pid")->kind, ValueKind::kSigned);

  auto missing = t->load_tracepoint("sched", "no_such_event");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  auto escape = t->load_tracepoint("..", "sched_switch");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.status().code(), ErrorCode::kInvalidArgument);
}

TEST(TracefsLive, EveryFormatFileOnThisMachineParses) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto events = t->list_events();
  ASSERT_TRUE(events.ok()) << events.status().to_string();
  // ~2300 on the development machines; a handful would mean a broken walk.
  EXPECT_GT(events->size(), 500u);
  std::vector<std::string> failures;
  std::size_t fields = 0;
  for (const auto& [system, name] : *events) {
    auto tp = t->load_tracepoint(system, name);
    // Dynamic events (other tests' probes) may vanish between the listing
    // and the read; only a format file that is there must parse.
    if (!tp.ok() && !t->exists("events/" + system + "/" + name + "/format")) {
      continue;
    }
    if (!tp.ok()) {
      failures.push_back(t->path("events/" + system + "/" + name + "/format") + ": " +
                         tp.status().to_string());
      continue;
    }
    if (tp->id == 0) failures.push_back(system + ":" + name + ": id 0");
    fields += tp->format.fields().size();
  }
  std::string report;
  for (const auto& f : failures) report += f + "\n";
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << events->size()
                                << " format files failed:\n"
                                << report;
  EXPECT_GT(fields, events->size() * 4);  // every tracepoint has 4 common fields
}

}  // namespace
}  // namespace one_collect
