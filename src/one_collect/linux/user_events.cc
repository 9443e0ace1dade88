#include "one_collect/linux/user_events.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <vector>

#include "one_collect/core/errno_status.h"

#if __has_include(<linux/user_events.h>)
#include <linux/user_events.h>
#ifdef DIAG_IOCSUNREG
// The system header has the 6.4+ ABI: our copy must match it exactly.
static_assert(sizeof(one_collect::user_events_abi::UserReg) == sizeof(struct user_reg));
static_assert(sizeof(one_collect::user_events_abi::UserUnreg) == sizeof(struct user_unreg));
static_assert(offsetof(one_collect::user_events_abi::UserReg, write_index) ==
              offsetof(struct user_reg, write_index));
static_assert(one_collect::user_events_abi::kDiagIocsReg == DIAG_IOCSREG);
static_assert(one_collect::user_events_abi::kDiagIocsDel == DIAG_IOCSDEL);
static_assert(one_collect::user_events_abi::kDiagIocsUnreg == DIAG_IOCSUNREG);
#endif
#endif

namespace one_collect {

namespace user_events_abi {

// The ioctl numbers spelled out above, rebuilt from <linux/ioctl.h>.
static_assert(kDiagIocsReg == _IOWR('*', 0, UserReg*));
static_assert(kDiagIocsDel == _IOW('*', 1, char*));
static_assert(kDiagIocsUnreg == _IOW('*', 2, UserUnreg*));

UserReg make_reg(const char* name_args, const std::uint32_t* enable_word, std::uint8_t enable_bit,
                 std::uint16_t flags) {
  UserReg reg{};
  reg.size = sizeof(UserReg);
  reg.enable_bit = enable_bit;
  reg.enable_size = sizeof(std::uint32_t);
  reg.flags = flags;
  reg.enable_addr = reinterpret_cast<std::uintptr_t>(enable_word);
  reg.name_args = reinterpret_cast<std::uintptr_t>(name_args);
  reg.write_index = 0;
  return reg;
}

UserUnreg make_unreg(const std::uint32_t* enable_word, std::uint8_t enable_bit) {
  UserUnreg unreg{};
  unreg.size = sizeof(UserUnreg);
  unreg.disable_bit = enable_bit;
  unreg.disable_addr = reinterpret_cast<std::uintptr_t>(enable_word);
  return unreg;
}

}  // namespace user_events_abi

namespace {
int system_ioctl(int fd, unsigned long request, void* arg) { return ::ioctl(fd, request, arg); }
}  // namespace

struct UserEvents::Fd {
  Fd(int f, UserEventsIoctl fn) : fd(f), ioctl_fn(fn) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
  UserEventsIoctl ioctl_fn;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Result<UserEvents> UserEvents::open(const Tracefs& tracefs) {
  const std::string path = tracefs.path("user_events_data");
  if (!tracefs.exists("user_events_data")) {
    return error(ErrorCode::kUnsupported,
                 "user_events are not available: this kernel was built without "
                 "CONFIG_USER_EVENTS (" +
                     path + " is missing)");
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno_status(errno, "open " + path);
  return from_fd(fd, &system_ioctl);
}

UserEvents UserEvents::from_fd(int fd, UserEventsIoctl ioctl_fn) {
  return UserEvents(std::make_shared<Fd>(fd, ioctl_fn ? ioctl_fn : &system_ioctl));
}

int UserEvents::fd() const { return fd_->fd; }

Result<std::unique_ptr<UserEvent>> UserEvents::register_event(std::string_view name_args,
                                                              std::uint16_t flags) {
  if (name_args.empty() || name_args.front() == ' ') {
    return error(ErrorCode::kInvalidArgument, "user event definition must start with its name");
  }
  if (name_args.find('\0') != std::string_view::npos ||
      name_args.find('\n') != std::string_view::npos) {
    return error(ErrorCode::kInvalidArgument, "user event definition contains NUL or newline");
  }
  std::string definition(name_args);
  std::string name = definition.substr(0, definition.find(' '));
  std::unique_ptr<UserEvent> event(new UserEvent(fd_, name));
  // Bit 31 of our own word: one word per event, so any bit would do.
  event->enable_bit_ = 31;
  auto reg = user_events_abi::make_reg(definition.c_str(),
                                       reinterpret_cast<const std::uint32_t*>(&event->enable_word_),
                                       event->enable_bit_, flags);
  if (fd_->ioctl_fn(fd_->fd, user_events_abi::kDiagIocsReg, &reg) < 0) {
    return errno_status(errno, "registering user event '" + definition + "'");
  }
  event->write_index_ = reg.write_index;
  event->registered_ = true;
  return event;
}

Status UserEvents::delete_event(std::string_view name) {
  std::string n(name);
  if (fd_->ioctl_fn(fd_->fd, user_events_abi::kDiagIocsDel, n.data()) < 0) {
    return errno_status(errno, "deleting user event '" + n + "'");
  }
  return ok_status();
}

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the kernel writes the enable word as a plain u32");

const std::uint32_t* UserEvent::enable_word_address() const {
  return reinterpret_cast<const std::uint32_t*>(&enable_word_);
}

Status UserEvent::write(std::span<const iovec> payload) const {
  if (!registered_) return error(ErrorCode::kInvalidArgument, "user event is not registered");
  // Small events (the common case) build the vector on the stack.
  constexpr std::size_t kInline = 8;
  iovec inline_iov[kInline];
  std::vector<iovec> heap_iov;
  iovec* iov = inline_iov;
  if (payload.size() + 1 > kInline) {
    heap_iov.resize(payload.size() + 1);
    iov = heap_iov.data();
  }
  iov[0].iov_base = const_cast<std::uint32_t*>(&write_index_);
  iov[0].iov_len = sizeof(write_index_);
  std::size_t total = sizeof(write_index_);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    iov[i + 1] = payload[i];
    total += payload[i].iov_len;
  }
  ssize_t n;
  do {
    n = ::writev(fd_->fd, iov, static_cast<int>(payload.size() + 1));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno_status(errno, "writing user event '" + name_ + "'");
  if (static_cast<std::size_t>(n) != total) {
    return error(ErrorCode::kIo, "short write of user event '" + name_ + "'");
  }
  return ok_status();
}

Status UserEvent::write(ByteSpan payload) const {
  iovec piece{const_cast<std::uint8_t*>(payload.data()), payload.size()};
  return write(std::span<const iovec>(&piece, payload.empty() ? 0 : 1));
}

Status UserEvent::unregister() {
  if (!registered_) return ok_status();
  auto unreg = user_events_abi::make_unreg(enable_word_address(), enable_bit_);
  if (fd_->ioctl_fn(fd_->fd, user_events_abi::kDiagIocsUnreg, &unreg) < 0) {
    return errno_status(errno, "unregistering user event '" + name_ + "'");
  }
  registered_ = false;
  return ok_status();
}

UserEvent::~UserEvent() { (void)unregister(); }

}  // namespace one_collect
