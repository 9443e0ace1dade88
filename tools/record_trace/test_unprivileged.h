// Runs part of a test as an unprivileged user, so checks that root would
// pass (an unwritable directory, perf_events refused) also run in CI, which
// runs the tests as root: fork, drop groups, gid and uid to nobody (65534)
// in the child, and report back through a pipe or the exit status.
#pragma once

#include <grp.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "one_collect/core/status.h"

namespace one_collect::record_trace::testing {

inline constexpr uid_t kNobodyId = 65534;

// In a child: drops every privilege for good. False (errno set) on failure.
inline bool drop_privileges_to_nobody() {
  if (::getuid() != 0 && ::geteuid() != 0) return true;  // unprivileged already
  if (::setgroups(0, nullptr) != 0) return false;
  if (::setresgid(kNobodyId, kNobodyId, kNobodyId) != 0) return false;
  if (::setresuid(kNobodyId, kNobodyId, kNobodyId) != 0) return false;
  return ::geteuid() == kNobodyId && ::setuid(0) != 0;  // and root cannot come back
}

struct UnprivilegedRun {
  std::string failure;  // non-empty: the check could not run unprivileged
  Status status;        // what the check returned
};

// Runs `check` as an unprivileged user: directly when this process is not
// root, else in a forked child that dropped to nobody (its Status comes back
// through a pipe as the code byte followed by the message).
inline UnprivilegedRun run_unprivileged(const std::function<Status()>& check) {
  UnprivilegedRun run;
  if (::geteuid() != 0) {
    run.status = check();
    return run;
  }
  int fds[2];
  if (::pipe(fds) != 0) {
    run.failure = std::string("pipe: ") + std::strerror(errno);
    return run;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    run.failure = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return run;
  }
  if (pid == 0) {
    ::close(fds[0]);
    std::string report;
    if (!drop_privileges_to_nobody()) {
      report = std::string("!could not drop privileges: ") + std::strerror(errno);
    } else {
      Status s = check();
      report = std::string(1, static_cast<char>(s.code())) + (s.ok() ? "" : s.message());
    }
    for (std::size_t done = 0; done < report.size();) {
      ssize_t n = ::write(fds[1], report.data() + done, report.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);  // no atexit handlers, gtest or leak checks in the child
  }
  ::close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    report.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (report.empty() || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    run.failure = "the unprivileged child died (wait status " + std::to_string(wstatus) + ")";
  } else if (report[0] == '!') {
    run.failure = report.substr(1);
  } else if (report[0] != static_cast<char>(ErrorCode::kOk)) {
    run.status = error(static_cast<ErrorCode>(report[0]), report.substr(1));
  }
  return run;
}

}  // namespace one_collect::record_trace::testing
