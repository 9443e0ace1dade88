#include "one_collect/linux/user_events.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <vector>

#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace abi = user_events_abi;

TEST(UserEventsAbi, StructLayoutMatchesTheKernelHeader) {
  // Offsets from include/uapi/linux/user_events.h (6.4+), packed.
  EXPECT_EQ(offsetof(abi::UserReg, size), 0u);
  EXPECT_EQ(offsetof(abi::UserReg, enable_bit), 4u);
  EXPECT_EQ(offsetof(abi::UserReg, enable_size), 5u);
  EXPECT_EQ(offsetof(abi::UserReg, flags), 6u);
  EXPECT_EQ(offsetof(abi::UserReg, enable_addr), 8u);
  EXPECT_EQ(offsetof(abi::UserReg, name_args), 16u);
  EXPECT_EQ(offsetof(abi::UserReg, write_index), 24u);
  EXPECT_EQ(sizeof(abi::UserReg), 28u);
  EXPECT_EQ(offsetof(abi::UserUnreg, disable_bit), 4u);
  EXPECT_EQ(offsetof(abi::UserUnreg, disable_addr), 8u);
  EXPECT_EQ(sizeof(abi::UserUnreg), 16u);
  EXPECT_EQ(abi::kDiagIocsReg, 0xC0082A00ul);
  EXPECT_EQ(abi::kDiagIocsDel, 0x40082A01ul);
  EXPECT_EQ(abi::kDiagIocsUnreg, 0x40082A02ul);
}

TEST(UserEventsAbi, MakeRegFillsEveryField) {
  const char* def = "oc_event u32 a";
  std::uint32_t word = 0;
  abi::UserReg reg = abi::make_reg(def, &word, 5, abi::kRegPersist);
  // Exact bytes, as the kernel reads them.
  std::uint8_t bytes[sizeof reg];
  std::memcpy(bytes, &reg, sizeof reg);
  std::uint8_t expected[28] = {28, 0, 0, 0, 5, 4, 1, 0};
  auto addr = reinterpret_cast<std::uint64_t>(&word);
  auto name = reinterpret_cast<std::uint64_t>(def);
  std::memcpy(expected + 8, &addr, 8);
  std::memcpy(expected + 16, &name, 8);
  EXPECT_EQ(std::memcmp(bytes, expected, sizeof expected), 0);

  abi::UserUnreg unreg = abi::make_unreg(&word, 5);
  std::uint8_t ubytes[sizeof unreg];
  std::memcpy(ubytes, &unreg, sizeof unreg);
  std::uint8_t uexpected[16] = {16, 0, 0, 0, 5, 0, 0, 0};
  std::memcpy(uexpected + 8, &addr, 8);
  EXPECT_EQ(std::memcmp(ubytes, uexpected, sizeof uexpected), 0);
}

// A stand-in for the kernel's ioctl handler: records what it was given and
// answers like the kernel (write index out, or an errno).
struct IoctlLog {
  std::vector<unsigned long> requests;
  abi::UserReg last_reg{};
  std::string last_name_args;
  abi::UserUnreg last_unreg{};
  std::string last_deleted;
  int fail_errno = 0;
};
IoctlLog g_log;

int fake_ioctl(int, unsigned long request, void* arg) {
  g_log.requests.push_back(request);
  if (g_log.fail_errno != 0) {
    errno = g_log.fail_errno;
    return -1;
  }
  if (request == abi::kDiagIocsReg) {
    auto* reg = static_cast<abi::UserReg*>(arg);
    std::memcpy(&g_log.last_reg, reg, sizeof *reg);
    g_log.last_name_args =
        reinterpret_cast<const char*>(static_cast<std::uintptr_t>(reg->name_args));
    reg->write_index = 0x01020307;
    // The kernel sets the enable bit when a tracer attaches.
    auto* word = reinterpret_cast<std::uint32_t*>(static_cast<std::uintptr_t>(reg->enable_addr));
    *word |= 1u << reg->enable_bit;
    return 0;
  }
  if (request == abi::kDiagIocsUnreg) {
    std::memcpy(&g_log.last_unreg, arg, sizeof g_log.last_unreg);
    return 0;
  }
  if (request == abi::kDiagIocsDel) {
    g_log.last_deleted = static_cast<const char*>(arg);
    return 0;
  }
  errno = ENOTTY;
  return -1;
}

class UserEventsOnPipe : public ::testing::Test {
 protected:
  void SetUp() override {
    g_log = IoctlLog{};
    ASSERT_EQ(::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK), 0);
  }
  void TearDown() override { ::close(pipe_[0]); }
  std::vector<std::uint8_t> drain() {
    std::vector<std::uint8_t> out(4096);
    ssize_t n = ::read(pipe_[0], out.data(), out.size());
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }
  int pipe_[2];
};

TEST_F(UserEventsOnPipe, RegisterWriteUnregister) {
  UserEvents ue = UserEvents::from_fd(pipe_[1], &fake_ioctl);
  const std::uint32_t* word = nullptr;
  {
    auto ev = ue.register_event("oc_test u32 count; char msg[8]");
    ASSERT_TRUE(ev.ok()) << ev.status().to_string();
    UserEvent& e = **ev;
    word = e.enable_word_address();
    EXPECT_EQ(e.name(), "oc_test");
    EXPECT_EQ(e.write_index(), 0x01020307u);
    EXPECT_TRUE(e.enabled());

    ASSERT_EQ(g_log.requests.size(), 1u);
    EXPECT_EQ(g_log.requests[0], abi::kDiagIocsReg);
    EXPECT_EQ(g_log.last_reg.size, 28u);
    EXPECT_EQ(g_log.last_reg.enable_size, 4u);
    EXPECT_EQ(g_log.last_reg.flags, 0u);
    EXPECT_EQ(g_log.last_reg.enable_addr, reinterpret_cast<std::uintptr_t>(word));
    EXPECT_EQ(g_log.last_reg.enable_addr % 4, 0u);
    EXPECT_LT(g_log.last_reg.enable_bit, 32u);
    EXPECT_EQ(g_log.last_name_args, "oc_test u32 count; char msg[8]");

    // One event = write index, then the payload pieces, in one writev.
    std::uint32_t count = 0xAABBCCDD;
    char msg[8] = "hello";
    iovec pieces[2] = {{&count, 4}, {msg, 8}};
    Status st = e.write(std::span<const iovec>(pieces, 2));
    ASSERT_TRUE(st.ok()) << st.to_string();
    std::vector<std::uint8_t> expected = {0x07, 0x03, 0x02, 0x01, 0xDD, 0xCC, 0xBB, 0xAA,
                                          'h',  'e',  'l',  'l',  'o',  0,    0,    0};
    EXPECT_EQ(drain(), expected);

    std::uint8_t raw[3] = {9, 8, 7};
    ASSERT_TRUE(e.write(ByteSpan(raw, 3)).ok());
    EXPECT_EQ(drain(), (std::vector<std::uint8_t>{0x07, 0x03, 0x02, 0x01, 9, 8, 7}));

    // Many pieces take the out-of-line path.
    std::vector<iovec> many(20, iovec{raw, 1});
    Status many_st = e.write(std::span<const iovec>(many));
    ASSERT_TRUE(many_st.ok()) << many_st.to_string();
    auto got = drain();
    ASSERT_EQ(got.size(), 24u);
    EXPECT_EQ(got[4], 9);
    EXPECT_EQ(got[23], 9);
  }
  // Destruction unregistered the same word and bit.
  ASSERT_EQ(g_log.requests.size(), 2u);
  EXPECT_EQ(g_log.requests[1], abi::kDiagIocsUnreg);
  EXPECT_EQ(g_log.last_unreg.size, 16u);
  EXPECT_EQ(g_log.last_unreg.disable_addr, reinterpret_cast<std::uintptr_t>(word));
  EXPECT_EQ(g_log.last_unreg.disable_bit, g_log.last_reg.enable_bit);

  ASSERT_TRUE(ue.delete_event("oc_test").ok());
  EXPECT_EQ(g_log.last_deleted, "oc_test");
}

TEST_F(UserEventsOnPipe, ErrorsAreReported) {
  UserEvents ue = UserEvents::from_fd(pipe_[1], &fake_ioctl);
  EXPECT_EQ(ue.register_event("").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ue.register_event(" leading").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ue.register_event("a\nb").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(g_log.requests.empty());

  g_log.fail_errno = EINVAL;
  auto bad = ue.register_event("oc_bad u32 x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("oc_bad u32 x"), std::string::npos);
  g_log.fail_errno = 0;

  auto ev = ue.register_event("oc_ok");
  ASSERT_TRUE(ev.ok());
  ::close(pipe_[0]);  // no reader: the write fails with EPIPE (SIGPIPE ignored below)
  pipe_[0] = ::open("/dev/null", O_RDONLY);
  auto old = ::signal(SIGPIPE, SIG_IGN);
  std::uint8_t b = 1;
  Status st = (*ev)->write(ByteSpan(&b, 1));
  ::signal(SIGPIPE, old);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("oc_ok"), std::string::npos);

  ASSERT_TRUE((*ev)->unregister().ok());
  EXPECT_EQ((*ev)->write(ByteSpan(&b, 1)).code(), ErrorCode::kInvalidArgument);
}

TEST(UserEvents, MissingUserEventsDataIsUnsupported) {
  testing::TempDir tmp("oc_fake_tracefs_ue");
  std::filesystem::create_directories(tmp / "events");
  auto t = Tracefs::open_at(tmp.string());
  ASSERT_TRUE(t.ok());
  auto ue = UserEvents::open(*t);
  ASSERT_FALSE(ue.ok());
  EXPECT_EQ(ue.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(ue.status().message().find("CONFIG_USER_EVENTS"), std::string::npos);
}

TEST(UserEventsLive, ThisKernelSaysWhetherItHasUserEvents) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto ue = UserEvents::open(*t);
  if (t->exists("user_events_data")) {
    ASSERT_TRUE(ue.ok()) << ue.status().to_string();
    auto ev = ue->register_event("oc_live_test u32 x");
    ASSERT_TRUE(ev.ok()) << ev.status().to_string();
    auto tp = t->load_tracepoint(abi::kSystem, "oc_live_test");
    EXPECT_TRUE(tp.ok()) << tp.status().to_string();
    return;
  }
  ASSERT_FALSE(ue.ok());
  EXPECT_EQ(ue.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(ue.status().message().find("CONFIG_USER_EVENTS"), std::string::npos);
}

}  // namespace
}  // namespace one_collect
