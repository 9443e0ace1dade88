// Writable<T> and ReadOnly<T>: shared ownership of pipeline state with
// checked access.
//
// Threading rules: like the pipeline, these are single-threaded. Copies share
// one value through a non-atomic borrow count; never touch copies of the same
// value from two threads. Hand a whole pipeline to another thread only when no
// copy stays behind.
//
// Access rules (checked at run time, as RefCell does): any number of nested
// read()s, or one write() with no read() or write() in progress. Breaking
// them is a programming error and terminates with a message naming it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <type_traits>
#include <utility>

namespace one_collect {

template <typename T>
class ReadOnly;

namespace sharing_detail {

template <typename T>
struct Cell {
  template <typename... Args>
  explicit Cell(Args&&... args) : value(std::forward<Args>(args)...) {}
  T value;
  int readers = 0;
  bool writing = false;
};

[[noreturn]] inline void access_violation(const char* what) {
  std::fprintf(stderr, "one_collect: shared value %s\n", what);
  std::abort();
}

template <typename T, typename F>
decltype(auto) read(Cell<T>& cell, F&& f) {
  if (cell.writing) access_violation("read while it is being written");
  ++cell.readers;
  struct Release {
    Cell<T>& c;
    ~Release() { --c.readers; }
  } release{cell};
  return std::forward<F>(f)(static_cast<const T&>(cell.value));
}

}  // namespace sharing_detail

template <typename T>
class Writable {
 public:
  // Builds the shared value from constructor arguments. (Constrained so that
  // copying a non-const Writable shares the value instead of matching here.)
  template <typename... Args>
  requires(!(sizeof...(Args) == 1 && (std::is_same_v<std::remove_cvref_t<Args>, Writable> &&
                                      ...))) explicit Writable(Args&&... args)
      : cell_(std::make_shared<sharing_detail::Cell<T>>(std::forward<Args>(args)...)) {}

  template <typename F>
  decltype(auto) read(F&& f) const {
    return sharing_detail::read(*cell_, std::forward<F>(f));
  }

  template <typename F>
  decltype(auto) write(F&& f) const {
    auto& cell = *cell_;
    if (cell.writing) sharing_detail::access_violation("written while already being written");
    if (cell.readers != 0) sharing_detail::access_violation("written while being read");
    cell.writing = true;
    struct Release {
      sharing_detail::Cell<T>& c;
      ~Release() { c.writing = false; }
    } release{cell};
    return std::forward<F>(f)(cell.value);
  }

  // For copyable values.
  T value() const {
    return read([](const T& v) { return v; });
  }
  void set(T v) const {
    write([&](T& target) { target = std::move(v); });
  }

  ReadOnly<T> read_only() const { return ReadOnly<T>(cell_); }

  // Number of Writable/ReadOnly handles sharing this value.
  long use_count() const { return cell_.use_count(); }

 private:
  std::shared_ptr<sharing_detail::Cell<T>> cell_;
};

// A view that can read a Writable's value but never change it.
template <typename T>
class ReadOnly {
 public:
  template <typename F>
  decltype(auto) read(F&& f) const {
    return sharing_detail::read(*cell_, std::forward<F>(f));
  }
  T value() const {
    return read([](const T& v) { return v; });
  }

 private:
  friend class Writable<T>;
  explicit ReadOnly(std::shared_ptr<sharing_detail::Cell<T>> cell) : cell_(std::move(cell)) {}
  std::shared_ptr<sharing_detail::Cell<T>> cell_;
};

}  // namespace one_collect
