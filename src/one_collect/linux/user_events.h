// user_events: tracepoints defined and written by user-space programs,
// through tracefs `user_events_data` (kernel 6.4+ ABI, CONFIG_USER_EVENTS).
//
// Registering ("DIAG_IOCSREG") gives a write index and names a u32 in our
// memory whose bit the kernel sets while someone (perf, ftrace) listens.
// Writing an event is one writev: the u32 write index, then the payload.
// Unregistering ("DIAG_IOCSUNREG") makes the kernel forget our u32.
//
// Debian 12's linux-libc-dev (6.1) predates this ABI, so the structs are
// defined here from the kernel's documentation
// (Documentation/trace/user_events.rst, include/uapi/linux/user_events.h);
// when <linux/user_events.h> is present its layout is checked against ours.
// The kernels of our machines lack CONFIG_USER_EVENTS: UserEvents::open says
// so (kUnsupported), and the ABI layer is tested on a pipe.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"
#include "one_collect/linux/tracefs.h"

namespace one_collect {

namespace user_events_abi {

// struct user_reg: the argument of DIAG_IOCSREG.
struct __attribute__((packed)) UserReg {
  std::uint32_t size;         // in: sizeof(UserReg)
  std::uint8_t enable_bit;    // in: bit of *enable_addr the kernel sets while enabled
  std::uint8_t enable_size;   // in: 4 or 8, the size of *enable_addr
  std::uint16_t flags;        // in: kRegPersist...
  std::uint64_t enable_addr;  // in: address of the enable word in this process
  std::uint64_t name_args;    // in: address of "name field1; field2" (NUL-terminated)
  std::uint32_t write_index;  // out: prefix of every write of this event
};
static_assert(sizeof(UserReg) == 28);

// struct user_unreg: the argument of DIAG_IOCSUNREG.
struct __attribute__((packed)) UserUnreg {
  std::uint32_t size;
  std::uint8_t disable_bit;
  std::uint8_t reserved;
  std::uint16_t reserved2;
  std::uint64_t disable_addr;
};
static_assert(sizeof(UserUnreg) == 16);

inline constexpr std::uint16_t kRegPersist = 1u << 0;      // USER_EVENT_REG_PERSIST
inline constexpr std::uint16_t kRegMultiFormat = 1u << 1;  // USER_EVENT_REG_MULTI_FORMAT

// _IOWR('*', 0, struct user_reg *), _IOW('*', 1, char *), _IOW('*', 2, struct
// user_unreg *): the size field is that of a pointer (8), as the kernel
// header declares them.
inline constexpr unsigned long kDiagIocsReg = 0xC0082A00ul;
inline constexpr unsigned long kDiagIocsDel = 0x40082A01ul;
inline constexpr unsigned long kDiagIocsUnreg = 0x40082A02ul;

inline constexpr std::string_view kSystem = "user_events";  // tracefs system of the events

// Fills a registration for `name_args` with the enable word at `enable_word`.
UserReg make_reg(const char* name_args, const std::uint32_t* enable_word, std::uint8_t enable_bit,
                 std::uint16_t flags);
UserUnreg make_unreg(const std::uint32_t* enable_word, std::uint8_t enable_bit);

}  // namespace user_events_abi

// The ioctl the layer calls; tests substitute a recorder.
using UserEventsIoctl = int (*)(int fd, unsigned long request, void* arg);

class UserEvent;

// An open user_events_data. Events keep the fd alive after this is gone.
class UserEvents {
 public:
  // Opens <tracefs>/user_events_data; kUnsupported when the kernel has no
  // user_events (the file is missing).
  static Result<UserEvents> open(const Tracefs& tracefs);
  // Takes ownership of `fd` (tests pass a pipe and a recording ioctl).
  static UserEvents from_fd(int fd, UserEventsIoctl ioctl_fn);

  // Registers "name [field; field...]" (the user_events definition syntax,
  // e.g. "oc_test u32 count; char msg[16]"). The returned event must stay
  // where it is (the kernel writes to its enable word): it is heap-held.
  Result<std::unique_ptr<UserEvent>> register_event(std::string_view name_args,
                                                    std::uint16_t flags = 0);
  // DIAG_IOCSDEL: deletes an event no one uses any more (by name).
  Status delete_event(std::string_view name);

  int fd() const;

 private:
  struct Fd;
  explicit UserEvents(std::shared_ptr<Fd> fd) : fd_(std::move(fd)) {}
  std::shared_ptr<Fd> fd_;
  friend class UserEvent;
};

class UserEvent {
 public:
  ~UserEvent();  // unregisters
  UserEvent(const UserEvent&) = delete;
  UserEvent& operator=(const UserEvent&) = delete;

  const std::string& name() const { return name_; }
  std::uint32_t write_index() const { return write_index_; }
  // True while a tracer listens (the kernel set our bit).
  bool enabled() const {
    return (enable_word_.load(std::memory_order_relaxed) >> enable_bit_) & 1u;
  }
  // Address the kernel writes (what the registration named).
  const std::uint32_t* enable_word_address() const;

  // One event: writev of [write index (u32), payload pieces...].
  Status write(std::span<const iovec> payload) const;
  Status write(ByteSpan payload) const;

  // DIAG_IOCSUNREG; the destructor calls it when not done yet.
  Status unregister();

 private:
  friend class UserEvents;
  UserEvent(std::shared_ptr<UserEvents::Fd> fd, std::string name) noexcept
      : fd_(std::move(fd)), name_(std::move(name)) {}
  std::shared_ptr<UserEvents::Fd> fd_;
  std::string name_;
  std::uint32_t write_index_ = 0;
  std::uint8_t enable_bit_ = 31;
  bool registered_ = false;
  alignas(8) std::atomic<std::uint32_t> enable_word_{0};
};

}  // namespace one_collect
