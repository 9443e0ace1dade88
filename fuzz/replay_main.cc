// Replays saved fuzz inputs through a target's LLVMFuzzerTestOneInput
// without libFuzzer, so every flavour (gcc Release, ASan+UBSan) runs the
// corpora and crash regressions as a quick test (fuzz_replay.<target>).
//
//   <target>_replay CORPUS... [--regressions DIR]...
//
// A CORPUS (a folder, read recursively, or a file) must hold at least one
// input: an empty or missing corpus fails rather than passing vacuously. A
// regressions folder must exist but may be empty. Names starting with '.'
// are skipped (the .gitkeep that keeps an empty folder in git).
//
// A crash is the sanitizer's report (or the signal) ending the process; each
// input's path is printed before it runs, so the last one printed is the
// culprit.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional in a target, as with libFuzzer.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) { return p.filename().string().starts_with('.'); }

// Appends the input files under `root` (or `root` itself when it is a file),
// sorted so that runs are reproducible. False when `root` does not exist or
// cannot be listed.
bool collect_inputs(const fs::path& root, std::vector<fs::path>& out) {
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    out.push_back(root);
    return true;
  }
  if (!fs::is_directory(root, ec)) {
    std::fprintf(stderr, "fuzz_replay: %s: no such file or folder\n", root.c_str());
    return false;
  }
  std::vector<fs::path> found;
  fs::recursive_directory_iterator it(root, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) found.push_back(it->path());
  }
  if (ec) {
    std::fprintf(stderr, "fuzz_replay: %s: %s\n", root.c_str(), ec.message().c_str());
    return false;
  }
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
  return true;
}

// The whole file in a heap block of exactly its size, so that ASan reports
// a read one byte past the input (as libFuzzer's own copy does).
bool read_input(const fs::path& path, std::unique_ptr<std::uint8_t[]>& bytes, std::size_t& size) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const auto length = fs::file_size(path, ec);
  if (!in || ec) return false;
  size = static_cast<std::size_t>(length);
  bytes.reset(new std::uint8_t[size]);
  in.read(reinterpret_cast<char*>(bytes.get()), static_cast<std::streamsize>(size));
  return static_cast<std::size_t>(in.gcount()) == size;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<fs::path> inputs;
  std::size_t corpus_inputs = 0;
  bool any_path = false;
  for (int i = 1; i < argc; ++i) {
    const bool regressions = std::strcmp(argv[i], "--regressions") == 0;
    if (regressions && ++i == argc) {
      std::fprintf(stderr, "fuzz_replay: --regressions needs a folder\n");
      return 2;
    }
    const std::size_t before = inputs.size();
    if (!collect_inputs(argv[i], inputs)) return 1;
    any_path = true;
    if (regressions) continue;
    if (inputs.size() == before) {
      std::fprintf(stderr, "fuzz_replay: corpus %s holds no input\n", argv[i]);
      return 1;
    }
    corpus_inputs += inputs.size() - before;
  }
  if (!any_path) {
    std::fprintf(stderr, "usage: %s CORPUS... [--regressions DIR]...\n", argv[0]);
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  std::size_t total_bytes = 0;
  for (const fs::path& path : inputs) {
    std::unique_ptr<std::uint8_t[]> bytes;
    std::size_t size = 0;
    if (!read_input(path, bytes, size)) {
      std::fprintf(stderr, "fuzz_replay: cannot read %s\n", path.c_str());
      return 1;
    }
    std::fprintf(stderr, "running %s (%zu bytes)\n", path.c_str(), size);
    LLVMFuzzerTestOneInput(bytes.get(), size);
    total_bytes += size;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("fuzz_replay: %zu inputs ran (%zu corpus, %zu regressions; %zu bytes) in %.2f s\n",
              inputs.size(), corpus_inputs, inputs.size() - corpus_inputs, total_bytes,
              took.count());
  return 0;
}
