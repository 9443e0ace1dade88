#include "one_collect/linux/perf_event_abi.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cerrno>

#include "one_collect/core/errno_status.h"

namespace one_collect {

Result<int> perf_event_open_fd(const perf_event_attr& attr, pid_t pid, int cpu, int group_fd,
                               unsigned long flags, std::string_view what) {
  long fd = ::syscall(SYS_perf_event_open, &attr, pid, cpu, group_fd, flags | PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string context = "perf_event_open(" + std::string(what) + ", pid " + std::to_string(pid) +
                          ", cpu " + std::to_string(cpu) + ")";
    if (err == ENOENT && attr.type == PERF_TYPE_HARDWARE) {
      return error(ErrorCode::kUnsupported,
                   context +
                       ": no hardware PMU (virtualized): hardware events cannot be "
                       "counted on this machine; use software events such as cpu-clock");
    }
    if (err == EACCES || err == EPERM) {
      return error(ErrorCode::kPermissionDenied, context +
                                                     ": permission denied (run as root or lower "
                                                     "/proc/sys/kernel/perf_event_paranoid)");
    }
    if (err == EMFILE) {
      return error(ErrorCode::kIo, context + ": too many open files (raise `ulimit -n`)");
    }
    return errno_status(err, context);
  }
  return static_cast<int>(fd);
}

SampleLayout SampleLayout::from_attr(const perf_event_attr& attr) {
  SampleLayout layout;
  layout.sample_type = attr.sample_type;
  layout.read_format = attr.read_format;
  layout.regs_user_mask = attr.sample_regs_user;
  layout.regs_intr_mask = attr.sample_regs_intr;
  layout.branch_sample_type = attr.branch_sample_type;
  layout.sample_id_all = attr.sample_id_all != 0;
  layout.finish();
  return layout;
}

void SampleLayout::finish() {
  regs_user_count = static_cast<std::uint32_t>(std::popcount(regs_user_mask));
  regs_intr_count = static_cast<std::uint32_t>(std::popcount(regs_intr_mask));

  sample_time_offset = -1;
  if (has(PERF_SAMPLE_TIME)) {
    std::int32_t off = 8;  // header
    if (has(PERF_SAMPLE_IDENTIFIER)) off += 8;
    if (has(PERF_SAMPLE_IP)) off += 8;
    if (has(PERF_SAMPLE_TID)) off += 8;
    sample_time_offset = off;
  }

  // Trailer (struct sample_id): TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER in
  // that order; compute each field's distance from the record end.
  trailer_size = 0;
  trailer_tid_from_end = trailer_time_from_end = trailer_id_from_end = -1;
  trailer_stream_id_from_end = trailer_cpu_from_end = -1;
  if (!sample_id_all) return;
  std::int32_t from_end = 0;
  if (has(PERF_SAMPLE_IDENTIFIER)) {
    from_end += 8;
    trailer_id_from_end = from_end;
  }
  if (has(PERF_SAMPLE_CPU)) {
    from_end += 8;
    trailer_cpu_from_end = from_end;
  }
  if (has(PERF_SAMPLE_STREAM_ID)) {
    from_end += 8;
    trailer_stream_id_from_end = from_end;
  }
  if (has(PERF_SAMPLE_ID)) {
    from_end += 8;
    if (trailer_id_from_end < 0) trailer_id_from_end = from_end;
  }
  if (has(PERF_SAMPLE_TIME)) {
    from_end += 8;
    trailer_time_from_end = from_end;
  }
  if (has(PERF_SAMPLE_TID)) {
    from_end += 8;
    trailer_tid_from_end = from_end;
  }
  trailer_size = static_cast<std::uint32_t>(from_end);
}

const char* perf_record_type_name(std::uint32_t type) {
  switch (type) {
    case PERF_RECORD_MMAP:
      return "mmap";
    case PERF_RECORD_LOST:
      return "lost";
    case PERF_RECORD_COMM:
      return "comm";
    case PERF_RECORD_EXIT:
      return "exit";
    case PERF_RECORD_THROTTLE:
      return "throttle";
    case PERF_RECORD_UNTHROTTLE:
      return "unthrottle";
    case PERF_RECORD_FORK:
      return "fork";
    case PERF_RECORD_READ:
      return "read";
    case PERF_RECORD_SAMPLE:
      return "sample";
    case PERF_RECORD_MMAP2:
      return "mmap2";
    case PERF_RECORD_AUX:
      return "aux";
    case PERF_RECORD_ITRACE_START:
      return "itrace_start";
    case PERF_RECORD_LOST_SAMPLES:
      return "lost_samples";
    case PERF_RECORD_SWITCH:
      return "switch";
    case PERF_RECORD_SWITCH_CPU_WIDE:
      return "switch_cpu_wide";
    case PERF_RECORD_NAMESPACES:
      return "namespaces";
    case PERF_RECORD_KSYMBOL:
      return "ksymbol";
    case PERF_RECORD_BPF_EVENT:
      return "bpf_event";
    case PERF_RECORD_CGROUP:
      return "cgroup";
    case PERF_RECORD_TEXT_POKE:
      return "text_poke";
    case PERF_RECORD_AUX_OUTPUT_HW_ID:
      return "aux_output_hw_id";
    default:
      return "unknown";
  }
}

}  // namespace one_collect
