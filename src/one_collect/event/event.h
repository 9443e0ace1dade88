// Event: a named event with a format and the callbacks that process it.
//
// Callbacks run in registration order on every record. A failing callback
// (an error Status or an exception) never stops the others: its error is
// collected in EventErrors with the event that raised it, and the pipeline
// goes on. Errors are reported together at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"
#include "one_collect/event/event_format.h"

namespace one_collect {

// What a callback sees: the whole source record (for perf, the ring record
// with its header), the event payload inside it, and the payload's format.
struct EventData {
  ByteSpan full_data;
  ByteSpan event_data;
  const EventFormat& format;
};

using EventCallback = std::function<Status(const EventData&)>;

class Event;

namespace detail {

// A callback as Event stores it: small callables (a lambda with a few
// captures) live inline and are called through one function pointer, so a
// dispatch skips std::function's empty check and the load of its
// heap-allocated functor. Larger callables are held on the heap. Copyable,
// like the std::function it replaces.
class StoredCallback {
 public:
  template <typename F>
  requires(!std::is_same_v<std::decay_t<F>, StoredCallback>) explicit StoredCallback(F&& f) {
    using T = std::decay_t<F>;
    if constexpr (fits_inline<T>()) {
      ::new (static_cast<void*>(buf_)) T(std::forward<F>(f));
      invoke_ = [](void* p, const EventData& d) -> Status { return (*static_cast<T*>(p))(d); };
      ops_ = &kInlineOps<T>;
    } else {
      T* heap = new T(std::forward<F>(f));
      std::memcpy(buf_, &heap, sizeof heap);
      invoke_ = [](void* p, const EventData& d) -> Status { return (*heap_ptr<T>(p))(d); };
      ops_ = &kHeapOps<T>;
    }
  }
  StoredCallback(const StoredCallback& o) : invoke_(o.invoke_), ops_(o.ops_) {
    ops_->copy(buf_, o.buf_);
  }
  StoredCallback(StoredCallback&& o) noexcept : invoke_(o.invoke_), ops_(o.ops_) {
    ops_->move(buf_, o.buf_);
  }
  StoredCallback& operator=(const StoredCallback& o) {
    if (this != &o) {
      StoredCallback copy(o);
      *this = std::move(copy);
    }
    return *this;
  }
  StoredCallback& operator=(StoredCallback&& o) noexcept {
    if (this != &o) {
      ops_->destroy(buf_);
      invoke_ = o.invoke_;
      ops_ = o.ops_;
      ops_->move(buf_, o.buf_);
    }
    return *this;
  }
  ~StoredCallback() { ops_->destroy(buf_); }

  Status operator()(const EventData& data) const { return invoke_(buf_, data); }

 private:
  static constexpr std::size_t kInlineBytes = 48;
  struct Ops {
    void (*copy)(void* dst, const void* src);
    void (*move)(void* dst, void* src) noexcept;  // leaves src destroyable
    void (*destroy)(void* p) noexcept;
  };
  template <typename T>
  static constexpr bool fits_inline() {
    return sizeof(T) <= kInlineBytes && alignof(T) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<T>;
  }
  template <typename T>
  static T* heap_ptr(const void* p) {
    T* t;
    std::memcpy(&t, p, sizeof t);
    return t;
  }
  template <typename T>
  static constexpr Ops kInlineOps{
      [](void* dst, const void* src) { ::new (dst) T(*static_cast<const T*>(src)); },
      [](void* dst, void* src) noexcept { ::new (dst) T(std::move(*static_cast<T*>(src))); },
      [](void* p) noexcept { static_cast<T*>(p)->~T(); }};
  template <typename T>
  static constexpr Ops kHeapOps{[](void* dst, const void* src) {
                                  T* copy = new T(*heap_ptr<T>(src));
                                  std::memcpy(dst, &copy, sizeof copy);
                                },
                                [](void* dst, void* src) noexcept {
                                  std::memcpy(dst, src, sizeof(T*));
                                  T* none = nullptr;
                                  std::memcpy(src, &none, sizeof none);
                                },
                                [](void* p) noexcept { delete heap_ptr<T>(p); }};

  alignas(std::max_align_t) mutable unsigned char buf_[kInlineBytes];
  Status (*invoke_)(void*, const EventData&);
  const Ops* ops_;
};

}  // namespace detail

// Errors raised by callbacks, grouped by (event, message) with a count so a
// callback failing on every record does not grow memory without bound.
class EventErrors {
 public:
  struct Entry {
    std::uint64_t event_id;
    std::string event_name;
    Status status;
    std::uint64_t count;
  };

  explicit EventErrors(std::size_t max_distinct = 1000) : max_distinct_(max_distinct) {}

  void add(const Event& event, Status status);
  void add(std::uint64_t event_id, std::string_view event_name, Status status);

  bool empty() const { return total_ == 0; }
  std::uint64_t total() const { return total_; }
  // Errors beyond max_distinct distinct messages: counted, not kept.
  std::uint64_t dropped() const { return dropped_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // One line per distinct error: "event 'sched_switch' (id 12): malformed: ... (x3)".
  std::string to_string() const;
  void clear();

 private:
  std::size_t max_distinct_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
  std::uint64_t total_ = 0;
  std::uint64_t dropped_ = 0;
};

class Event {
 public:
  Event(std::uint64_t id, std::string name) : id_(id), name_(std::move(name)) {}

  std::uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }

  const EventFormat& format() const { return format_; }
  EventFormat& format() { return format_; }

  // The session drops callchain and user stack for this event, keeping the IP.
  void set_no_callstack() { no_callstack_ = true; }
  bool no_callstack() const { return no_callstack_; }

  // A proxy is not enabled in the OS session: other code forwards data to it
  // (one carrier event fanned out to many logical events).
  void set_proxy_id(std::uint64_t proxy_id) {
    proxy_ = true;
    proxy_id_ = proxy_id;
  }
  bool is_proxy() const { return proxy_; }
  std::uint64_t proxy_id() const { return proxy_id_; }

  void add_callback(EventCallback callback) { callbacks_.emplace_back(std::move(callback)); }
  // Any other callable taking `const EventData&` and returning Status: kept
  // as it is (inline when small), not wrapped in a std::function.
  template <typename F>
  requires(!std::is_same_v<std::decay_t<F>, EventCallback> &&
           std::is_copy_constructible_v<std::decay_t<F>> &&
           std::is_invocable_r_v<Status, std::decay_t<F>&,
                                 const EventData&>) void add_callback(F&& callback) {
    callbacks_.emplace_back(std::forward<F>(callback));
  }
  std::size_t callback_count() const { return callbacks_.size(); }

  // Runs every callback in order; failures go to `errors`.
  void process(ByteSpan full_data, ByteSpan event_data, EventErrors& errors) const {
    const EventData data{full_data, event_data, format_};
    for (const auto& callback : callbacks_) {
      // Exceptions are not how we report errors, but a user's callback may
      // still throw; it must not unwind into the pipeline. The try costs
      // nothing unless something is thrown.
      try {
        Status status = callback(data);
        if (!status.ok()) [[unlikely]]
          record_failure(errors, std::move(status));
      } catch (...) {
        record_exception(errors);
      }
    }
  }

 private:
  [[gnu::noinline]] void record_failure(EventErrors& errors, Status status) const;
  [[gnu::noinline]] void record_exception(EventErrors& errors) const;

  std::uint64_t id_;
  std::string name_;
  EventFormat format_;
  bool no_callstack_ = false;
  bool proxy_ = false;
  std::uint64_t proxy_id_ = 0;
  std::vector<detail::StoredCallback> callbacks_;
};

}  // namespace one_collect
