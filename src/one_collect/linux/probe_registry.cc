#include "one_collect/linux/probe_registry.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "one_collect/core/errno_status.h"

namespace one_collect {
namespace {

// ---- signal-safe removal table ---------------------------------------------
//
// Each registered probe owns one slot holding the absolute path of its
// control file and the ready-made removal command, so the removal needs no
// allocation and only async-signal-safe calls.
constexpr int kSignalSlots = 256;
constexpr std::size_t kPathMax = 256;
constexpr std::size_t kCommandMax = 192;

struct SignalSlot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 armed
  char path[kPathMax];
  char command[kCommandMax];
  std::size_t length;
};
SignalSlot g_slots[kSignalSlots];
std::once_flag g_atexit_once;

int claim_signal_slot(const std::string& path, const std::string& command) {
  if (path.size() >= kPathMax || command.size() >= kCommandMax) return -1;
  for (int i = 0; i < kSignalSlots; ++i) {
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      std::memcpy(g_slots[i].command, command.data(), command.size());
      g_slots[i].length = command.size();
      g_slots[i].state.store(2, std::memory_order_release);
      std::call_once(g_atexit_once, [] { std::atexit(remove_registered_probes_signal_safe); });
      return i;
    }
  }
  return -1;  // table full: the next run's stale-probe pass still covers it
}

void release_signal_slot(int slot) {
  if (slot >= 0 && slot < kSignalSlots) g_slots[slot].state.store(0, std::memory_order_release);
}

// ---- names ---------------------------------------------------------------

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// A tracefs event name from a symbol: identifier characters only, short
// enough to leave room for the suffix.
std::string sanitize(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(0, "p_");
  return out;
}

std::atomic<unsigned> g_probe_counter{0};

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The kernel explains rejected probe definitions in error_log; its last
// entry is worth more than "Invalid argument".
std::string last_error_log_entry(const Tracefs& tracefs) {
  auto log = tracefs.read_file("error_log");
  if (!log.ok() || log->empty()) return {};
  std::string_view text = *log;
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  // An entry starts with "[ timestamp]"; take the last one.
  auto start = text.rfind("\n[");
  std::string_view entry = start == std::string_view::npos ? text : text.substr(start + 1);
  std::string out;
  for (char c : entry) out += (c == '\n') ? ' ' : c;
  return out;
}

// ---- ELF symbol lookup (minimal; the project's full ELF reader lives in
// binary/) --------------------------------------------------------------------

struct ElfHandle {
  int fd = -1;
  Elf* elf = nullptr;
  ~ElfHandle() {
    if (elf != nullptr) elf_end(elf);
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string probe_group_for_pid(int pid) {
  return std::string(kProbeGroupPrefix) + std::to_string(pid);
}

Result<std::uint64_t> resolve_symbol_file_offset(const std::string& binary,
                                                 std::string_view symbol) {
  if (symbol.empty()) return error(ErrorCode::kInvalidArgument, "empty symbol name");
  if (elf_version(EV_CURRENT) == EV_NONE) {
    return error(ErrorCode::kInternal, "libelf initialisation failed");
  }
  ElfHandle h;
  h.fd = ::open(binary.c_str(), O_RDONLY | O_CLOEXEC);
  if (h.fd < 0) return errno_status(errno, "open " + binary);
  h.elf = elf_begin(h.fd, ELF_C_READ, nullptr);
  if (h.elf == nullptr || elf_kind(h.elf) != ELF_K_ELF) {
    return error(ErrorCode::kMalformed, binary + " is not an ELF file");
  }

  // .symtab has every function; .dynsym only exported ones but survives strip.
  std::optional<GElf_Sym> found;
  bool non_function = false;
  for (int pass = 0; pass < 2 && !found; ++pass) {
    const Elf64_Word wanted = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
    Elf_Scn* scn = nullptr;
    while (!found && (scn = elf_nextscn(h.elf, scn)) != nullptr) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != wanted) continue;
      if (shdr.sh_entsize == 0) continue;
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data == nullptr) continue;
      const std::size_t count = data->d_size / shdr.sh_entsize;
      for (std::size_t i = 0; i < count; ++i) {
        GElf_Sym sym;
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) break;
        if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
        const char* name = elf_strptr(h.elf, shdr.sh_link, sym.st_name);
        if (name == nullptr || symbol != name) continue;
        const int type = GELF_ST_TYPE(sym.st_info);
        if (type != STT_FUNC && type != STT_GNU_IFUNC) {
          non_function = true;
          continue;
        }
        found = sym;
        break;
      }
    }
  }
  if (!found) {
    if (non_function) {
      return error(ErrorCode::kInvalidArgument,
                   "symbol '" + std::string(symbol) + "' in " + binary + " is not a function");
    }
    return error(ErrorCode::kNotFound,
                 "no function '" + std::string(symbol) + "' in the symbol tables of " + binary);
  }

  // uprobe_events wants a file offset: find the loadable segment holding
  // the symbol's address.
  std::size_t phnum = 0;
  if (elf_getphdrnum(h.elf, &phnum) != 0) {
    return error(ErrorCode::kMalformed, binary + ": unreadable program headers");
  }
  for (std::size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (gelf_getphdr(h.elf, static_cast<int>(i), &ph) == nullptr) continue;
    if (ph.p_type != PT_LOAD) continue;
    if (found->st_value >= ph.p_vaddr && found->st_value - ph.p_vaddr < ph.p_filesz) {
      return found->st_value - ph.p_vaddr + ph.p_offset;
    }
  }
  return error(ErrorCode::kMalformed, "function '" + std::string(symbol) + "' at " +
                                          hex(found->st_value) +
                                          " lies in no loadable segment of " + binary);
}

void remove_registered_probes_signal_safe() {
  for (auto& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) != 2) continue;
    int fd = ::open(slot.path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = ::write(fd, slot.command, slot.length);
    int err = errno;
    ::close(fd);
    errno = err;
    // Removed (or already gone): disarm. EBUSY (perf still holds it): keep.
    if (n >= 0 || errno == ENOENT) {
      int armed = 2;
      slot.state.compare_exchange_strong(armed, 0);
    }
  }
}

Result<std::vector<std::string>> remove_stale_probes(const Tracefs& tracefs) {
  std::vector<std::string> removed;
  const int self = static_cast<int>(::getpid());
  for (std::string_view control : {"uprobe_events", "kprobe_events"}) {
    if (!tracefs.exists(control)) continue;
    OC_ASSIGN_OR_RETURN(std::string text, tracefs.read_file(control));
    std::string_view rest = text;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      // "p:one_collect_123/event /path:0x..." (or "r:" / "r8:" for returns)
      auto colon = line.find(':');
      auto space = line.find(' ');
      if (colon == std::string_view::npos || space == std::string_view::npos || colon > space) {
        continue;
      }
      std::string_view name = line.substr(colon + 1, space - colon - 1);
      auto slash = name.find('/');
      if (slash == std::string_view::npos) continue;
      std::string_view group = name.substr(0, slash);
      if (!group.starts_with(kProbeGroupPrefix)) continue;
      std::string_view pid_text = group.substr(kProbeGroupPrefix.size());
      int pid = 0;
      bool numeric = !pid_text.empty() && pid_text.size() < 10;
      for (char c : pid_text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) numeric = false;
      }
      if (!numeric) continue;
      pid = std::atoi(std::string(pid_text).c_str());
      if (pid <= 0 || pid == self) continue;
      if (::kill(pid, 0) == 0 || errno == EPERM) continue;  // the owner still runs
      std::string full(name);
      Status st = tracefs.append_line(control, "-:" + full);
      if (st.ok()) {
        removed.push_back(full);
      } else if (st.code() != ErrorCode::kNotFound) {
        return std::move(st).with_context("removing stale probe " + full);
      }
    }
  }
  return removed;
}

Result<ProbeRegistry> ProbeRegistry::create(Tracefs tracefs) {
  if (!tracefs.exists("uprobe_events")) {
    return error(ErrorCode::kUnsupported,
                 "uprobes are not available: " + tracefs.path("uprobe_events") +
                     " is missing (kernel built without CONFIG_UPROBE_EVENTS)");
  }
  auto stale = remove_stale_probes(tracefs);
  if (!stale.ok()) return std::move(stale).status();
  return ProbeRegistry(std::move(tracefs), probe_group_for_pid(static_cast<int>(::getpid())));
}

ProbeRegistry::ProbeRegistry(ProbeRegistry&& other) noexcept
    : tracefs_(other.tracefs_),
      group_(std::move(other.group_)),
      entries_(std::move(other.entries_)),
      registered_(std::move(other.registered_)) {
  other.entries_.clear();
  other.registered_.clear();
  other.moved_from_ = true;
}

ProbeRegistry& ProbeRegistry::operator=(ProbeRegistry&& other) noexcept {
  if (this != &other) {
    (void)cleanup();
    tracefs_ = other.tracefs_;
    group_ = std::move(other.group_);
    entries_ = std::move(other.entries_);
    registered_ = std::move(other.registered_);
    moved_from_ = false;
    other.entries_.clear();
    other.registered_.clear();
    other.moved_from_ = true;
  }
  return *this;
}

ProbeRegistry::~ProbeRegistry() {
  if (!moved_from_) (void)cleanup();
}

Result<TracepointFormat> ProbeRegistry::add_probe(std::string_view control_file, char kind,
                                                  const std::string& event,
                                                  const std::string& location,
                                                  const std::string& fetch_args) {
  std::string definition = std::string(1, kind) + ":" + group_ + "/" + event + " " + location;
  if (!fetch_args.empty()) definition += " " + fetch_args;
  Status st = tracefs_.append_line(control_file, definition);
  if (!st.ok()) {
    std::string detail = last_error_log_entry(tracefs_);
    std::string message = st.message();
    if (!detail.empty()) message += " (kernel: " + detail + ")";
    return error(st.code(), std::move(message));
  }
  auto tp = tracefs_.load_tracepoint(group_, event);
  const std::string removal = "-:" + group_ + "/" + event;
  if (!tp.ok()) {
    (void)tracefs_.append_line(control_file, removal);
    return std::move(tp).status().with_context("probe " + group_ + "/" + event + " was added but");
  }
  int slot = claim_signal_slot(tracefs_.path(control_file), removal + "\n");
  entries_.push_back(Entry{std::string(control_file), event, slot});
  registered_.push_back(group_ + "/" + event);
  return tp;
}

Result<TracepointFormat> ProbeRegistry::add_uprobe(const UprobeSpec& spec) {
  if (spec.binary.empty() || spec.binary.front() != '/') {
    return error(ErrorCode::kInvalidArgument,
                 "uprobe binary must be an absolute path, got '" + spec.binary + "'");
  }
  // uprobe_events splits its commands at whitespace.
  for (char c : spec.binary) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      return error(ErrorCode::kInvalidArgument,
                   "uprobe binary path '" + spec.binary +
                       "' contains whitespace, which uprobe_events cannot express");
    }
  }
  if (spec.symbol.empty() && !spec.offset) {
    return error(ErrorCode::kInvalidArgument, "uprobe needs a symbol or a file offset");
  }
  if (spec.fetch_args.find('\n') != std::string::npos) {
    return error(ErrorCode::kInvalidArgument, "uprobe fetch arguments contain a newline");
  }
  std::uint64_t offset = spec.offset.value_or(0);
  if (!spec.symbol.empty()) {
    OC_ASSIGN_OR_RETURN(std::uint64_t sym_offset,
                        resolve_symbol_file_offset(spec.binary, spec.symbol));
    offset += sym_offset;
  }
  std::string event;
  if (!spec.event_name.empty()) {
    if (!is_identifier(spec.event_name)) {
      return error(ErrorCode::kInvalidArgument,
                   "probe event name '" + spec.event_name +
                       "' is not an identifier of at most 63 characters");
    }
    event = spec.event_name;
  } else {
    event = spec.symbol.empty() ? "off_" + hex(offset).substr(2) : sanitize(spec.symbol);
    if (spec.is_return) event += "_ret";
    // (appended piecewise: `"_" + std::to_string()` trips g++ 12's -Wrestrict)
    event += '_';
    event += std::to_string(g_probe_counter.fetch_add(1));
  }
  return add_probe("uprobe_events", spec.is_return ? 'r' : 'p', event,
                   spec.binary + ":" + hex(offset), spec.fetch_args);
}

Result<TracepointFormat> ProbeRegistry::add_kprobe(const KprobeSpec& spec) {
  if (!tracefs_.exists("kprobe_events")) {
    return error(ErrorCode::kUnsupported,
                 "kprobes are not available: this kernel was built without CONFIG_KPROBES (" +
                     tracefs_.path("kprobe_events") + " is missing)");
  }
  if (!is_identifier(spec.symbol)) {
    return error(ErrorCode::kInvalidArgument, "bad kernel symbol '" + spec.symbol + "'");
  }
  if (spec.fetch_args.find('\n') != std::string::npos) {
    return error(ErrorCode::kInvalidArgument, "kprobe fetch arguments contain a newline");
  }
  std::string event;
  if (!spec.event_name.empty()) {
    if (!is_identifier(spec.event_name)) {
      return error(ErrorCode::kInvalidArgument,
                   "probe event name '" + spec.event_name + "' is not an identifier");
    }
    event = spec.event_name;
  } else {
    event = sanitize(spec.symbol);
    event += spec.is_return ? "_ret_" : "_";
    event += std::to_string(g_probe_counter.fetch_add(1));
  }
  std::string place = spec.symbol;
  if (spec.offset != 0) {
    place += '+';
    place += std::to_string(spec.offset);
  }
  return add_probe("kprobe_events", spec.is_return ? 'r' : 'p', event, place, spec.fetch_args);
}

Status ProbeRegistry::cleanup() {
  std::string failures;
  ErrorCode code = ErrorCode::kOk;
  std::vector<Entry> kept;
  std::vector<std::string> kept_names;
  for (auto& e : entries_) {
    const std::string full = group_ + "/" + e.event;
    Status st = tracefs_.append_line(e.control_file, "-:" + full);
    if (st.ok() || st.code() == ErrorCode::kNotFound) {
      release_signal_slot(e.signal_slot);
      continue;
    }
    if (code == ErrorCode::kOk) code = st.code();
    if (!failures.empty()) failures += "; ";
    failures += st.message();
    if (st.message().find("busy") != std::string::npos) {
      failures += " (close the perf events on it first)";
    }
    kept_names.push_back(full);
    kept.push_back(std::move(e));
  }
  entries_ = std::move(kept);
  registered_ = std::move(kept_names);
  if (code != ErrorCode::kOk) return error(code, "could not remove probes: " + failures);
  return ok_status();
}

}  // namespace one_collect
