// Exact-value tests of base/: the layer every other folder builds on.
#include <catch2/catch.hpp>

#include <cstdint>

#include "base/clock.h"

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

}  // namespace
}  // namespace amlc
