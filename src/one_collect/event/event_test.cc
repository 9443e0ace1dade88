#include "one_collect/event/event.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include "one_collect/testing/payload_builder.h"

namespace one_collect {
namespace {

using testing::PayloadBuilder;

TEST(EventTest, CallbacksRunInRegistrationOrder) {
  Event event(7, "test");
  std::string order;
  event.add_callback([&](const EventData&) {
    order += 'a';
    return ok_status();
  });
  event.add_callback([&](const EventData&) {
    order += 'b';
    return ok_status();
  });
  event.add_callback([&](const EventData&) {
    order += 'c';
    return ok_status();
  });
  EventErrors errors;
  event.process({}, {}, errors);
  EXPECT_EQ(order, "abc");
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(event.callback_count(), 3u);
}

TEST(EventTest, CallbacksSeeDataAndFormat) {
  Event event(1, "sample");
  auto field = EventField::create("value", "u32", 0, 4);
  ASSERT_TRUE(event.format().add_field(*field).ok());
  auto ref = *event.format().get_field_ref("value");
  std::uint32_t seen = 0;
  event.add_callback([&seen, ref](const EventData& data) {
    OC_ASSIGN_OR_RETURN(seen, data.format.get_u32(ref, data.event_data));
    return ok_status();
  });
  PayloadBuilder header;
  header.put<std::uint64_t>(0xFFFF).put<std::uint32_t>(99);
  EventErrors errors;
  event.process(header.span(), header.span().subspan(8), errors);
  EXPECT_EQ(seen, 99u);
  EXPECT_TRUE(errors.empty());
}

TEST(EventTest, ErrorsAccumulateAndProcessingContinues) {
  Event event(3, "failing");
  int after = 0;
  event.add_callback([](const EventData&) { return error(ErrorCode::kMalformed, "first"); });
  event.add_callback([](const EventData&) -> Status { throw std::runtime_error("boom"); });
  event.add_callback([&](const EventData&) {
    ++after;
    return ok_status();
  });
  EventErrors errors;
  event.process({}, {}, errors);
  event.process({}, {}, errors);
  EXPECT_EQ(after, 2);  // the third callback ran both times
  EXPECT_EQ(errors.total(), 4u);
  ASSERT_EQ(errors.entries().size(), 2u);
  EXPECT_EQ(errors.entries()[0].status.message(), "first");
  EXPECT_EQ(errors.entries()[0].count, 2u);
  EXPECT_EQ(errors.entries()[0].event_name, "failing");
  EXPECT_EQ(errors.entries()[1].status.code(), ErrorCode::kCallbackFailed);
  std::string report = errors.to_string();
  EXPECT_NE(report.find("event 'failing' (id 3): malformed: first (x2)"), std::string::npos);
  EXPECT_NE(report.find("boom"), std::string::npos);
}

TEST(EventTest, DistinctErrorsAreBounded) {
  EventErrors errors(2);
  Event event(1, "e");
  for (int i = 0; i < 5; ++i) errors.add(event, error(ErrorCode::kIo, std::to_string(i)));
  EXPECT_EQ(errors.entries().size(), 2u);
  EXPECT_EQ(errors.dropped(), 3u);
  EXPECT_EQ(errors.total(), 5u);
  errors.clear();
  EXPECT_TRUE(errors.empty());
}

// Callbacks are stored inline when small and on the heap when large; both
// keep their state, survive copies and moves of the event, and an empty
// std::function fails like a throwing callback.
TEST(EventTest, StoredCallbacksKeepStateAcrossCopies) {
  std::vector<std::uint8_t> payload(8, 0);
  EventErrors errors;
  int small_calls = 0;
  std::array<std::uint64_t, 16> big{};  // 128 bytes of captures: held on the heap
  big[15] = 7;
  std::uint64_t big_seen = 0;
  auto counter = std::make_shared<int>(0);
  Event event(3, "stored");
  event.add_callback([&small_calls](const EventData&) {
    ++small_calls;
    return ok_status();
  });
  event.add_callback([big, &big_seen](const EventData&) {
    big_seen += big[15];
    return ok_status();
  });
  event.add_callback([counter, n = 0](const EventData&) mutable {  // state of its own
    *counter = ++n;
    return ok_status();
  });
  event.add_callback(EventCallback());  // empty: throws std::bad_function_call when called
  ASSERT_EQ(event.callback_count(), 4u);

  event.process(payload, payload, errors);
  Event copy = event;  // copies each callback, its own state included
  copy.process(payload, payload, errors);
  Event moved = std::move(copy);
  moved.process(payload, payload, errors);
  EXPECT_EQ(small_calls, 3);
  EXPECT_EQ(big_seen, 21u);
  EXPECT_EQ(*counter, 3);  // the copy continued from the original's count
  ASSERT_EQ(errors.entries().size(), 1u);
  EXPECT_EQ(errors.entries()[0].count, 3u);
  EXPECT_EQ(errors.entries()[0].status.code(), ErrorCode::kCallbackFailed);
}

TEST(EventTest, Flags) {
  Event event(1, "e");
  EXPECT_FALSE(event.no_callstack());
  EXPECT_FALSE(event.is_proxy());
  event.set_no_callstack();
  event.set_proxy_id(42);
  EXPECT_TRUE(event.no_callstack());
  EXPECT_TRUE(event.is_proxy());
  EXPECT_EQ(event.proxy_id(), 42u);
}

}  // namespace
}  // namespace one_collect
