// Exact-value tests of base/: the layer every other folder builds on.
#include <catch2/catch.hpp>

#include <cstdint>

#include "base/clock.h"
#include "base/time.h"
#include "base/utf8.h"

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

TEST_CASE("UTF-8 validation accepts well-formed text only", "[base][utf8]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("train.py"));
  CHECK(IsValidUtf8("caf\xC3\xA9"));              // é, two bytes
  CHECK(IsValidUtf8("\xE2\x82\xAC"));             // €, three bytes
  CHECK(IsValidUtf8("\xF0\x9F\x98\x80"));         // U+1F600, four bytes
  CHECK(IsValidUtf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF, the last code point
  CHECK(IsValidUtf8(std::string_view("a\0b", 3)));  // NUL is a character

  CHECK_FALSE(IsValidUtf8("\x80"));                // a continuation byte alone
  CHECK_FALSE(IsValidUtf8("\xC3"));                // truncated: two-byte lead at the end
  CHECK_FALSE(IsValidUtf8("\xE2\x82"));            // truncated three-byte sequence
  CHECK_FALSE(IsValidUtf8("\xF0\x9F\x98"));        // truncated four-byte sequence
  CHECK_FALSE(IsValidUtf8("\xC3(x"));              // lead not followed by a continuation
  CHECK_FALSE(IsValidUtf8("\xC0\x80"));            // overlong NUL
  CHECK_FALSE(IsValidUtf8("\xC1\xBF"));            // overlong U+007F
  CHECK_FALSE(IsValidUtf8("\xE0\x80\xAF"));        // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xF0\x82\x82\xAC"));    // overlong €
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));        // U+D800, a high surrogate
  CHECK_FALSE(IsValidUtf8("\xED\xBF\xBF"));        // U+DFFF, a low surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));    // U+110000, past the last code point
  CHECK_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));  // five-byte form
  CHECK_FALSE(IsValidUtf8("\xFF"));
}

TEST_CASE("UTF-8 cuts fall on character starts", "[base][utf8]") {
  std::string_view text = "a\xE2\x82\xAC" "b";  // a € b: bytes 0, 1-3, 4
  CHECK(Utf8CharStart(text, 0) == 0);
  CHECK(Utf8CharStart(text, 1) == 1);
  CHECK(Utf8CharStart(text, 2) == 1);
  CHECK(Utf8CharStart(text, 3) == 1);
  CHECK(Utf8CharStart(text, 4) == 4);
  CHECK(Utf8CharStart(text, 5) == 5);   // the end
  CHECK(Utf8CharStart(text, 99) == 99);  // past the end: unchanged
}

}  // namespace
}  // namespace amlc
