#include "one_collect/export_linux/linux_session_handlers.h"

#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "one_collect/core/strings.h"
#include "one_collect/export_linux/linux_symbol_resolver.h"
#include "one_collect/linux/perf_session.h"

namespace one_collect::linux_session {
namespace {

EventFieldRef ref_of(const Event& event, std::string_view name) {
  auto r = event.format().get_field_ref(name);
  return r.ok() ? *r : EventFieldRef{};
}

// Copies a u64 array out of a record when it is not 8-byte aligned (records
// in the reader's buffer usually are; this keeps the unaligned case defined).
std::span<const std::uint64_t> as_u64s(ByteSpan bytes, std::vector<std::uint64_t>& scratch) {
  std::size_t n = bytes.size() / 8;
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(std::uint64_t) == 0) {
    return {reinterpret_cast<const std::uint64_t*>(bytes.data()), n};
  }
  scratch.resize(n);
  std::memcpy(scratch.data(), bytes.data(), n * 8);
  return scratch;
}

std::uint64_t record_time(const State& st, const EventData& d) {
  return st.refs->time.try_get<std::uint64_t>(d.full_data).value_or(0);
}

std::uint16_t record_misc(const State& st, const EventData& d) {
  return st.refs->misc.try_get<std::uint16_t>(d.full_data).value_or(0);
}

}  // namespace

State::State() : machine() {}
State::~State() = default;

void State::note(std::string text) {
  std::lock_guard lock(notes_mutex);
  notes.push_back(std::move(text));
}

MmapFields MmapFields::of(const Event& mmap2) {
  MmapFields f;
  f.pid = ref_of(mmap2, "pid");
  f.addr = ref_of(mmap2, "addr");
  f.len = ref_of(mmap2, "len");
  f.pgoff = ref_of(mmap2, "pgoff");
  f.maj = ref_of(mmap2, "maj");
  f.min = ref_of(mmap2, "min");
  f.ino = ref_of(mmap2, "ino");
  f.build_id_size = ref_of(mmap2, "build_id_size");
  f.build_id = ref_of(mmap2, "build_id");
  f.prot = ref_of(mmap2, "prot");
  f.filename = ref_of(mmap2, "filename");
  return f;
}

CommFields CommFields::of(const Event& comm) {
  return CommFields{ref_of(comm, "pid"), ref_of(comm, "tid"), ref_of(comm, "comm")};
}

TaskFields TaskFields::of(const Event& task) {
  return TaskFields{ref_of(task, "pid"), ref_of(task, "ppid"), ref_of(task, "tid")};
}

LostFields LostFields::of(const Event& lost) { return LostFields{ref_of(lost, "lost")}; }

// ---- process and mapping records

Status on_mmap(State& st, const MmapFields& mm, const EventData& d) {
  const EventFormat& f = d.format;
  OC_ASSIGN_OR_RETURN(std::uint32_t pid, f.get_u32(mm.pid, d.event_data));
  if (pid == static_cast<std::uint32_t>(-1)) return ok_status();  // kernel modules
  OC_ASSIGN_OR_RETURN(std::uint64_t addr, f.get_u64(mm.addr, d.event_data));
  OC_ASSIGN_OR_RETURN(std::uint64_t len, f.get_u64(mm.len, d.event_data));
  OC_ASSIGN_OR_RETURN(std::uint64_t pgoff, f.get_u64(mm.pgoff, d.event_data));
  OC_ASSIGN_OR_RETURN(std::string_view path, f.get_str(mm.filename, d.event_data));
  auto prot = f.get_u32(mm.prot, d.event_data);
  MmapEvent ev;
  ev.pid = pid;
  ev.start = addr;
  ev.len = len;
  ev.pgoff = pgoff;
  ev.path = path;
  ev.time = record_time(st, d);
  ev.executable = !prot.ok() || (*prot & PROT_EXEC) != 0;
  std::string build_id;
  auto misc = record_misc(st, d);
  if (misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
    auto size = f.get_u8(mm.build_id_size, d.event_data);
    auto bytes = f.get_data(mm.build_id, d.event_data);
    if (size.ok() && bytes.ok() && *size <= bytes->size()) {
      ev.build_id = bytes->first(*size);
      build_id = to_hex(ev.build_id);
    }
  } else {
    auto maj = f.get_u32(mm.maj, d.event_data);
    auto min = f.get_u32(mm.min, d.event_data);
    auto ino = f.get_u64(mm.ino, d.event_data);
    if (maj.ok() && min.ok()) ev.dev = makedev(*maj, *min);
    if (ino.ok()) ev.ino = *ino;
  }
  if (!ev.executable) return ok_status();
  const Mapping* recorded = nullptr;
  Status opened = st.processes.on_mmap(ev, &recorded);
  if (!opened.ok()) {
    ++st.unopened_files;
    st.last_file_error = opened.message();
  }
  st.machine.write([&](ExportMachine& m) {
    // One source of truth: the process table's anonymity and held file.
    ExportMachine::MappingOrigin origin{is_anonymous_mapping_name(path), 0};
    if (recorded != nullptr) {
      origin.anonymous = recorded->anonymous;
      origin.file = recorded->file && recorded->file->available() ? recorded->file->id() : 0;
    }
    m.add_mapping(pid, ev.time, addr, addr + len, pgoff, path, build_id, origin);
  });
  return ok_status();
}

Status on_comm(State& st, const CommFields& c, const EventData& d) {
  OC_ASSIGN_OR_RETURN(std::uint32_t pid, d.format.get_u32(c.pid, d.event_data));
  OC_ASSIGN_OR_RETURN(std::uint32_t tid, d.format.get_u32(c.tid, d.event_data));
  OC_ASSIGN_OR_RETURN(std::string_view comm, d.format.get_str(c.comm, d.event_data));
  auto time = record_time(st, d);
  bool exec = (record_misc(st, d) & PERF_RECORD_MISC_COMM_EXEC) != 0;
  if (exec) st.processes.on_exec(pid, time);
  if (pid != tid) return ok_status();  // a thread renamed itself
  st.machine.write([&](ExportMachine& m) {
    bool known = m.find_process(pid) != nullptr;
    if (exec && !known) {
      m.add_process_start(pid, time, comm);
    } else {
      m.set_comm(pid, comm);
    }
    st.process_count.store(m.processes().size(), std::memory_order_relaxed);
  });
  return ok_status();
}

Status on_fork(State& st, const TaskFields& t, const EventData& d) {
  OC_ASSIGN_OR_RETURN(std::uint32_t pid, d.format.get_u32(t.pid, d.event_data));
  OC_ASSIGN_OR_RETURN(std::uint32_t ppid, d.format.get_u32(t.ppid, d.event_data));
  OC_ASSIGN_OR_RETURN(std::uint32_t tid, d.format.get_u32(t.tid, d.event_data));
  if (pid != tid || pid == ppid) return ok_status();  // a new thread, not a process
  auto time = record_time(st, d);
  st.processes.on_fork(ppid, pid, time);
  st.machine.write([&](ExportMachine& m) {
    m.add_fork(ppid, pid, time);
    st.process_count.store(m.processes().size(), std::memory_order_relaxed);
  });
  return ok_status();
}

Status on_exit(State& st, const TaskFields& t, const EventData& d) {
  OC_ASSIGN_OR_RETURN(std::uint32_t pid, d.format.get_u32(t.pid, d.event_data));
  OC_ASSIGN_OR_RETURN(std::uint32_t tid, d.format.get_u32(t.tid, d.event_data));
  if (pid != tid) return ok_status();
  auto time = record_time(st, d);
  // The table keeps the mappings: samples of the exiting process may still
  // arrive from other CPUs.
  st.processes.on_exit(pid, time);
  st.machine.write([&](ExportMachine& m) { m.add_process_exit(pid, time); });
  return ok_status();
}

Status on_lost(State& st, const LostFields& l, const EventData& d) {
  OC_ASSIGN_OR_RETURN(std::uint64_t n, d.format.get_u64(l.lost, d.event_data));
  st.lost.fetch_add(n, std::memory_order_relaxed);
  st.machine.write([&](ExportMachine& m) { m.add_lost(kCpuKind, n); });
  return ok_status();
}

// ---- samples: unwound now, the stack copy dropped right after.

UnwoundSample unwind_sample(State& st, const EventData& d) {
  const PerfSessionRefs& refs = *st.refs;
  ByteSpan full = d.full_data;
  UnwoundSample s;
  s.pid = refs.pid.try_get<std::uint32_t>(full).value_or(0);
  s.tid = refs.tid.try_get<std::uint32_t>(full).value_or(0);
  s.time = refs.time.try_get<std::uint64_t>(full).value_or(0);
  s.cpu = refs.cpu.try_get<std::uint32_t>(full).value_or(0);
  unwind::SampleStackInput in;
  in.pid = s.pid;
  in.time = s.time;
  in.ip = refs.ip.try_get<std::uint64_t>(full).value_or(0);
  if (auto chain = refs.callchain.get_data(full); chain.ok()) {
    in.callchain = as_u64s(*chain, st.chain_scratch);
  }
  in.regs_abi = refs.regs_user_abi.try_get<std::uint64_t>(full).value_or(0);
  std::array<std::uint64_t, 3> bp_sp_ip{};
  if (auto regs = refs.regs_user.get_data(full); regs.ok() && in.regs_abi != 0) {
    auto values = as_u64s(*regs, st.regs_scratch);
    if (values.size() > st.ip_index) {
      bp_sp_ip = {values[st.bp_index], values[st.sp_index], values[st.ip_index]};
      in.user_regs = bp_sp_ip;
    }
  }
  if (auto stack = refs.stack_user.get_data(full); stack.ok()) in.user_stack = *stack;
  std::size_t count = st.callstacks->read(in, st.frames).count;
  if (count == 0 && in.ip != 0) {
    st.frames[0] = in.ip;
    count = 1;
  }
  s.frames = std::span<const std::uint64_t>(st.frames.data(), count);
  return s;
}

Status on_cpu_sample(State& st, const EventData& d) {
  UnwoundSample s = unwind_sample(st, d);
  st.machine.write([&](ExportMachine& m) {
    m.add_sample(s.time, MetricValue::duration(st.cpu_period_ns), s.pid, s.tid,
                 static_cast<std::uint16_t>(s.cpu), st.cpu_kind, s.leaf(), s.callers());
    if (st.live_output) {
      char line[160];
      auto* p = m.find_process(s.pid);
      std::snprintf(line, sizeof line,
                    "%" PRIu64 ".%09" PRIu64 " cpu%u %s %u/%u cpu ip=0x%" PRIx64 " frames=%zu",
                    static_cast<std::uint64_t>(s.time / 1'000'000'000u),
                    static_cast<std::uint64_t>(s.time % 1'000'000'000u), s.cpu,
                    p ? std::string(m.string(p->comm)).c_str() : "?", s.pid, s.tid, s.leaf(),
                    s.frames.size());
      st.live_output(line);
    }
  });
  st.samples.fetch_add(1, std::memory_order_relaxed);
  return ok_status();
}

Status on_switch_out_sample(State& st, const EventData& d) {
  UnwoundSample s = unwind_sample(st, d);
  if (s.tid == 0) return ok_status();  // the idle task waits for nothing
  st.machine.write([&](ExportMachine& m) {
    m.on_switch_out(s.pid, s.tid, static_cast<std::uint16_t>(s.cpu), s.time, s.leaf(), s.callers());
  });
  return ok_status();
}

Status on_switch(State& st, const EventData& d) {
  const PerfSessionRefs& refs = *st.refs;
  if (record_misc(st, d) & PERF_RECORD_MISC_SWITCH_OUT) return ok_status();
  auto tid = refs.tid.try_get<std::uint32_t>(d.full_data);
  auto time = refs.time.try_get<std::uint64_t>(d.full_data);
  if (!tid || !time) return error(ErrorCode::kMalformed, "switch record without tid/time");
  bool emitted = false;
  st.machine.write([&](ExportMachine& m) { emitted = m.on_switch_in(*tid, *time); });
  if (emitted) st.samples.fetch_add(1, std::memory_order_relaxed);
  return ok_status();
}

// ---- extra tracepoints

Status on_tracepoint(State& st, const TracepointTarget& t, const EventData& d) {
  if (st.live_output) {
    std::string line = t.label + " ";
    t.writer(d.event_data, line);
    st.live_output(line);
  }
  if (t.as_samples) {
    UnwoundSample s = unwind_sample(st, d);
    st.machine.write([&](ExportMachine& m) {
      m.add_sample(s.time, MetricValue::count(1), s.pid, s.tid, static_cast<std::uint16_t>(s.cpu),
                   t.kind, s.leaf(), s.callers());
    });
    st.samples.fetch_add(1, std::memory_order_relaxed);
    return ok_status();
  }
  const PerfSessionRefs& refs = *st.refs;
  auto pid = refs.pid.try_get<std::uint32_t>(d.full_data).value_or(0);
  auto tid = refs.tid.try_get<std::uint32_t>(d.full_data).value_or(0);
  auto time = refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
  auto cpu = refs.cpu.try_get<std::uint32_t>(d.full_data).value_or(0);
  st.machine.write([&](ExportMachine& m) {
    std::uint32_t record = m.add_record(t.record_type, d.event_data);
    // Records ride on a count sample without a stack so formats that only
    // know samples still show when and where they happened.
    m.add_sample(time, MetricValue::count(1), pid, tid, static_cast<std::uint16_t>(cpu),
                 m.sample_kind(t.label), 0, {}, record);
  });
  return ok_status();
}

}  // namespace one_collect::linux_session
