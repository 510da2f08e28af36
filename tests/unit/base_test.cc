// Exact-value tests of base/: the layer every other folder builds on.
#include <catch2/catch.hpp>

#include <cstdint>

#include "base/clock.h"
#include "base/time.h"

namespace amlc {
namespace {

TEST_CASE("NowMillis reads the system clock unless a test sets one", "[base][clock]") {
  int64_t before = NowMillis();
  CHECK(before > int64_t{1'600'000'000'000});  // after 2020: milliseconds, not seconds

  int64_t fake = 1'700'000'000'123;
  SetClockForTesting([&fake] { return fake; });
  CHECK(NowMillis() == 1'700'000'000'123);
  fake += 60'000;
  CHECK(NowMillis() == 1'700'000'060'123);

  SetClockForTesting(nullptr);
  CHECK(NowMillis() >= before);
  CHECK(NowMillis() != 1'700'000'060'123);
}

TEST_CASE("UTC times are formatted the same whatever the time zone", "[base][time]") {
  // 2024-05-01T12:00:00.123Z
  CHECK(FormatUtcTime(1'714'564'800'123, "%Y-%m-%dT%H:%M:%SZ") == "2024-05-01T12:00:00Z");
  CHECK(FormatUtcTime(1'714'564'800'123, "%Y-%m-%d %H:%M:%S") == "2024-05-01 12:00:00");
  CHECK(FormatUtcTime(0, "%Y%m%d-%H%M%S") == "19700101-000000");
  CHECK(IsoUtcMillis(1'714'564'800'123) == "2024-05-01T12:00:00.123Z");
  CHECK(IsoUtcMillis(1'714'564'800'005) == "2024-05-01T12:00:00.005Z");
  // Before 1970 the milliseconds still count forwards from the second before.
  CHECK(IsoUtcMillis(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(FormatUtcTime(-1, "%H:%M:%S") == "23:59:59");
}

}  // namespace
}  // namespace amlc
