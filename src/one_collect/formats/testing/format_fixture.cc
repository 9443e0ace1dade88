#include "one_collect/formats/testing/format_fixture.h"

#include <map>
#include <string>
#include <vector>

namespace one_collect {

namespace {

// Symbols per object: offsets -> names (file offsets for files, addresses for
// the kernel).
class FixtureResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t>,
                 std::vector<ExportResolvedSymbol>& out,
                 std::vector<ExportResolvedLine>& lines) override {
    if (q.kind == SymbolQuery::Kind::kKernel) {
      out.push_back({0xffffffff81000000ULL, 0xffffffff81000100ULL, "do_syscall_64", "", 0});
      out.push_back({0xffffffff81000100ULL, 0xffffffff81000200ULL, "schedule", "", 0});
      return ok_status();
    }
    if (q.filename == "/usr/bin/app") {
      out.push_back({0x1000, 0x1100, "main", "app.cc", 10});
      out.push_back({0x1100, 0x1200, "std::vector<int>::push_back(int const&)", "vector", 500});
      out.push_back({0x1200, 0x1300, std::string(kFixtureNastyName), "app.cc", 30});
      lines.push_back({0x1010, "app.cc", 12, ""});
      lines.push_back({0x1110, "vector", 505, ""});
      return ok_status();
    }
    if (q.filename == "/lib/x86_64-linux-gnu/libc.so.6") {
      out.push_back({0x2000, 0x2100, "__libc_start_main", "", 0});
      out.push_back({0x2100, 0x2200, "read", "", 0});
      out.push_back({0x2200, 0x2300,
                     std::string("bad\xff"
                                 "utf8"),
                     "", 0});
      return ok_status();
    }
    return ok_status();  // anything else stays unresolved
  }
  std::optional<std::string> build_id(const SymbolQuery& q) override {
    if (q.filename == "/lib/x86_64-linux-gnu/libc.so.6") return std::string("c0ffee");
    return std::nullopt;
  }
};

}  // namespace

void build_format_fixture(ExportMachine& m) {
  CollectionMetadata& md = m.metadata();
  md.start_time = 1000000000;
  md.end_time = 3000000000;
  md.start_unix_ns = 1700000000000000000ULL;
  md.sample_frequency_hz = 1000;
  md.sample_period_ns = 1000000;
  md.cpu_count = 2;
  md.host = "test-host";
  md.kernel = "Linux 6.1.0-test";
  md.command_line = "record-trace --scenario cpu";

  const std::uint64_t app = 0x400000;
  const std::uint64_t libc = 0x7f0000000000ULL;
  for (std::uint32_t pid : {100u, 200u, 300u}) {
    m.add_mapping(pid, 0, app, app + 0x10000, 0, "/usr/bin/app", "deadbeef");
    m.add_mapping(pid, 0, libc, libc + 0x10000, 0x1000, "/lib/x86_64-linux-gnu/libc.so.6");
    m.add_mapping(pid, 0, 0x10000000, 0x10010000, 0, "[anon:jit]");
  }
  m.add_process_start(100, 0, "app");
  m.add_process_start(300, 1500000000, "app");
  m.add_process_start(200, 0, "we<ird> & \"name\" 'x'");
  m.add_process_exit(300, 2500000000);

  // Addresses (file offsets: app at 0, libc at 0x1000).
  const std::uint64_t main_ip = app + 0x1010;
  const std::uint64_t push_ip = app + 0x1110;
  const std::uint64_t nasty_ip = app + 0x1210;
  const std::uint64_t start_ip = libc + 0x2010 - 0x1000;  // __libc_start_main
  const std::uint64_t read_ip = libc + 0x2110 - 0x1000;
  const std::uint64_t bad_ip = libc + 0x2210 - 0x1000;
  const std::uint64_t unknown_ip = app + 0x9000;
  const std::uint64_t jit_ip = 0x10000040;
  const std::uint64_t syscall_ip = 0xffffffff81000010ULL;
  const std::uint64_t schedule_ip = 0xffffffff81000110ULL;

  SampleKind cpu = m.sample_kind("cpu");
  std::uint64_t t = 1000000000;
  auto cpu_sample = [&](std::uint32_t pid, std::uint32_t tid, std::uint64_t leaf,
                        std::vector<std::uint64_t> frames) {
    t += 1000000;
    m.add_sample(t, MetricValue::duration(1000000), pid, tid, static_cast<std::uint16_t>(tid % 2),
                 cpu, leaf, frames);
  };
  for (int i = 0; i < 3; ++i) cpu_sample(100, 100, push_ip, {main_ip, start_ip});
  cpu_sample(100, 101, nasty_ip, {push_ip, main_ip, start_ip});
  cpu_sample(100, 101, syscall_ip, {read_ip, main_ip, start_ip});
  cpu_sample(200, 200, bad_ip, {main_ip, start_ip});
  cpu_sample(200, 200, unknown_ip, {main_ip, start_ip});
  cpu_sample(300, 300, jit_ip, {main_ip, start_ip});
  cpu_sample(300, 300, main_ip, {start_ip});

  // Off-CPU: thread 101 blocks in read twice, thread 300 once.
  m.on_switch_out(100, 101, 1, 1100000000, schedule_ip,
                  std::vector<std::uint64_t>{syscall_ip, read_ip, main_ip, start_ip});
  m.on_switch_in(101, 1105000000);
  m.on_switch_out(100, 101, 1, 1200000000, schedule_ip,
                  std::vector<std::uint64_t>{syscall_ip, read_ip, main_ip, start_ip});
  m.on_switch_in(101, 1203000000);
  m.on_switch_out(300, 300, 0, 1600000000, schedule_ip,
                  std::vector<std::uint64_t>{read_ip, main_ip, start_ip});
  m.on_switch_in(300, 1602000000);

  m.add_lost("cpu", 3);
  m.add_lost("off_cpu", 1);

  FixtureResolver resolver;
  (void)m.capture_and_resolve_symbols(resolver);
}

}  // namespace one_collect
