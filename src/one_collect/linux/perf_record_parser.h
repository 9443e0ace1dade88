// PerfRecordParser: turns perf_events records (from a ring, a replayed
// buffer or a perf.data file) into Event callbacks.
//
// Every record type is an Event with an EventFormat describing its body
// (the bytes after the 8-byte header, before the sample_id_all trailer), so a
// callback attaches to a COMM record exactly as to a tracepoint. Before the
// callbacks run, the session-level DataFieldRefs (time, pid, tid, cpu, ip,
// callchain, ...) are pointed at this record's fields; they are windows into
// EventData::full_data (the whole record, header included).
//
// Which attribute a record belongs to is found by its IDENTIFIER; each known
// id maps to a SampleLayout and, for SAMPLE records, to the Event that
// receives them. Tracepoint samples pass their RAW payload as event_data so
// the tracefs EventFormat applies directly.
//
// Bad bytes (a size that does not cover the fields its layout promises, an
// unknown id) are counted in stats() and the record is skipped: the parser
// never reads out of bounds and never stops the stream.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/event/data_field_ref.h"
#include "one_collect/event/event.h"
#include "one_collect/linux/perf_event_abi.h"

namespace one_collect {

// Windows into the current record, shared by every callback. A field the
// current record lacks reads as absent (present() == false).
struct PerfSessionRefs {
  DataFieldRef record_type;     // u32 PERF_RECORD_*
  DataFieldRef misc;            // u16 header misc (PERF_RECORD_MISC_*)
  DataFieldRef id;              // u64 IDENTIFIER / ID
  DataFieldRef ip;              // u64
  DataFieldRef pid;             // u32
  DataFieldRef tid;             // u32
  DataFieldRef time;            // u64, CLOCK_MONOTONIC ns (use_clockid)
  DataFieldRef addr;            // u64
  DataFieldRef stream_id;       // u64
  DataFieldRef cpu;             // u32
  DataFieldRef period;          // u64
  DataFieldRef read;            // struct read_format bytes
  DataFieldRef callchain;       // u64[nr] (without nr)
  DataFieldRef raw;             // RAW payload (tracepoint data, common_type first)
  DataFieldRef branch_stack;    // {from, to, flags}[nr]
  DataFieldRef regs_user_abi;   // u64 PERF_SAMPLE_REGS_ABI_*
  DataFieldRef regs_user;       // u64[popcount(mask)], absent when abi == NONE
  DataFieldRef stack_user;      // the dyn_size valid bytes of the stack copy
  DataFieldRef weight;          // u64 (WEIGHT or WEIGHT_STRUCT)
  DataFieldRef data_src;        // u64
  DataFieldRef transaction;     // u64
  DataFieldRef regs_intr;       // u64[popcount(mask)]
  DataFieldRef phys_addr;       // u64
  DataFieldRef cgroup;          // u64
  DataFieldRef data_page_size;  // u64
  DataFieldRef code_page_size;  // u64
  DataFieldRef aux;             // AUX sample bytes
};

// The built-in events for kernel records. Field names follow the kernel's
// record documentation in <linux/perf_event.h>.
struct PerfKernelEvents {
  PerfKernelEvents();
  Event mmap;             // pid, tid, addr, len, pgoff, filename
  Event mmap2;            // + maj, min, ino, ino_generation | build_id_size, build_id; prot, flags
  Event comm;             // pid, tid, comm (misc & PERF_RECORD_MISC_COMM_EXEC: exec)
  Event exit;             // pid, ppid, tid, ptid, time
  Event fork;             // pid, ppid, tid, ptid, time
  Event lost;             // id, lost
  Event lost_samples;     // lost
  Event throttle;         // time, id, stream_id
  Event unthrottle;       // time, id, stream_id
  Event switch_task;      // (no body; misc & PERF_RECORD_MISC_SWITCH_OUT: out)
  Event switch_cpu_wide;  // next_prev_pid, next_prev_tid
  Event ksymbol;          // addr, len, ksym_type, flags, name
  Event namespaces;       // pid, tid, nr_namespaces, then {dev, inode}[nr] (raw)
  Event cgroup;           // id, path
  Event* for_type(std::uint32_t type);
};

struct PerfCpuCounters {
  std::uint64_t lost = 0;             // PERF_RECORD_LOST totals (kernel ring full)
  std::uint64_t lost_samples = 0;     // PERF_RECORD_LOST_SAMPLES totals
  std::uint64_t dropped_samples = 0;  // our user-space buffer was full
  std::uint64_t cut_stacks = 0;       // stack copies removed to keep a sample
};

struct PerfParseStats {
  std::uint64_t records = 0;
  std::uint64_t samples = 0;
  std::uint64_t malformed = 0;     // sizes or fields that do not add up
  std::uint64_t unknown_id = 0;    // a sample whose id we never opened
  std::uint64_t unhandled = 0;     // record types without an Event (aux, bpf...)
  std::uint64_t out_of_order = 0;  // emitted with a time below an earlier record's
};

class PerfRecordParser {
 public:
  PerfRecordParser();
  PerfRecordParser(const PerfRecordParser&) = delete;
  PerfRecordParser& operator=(const PerfRecordParser&) = delete;

  // Registers an attribute's layout; the pointer stays valid for the
  // parser's life.
  const SampleLayout* add_layout(const SampleLayout& layout);
  // Records with this id use `layout`; SAMPLE records go to `sample_event`
  // (with RAW as event_data when `raw_payload`). `sample_event` may be null
  // (e.g. the dummy leader, which never samples).
  void add_id(std::uint64_t id, const SampleLayout* layout, Event* sample_event, bool raw_payload);
  // Layout for records without a known id (synthesized records, files with
  // one attribute).
  void set_default_layout(const SampleLayout* layout) { default_layout_ = layout; }
  const SampleLayout* default_layout() const { return default_layout_; }

  // The layout a record belongs to (by its id), or the default.
  const SampleLayout* layout_of(ByteSpan record) const;
  // The record's timestamp, when its layout has one and it fits.
  std::optional<std::uint64_t> time_of(ByteSpan record) const;

  // Parses one record (header included) and runs its Event's callbacks.
  // `cpu_hint` is used for per-CPU counters when the record has no CPU field.
  void parse(ByteSpan record, std::uint32_t cpu_hint);
  // Parses concatenated records (perf.data's data section, a replayed ring).
  // A size of 0 or past the end stops the walk (there is no way to resync);
  // the error counts it.
  Status parse_stream(ByteSpan bytes, std::uint32_t cpu_hint);

  PerfKernelEvents& kernel_events() { return kernel_; }
  const PerfSessionRefs& refs() const { return refs_; }
  EventErrors& errors() { return errors_; }
  const PerfParseStats& stats() const { return stats_; }
  PerfParseStats& mutable_stats() { return stats_; }
  // Counters per CPU (grown on demand).
  PerfCpuCounters& cpu_counters(std::uint32_t cpu);
  const std::vector<PerfCpuCounters>& all_cpu_counters() const { return cpu_counters_; }

 private:
  struct IdEntry {
    std::uint64_t id;
    const SampleLayout* layout;
    Event* event;
    bool raw_payload;
    bool used;
  };
  const IdEntry* find_id(std::uint64_t id) const;
  const IdEntry* find_id_slow(std::uint64_t id) const;
  void reset_refs(std::uint64_t stale);
  bool parse_sample(ByteSpan record, const IdEntry* entry, std::uint32_t cpu_hint);
  bool parse_other(ByteSpan record, std::uint32_t type, std::uint32_t cpu_hint);
  void set(const DataFieldRef& ref, std::uint32_t start, std::uint32_t length, std::uint32_t bit) {
    ref.update(start, length);
    touched_ |= (std::uint64_t{1} << bit);
  }

  PerfKernelEvents kernel_;
  PerfSessionRefs refs_;
  std::vector<const DataFieldRef*> ref_list_;
  std::uint64_t touched_ = 0;   // refs the current record set
  std::uint64_t previous_ = 0;  // refs the previous record set
  mutable const IdEntry* last_entry_ = nullptr;
  EventErrors errors_;
  PerfParseStats stats_;
  std::vector<PerfCpuCounters> cpu_counters_;
  std::deque<SampleLayout> layouts_;
  const SampleLayout* default_layout_ = nullptr;
  // Open addressing on id (power-of-two capacity, linear probing).
  std::vector<IdEntry> table_;
  std::size_t table_count_ = 0;
};

}  // namespace one_collect
