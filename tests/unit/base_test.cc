// Exact-value tests of base/: the layer every other folder builds on.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <openssl/x509.h>

#include <cstdint>
#include <fstream>

#include "base/byte_progress.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/file_tail.h"
#include "base/http_error.h"
#include "base/time.h"
#include "base/url.h"
#include "base/utf8.h"
#include "tests/test_support.h"

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

TEST_CASE("URLs split into their parts as written", "[base][url]") {
  StatusOr<Url> url = ParseUrl("https://Example.COM:8443/v2/team/iris?n=1&last=a#top");
  REQUIRE(url.ok());
  CHECK(url->scheme == "https");
  CHECK_FALSE(url->userinfo.has_value());
  CHECK(url->host == "Example.COM");
  CHECK(url->port == "8443");
  CHECK(url->HostPort() == "Example.COM:8443");
  CHECK(url->path == "/v2/team/iris");
  CHECK(url->query == "n=1&last=a");
  CHECK(url->fragment == "top");
  CHECK(url->ToString() == "https://Example.COM:8443/v2/team/iris?n=1&last=a#top");

  StatusOr<Url> bare = ParseUrl("http://registry.local");
  REQUIRE(bare.ok());
  CHECK(bare->host == "registry.local");
  CHECK(bare->port.empty());
  CHECK(bare->path.empty());
  CHECK_FALSE(bare->query.has_value());
  CHECK_FALSE(bare->fragment.has_value());

  StatusOr<Url> query_only = ParseUrl("https://auth.example?service=x");
  REQUIRE(query_only.ok());
  CHECK(query_only->path.empty());
  CHECK(query_only->query == "service=x");

  StatusOr<Url> file = ParseUrl("file:///srv/git/specs.git");
  REQUIRE(file.ok());
  CHECK(file->scheme == "file");
  CHECK(file->host.empty());
  CHECK(file->path == "/srv/git/specs.git");

  StatusOr<Url> git = ParseUrl("git+ssh://git@forge.example:2222/team/specs.git");
  REQUIRE(git.ok());
  CHECK(git->scheme == "git+ssh");
  CHECK(git->userinfo == "git");
  CHECK(git->Username() == "git");
  CHECK_FALSE(git->Password().has_value());
}

TEST_CASE("a URL's userinfo is decoded and can be left out", "[base][url]") {
  StatusOr<Url> url = ParseUrl("https://ci%2Dbot:p%40ss%3Aw0rd%25@git.example/team/specs.git");
  REQUIRE(url.ok());
  CHECK(url->userinfo == "ci%2Dbot:p%40ss%3Aw0rd%25");
  CHECK(url->Username() == "ci-bot");
  CHECK(url->Password() == "p@ss:w0rd%");
  CHECK(url->host == "git.example");
  CHECK(url->ToString(/*with_userinfo=*/false) == "https://git.example/team/specs.git");
  CHECK(url->ToString() == "https://ci%2Dbot:p%40ss%3Aw0rd%25@git.example/team/specs.git");

  // The last '@' before the path ends the userinfo, as git reads it.
  StatusOr<Url> raw_at = ParseUrl("https://user:p@ss@git.example/r");
  REQUIRE(raw_at.ok());
  CHECK(raw_at->Username() == "user");
  CHECK(raw_at->Password() == "p@ss");
  CHECK(raw_at->host == "git.example");

  StatusOr<Url> empty_password = ParseUrl("https://token:@git.example/r");
  REQUIRE(empty_password.ok());
  CHECK(empty_password->Username() == "token");
  CHECK(empty_password->Password() == "");
}

TEST_CASE("IPv6 hosts keep their brackets, before an optional port", "[base][url]") {
  StatusOr<Url> url = ParseUrl("http://[::1]:5000/v2/");
  REQUIRE(url.ok());
  CHECK(url->host == "[::1]");
  CHECK(url->port == "5000");
  CHECK(url->HostPort() == "[::1]:5000");
  CHECK(url->path == "/v2/");

  StatusOr<Url> no_port = ParseUrl("https://[2001:db8::a:1]/x");
  REQUIRE(no_port.ok());
  CHECK(no_port->host == "[2001:db8::a:1]");
  CHECK(no_port->port.empty());

  StatusOr<Url> mapped = ParseUrl("https://u@[::ffff:192.0.2.1]:65535");
  REQUIRE(mapped.ok());
  CHECK(mapped->userinfo == "u");
  CHECK(mapped->host == "[::ffff:192.0.2.1]");
  CHECK(mapped->port == "65535");
}

TEST_CASE("malformed URLs are refused with a reason and without the text", "[base][url]") {
  auto reason = [](std::string_view text) {
    StatusOr<Url> url = ParseUrl(text);
    CHECK(!url.ok());
    CHECK(url.status().code() == StatusCode::kInvalidArgument);
    return url.ok() ? std::string() : url.status().message();
  };
  CHECK(reason("example.com/x") == "malformed URL: it does not start with scheme://");
  CHECK(reason("://example.com") == "malformed URL: it does not start with scheme://");
  CHECK(reason("") == "malformed URL: it does not start with scheme://");
  CHECK(reason("1http://example.com") ==
        "malformed URL: the scheme '1http' is not a letter followed by letters, digits, '+', '-' or '.'");
  CHECK(reason("ht_tp://example.com") ==
        "malformed URL: the scheme 'ht_tp' is not a letter followed by letters, digits, '+', '-' or '.'");
  CHECK(reason("https://exa mple.com") == "malformed URL: it holds a space or a control character");
  CHECK(reason("https://example.com/\n") == "malformed URL: it holds a space or a control character");
  CHECK(reason("https://example.com:http/") ==
        "malformed URL: the port 'http' is not a number from 0 to 65535");
  CHECK(reason("https://example.com:65536/") ==
        "malformed URL: the port '65536' is not a number from 0 to 65535");
  CHECK(reason("https://example.com:/") == "malformed URL: the port '' is not a number from 0 to 65535");
  CHECK(reason("https://u:secret@example.com:123456/") ==
        "malformed URL: the port '123456' is not a number from 0 to 65535");
  CHECK(reason("http://[::1/x") == "malformed URL: the IPv6 address has no closing ']'");
  CHECK(reason("http://[]/x") == "malformed URL: '[]' is not an IPv6 address");
  CHECK(reason("http://[fe80::1%25eth0]/") == "malformed URL: '[fe80::1%25eth0]' is not an IPv6 address");
  CHECK(reason("http://[::1]x/") == "malformed URL: text follows the IPv6 address's ']'");
  CHECK(reason("http://ex[am]ple/") == "malformed URL: the host 'ex[am]ple' holds '[' or ']'");
}

TEST_CASE("percent-decoding reads %XX and keeps what is not an escape", "[base][url]") {
  CHECK(PercentDecode("") == "");
  CHECK(PercentDecode("plain") == "plain");
  CHECK(PercentDecode("p%40ss%3aw0rd") == "p@ss:w0rd");
  CHECK(PercentDecode("%41%42") == "AB");  // an escape at the very end counts
  CHECK(PercentDecode("%e2%82%AC") == "\xE2\x82\xAC");
  CHECK(PercentDecode("%00") == std::string(1, '\0'));
  CHECK(PercentDecode("100%") == "100%");
  CHECK(PercentDecode("%4") == "%4");
  CHECK(PercentDecode("%zz%4g") == "%zz%4g");
  CHECK(PercentDecode("%%41") == "%A");
  CHECK(PercentDecode("a+b") == "a+b");  // '+' is a space only in forms
  CHECK(FormDecode("a+b%2Bc%20d") == "a b+c d");
  CHECK(FormDecode("%7B%22ref%22%3A1%7D") == "{\"ref\":1}");
}

TEST_CASE("percent-encoding keeps only unreserved characters", "[base][url]") {
  CHECK(PercentEncode("team-A_1.v~2") == "team-A_1.v~2");
  CHECK(PercentEncode("a b/c?d") == "a%20b%2Fc%3Fd");
  CHECK(PercentEncode("repository:team/iris:pull,push") ==
        "repository%3Ateam%2Firis%3Apull%2Cpush");
  CHECK(PercentEncode("\xC3\xA9") == "%C3%A9");
  CHECK(PercentDecode(PercentEncode("p@ss w0rd/%")) == "p@ss w0rd/%");
}

TEST_CASE("durations read seconds and Go-style and ISO 8601 spellings", "[base][duration]") {
  CHECK(ParseDurationSeconds("300") == 300);
  CHECK(ParseDurationSeconds("+300") == 300);
  CHECK(ParseDurationSeconds("0") == 0);
  CHECK(ParseDurationSeconds("90s") == 90);
  CHECK(ParseDurationSeconds("5m") == 300);
  CHECK(ParseDurationSeconds("5M") == 300);
  CHECK(ParseDurationSeconds("1h30m") == 5400);
  CHECK(ParseDurationSeconds("2d") == 172800);
  CHECK(ParseDurationSeconds("1w") == 604800);
  CHECK(ParseDurationSeconds("PT1H30M") == 5400);
  CHECK(ParseDurationSeconds("P1DT2H") == 93600);
  CHECK(ParseDurationSeconds("P1W") == 604800);
  CHECK(ParseDurationSeconds("PT90S") == 90);
  CHECK(ParseDurationSeconds("999999999s") == 999999999);

  CHECK(ParseDurationSeconds("") == -1);
  CHECK(ParseDurationSeconds("5 minutes") == -1);
  CHECK(ParseDurationSeconds("-5") == -1);
  CHECK(ParseDurationSeconds("PT") == -1);
  CHECK(ParseDurationSeconds("P") == -1);
  CHECK(ParseDurationSeconds("m") == -1);
  CHECK(ParseDurationSeconds("5") == 5);
  CHECK(ParseDurationSeconds("5x") == -1);
  CHECK(ParseDurationSeconds("1h30") == -1);         // a number without its unit
  CHECK(ParseDurationSeconds("1000000000s") == -1);  // ten digits
  CHECK(ParseDurationSeconds("P1M") == -1);          // months vary in length
  CHECK(ParseDurationSeconds("P1Y") == -1);
  CHECK(ParseDurationSeconds("PT1HT2M") == -1);      // a second 'T'
  CHECK(ParseDurationSeconds("P5S") == -1);          // seconds before the 'T'
}

TEST_CASE("cpp-httplib errors read as Statuses that name the server and the step", "[base][http]") {
  HttpErrorHints hints{": give its CA certificate", " (plain http?)", " (is it running?)"};
  Status refused = HttpErrorStatus(httplib::Error::Connection, "127.0.0.1:1", "pushing blob a", 0, hints);
  CHECK(refused.code() == StatusCode::kUnavailable);
  CHECK(refused.message() == "cannot connect to 127.0.0.1:1 while pushing blob a (is it running?)");

  Status untrusted = HttpErrorStatus(httplib::Error::SSLServerVerification, "forge f.example",
                                     "posting", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, hints);
  CHECK(untrusted.code() == StatusCode::kFailedPrecondition);
  CHECK(untrusted.message() ==
        "the TLS certificate of forge f.example is not trusted (self-signed certificate) while "
        "posting: give its CA certificate");
  Status wrong_name = HttpErrorStatus(httplib::Error::SSLServerVerification, "h", "x", X509_V_OK);
  CHECK(wrong_name.message() ==
        "the TLS certificate of h is not trusted (the certificate does not name the host) while x");

  CHECK(HttpErrorStatus(httplib::Error::SSLConnection, "h", "x", 0, hints).message() ==
        "TLS handshake with h failed while x (plain http?)");
  CHECK(HttpErrorStatus(httplib::Error::SSLLoadingCerts, "h", "x", 0).code() ==
        StatusCode::kFailedPrecondition);
  CHECK(HttpErrorStatus(httplib::Error::ConnectionTimeout, "h", "x", 0).message() ==
        "connecting to h while x timed out");
  CHECK(HttpErrorStatus(httplib::Error::Read, "h", "x", 0).message() ==
        "the connection to h while x broke or timed out reading the answer");
  CHECK(HttpErrorStatus(httplib::Error::Write, "h", "x", 0).message() ==
        "the connection to h while x broke or timed out while sending");
  Status other = HttpErrorStatus(httplib::Error::Canceled, "h", "x", 0);
  CHECK(other.code() == StatusCode::kUnavailable);
  CHECK(other.message() == "HTTP request to h while x failed (" +
                               httplib::to_string(httplib::Error::Canceled) + ")");
}

TEST_CASE("LastLines gives a log's last lines from its end, however large the log", "[base][file_tail]") {
  testing::SpecDir dir;
  std::string log = dir.str() + "/run.log";
  {
    std::ofstream out(log, std::ios::binary);
    std::string filler(1 << 20, 'x');
    for (int i = 0; i < 64; ++i) out << filler << '\n';  // 64 MiB that must not be read
    out << "first\nsecond\r\nthird\n\n";
  }
  CHECK(LastLines(log, 2) == "second\r\nthird");
  CHECK(LastLines(log, 1) == "third");
  // More lines than the 4 KiB window holds: what the window holds.
  CHECK(LastLines(log, 10).size() <= 4096);
  CHECK(LastLines(log, 10).find("first\nsecond") != std::string::npos);
  CHECK(LastLines(dir.str() + "/missing.log", 5).empty());
}

TEST_CASE("Byte progress: binary units, sliding-window rate, ETA and throttle", "[base][byte_progress]") {
  CHECK(BinaryBytes(0) == "0 B");
  CHECK(BinaryBytes(1023) == "1023 B");
  CHECK(BinaryBytes(1024) == "1.0 KiB");
  CHECK(BinaryBytes(39006617) == "37.2 MiB");
  CHECK(BinaryBytes(uint64_t{3} << 29) == "1.5 GiB");
  amlc::ByteUnits decimal{1000, {"kB", "MB", "GB", "TB"}, 10};  // as the registry client's lines
  CHECK(amlc::ScaledBytes(999, decimal) == "999 B");
  CHECK(amlc::ScaledBytes(1500, decimal) == "1.5 kB");
  CHECK(amlc::ScaledBytes(37200000, decimal) == "37 MB");
  CHECK(FormatEta(6.2) == "7s");
  CHECK(FormatEta(125) == "2m05s");
  CHECK(FormatEta(3720) == "1h02m");
  CHECK(FormatEta(-1) == "--");

  auto t0 = ProgressClock::time_point{};
  using std::chrono::seconds;
  RateWindow window(seconds(5));
  CHECK(window.BytesPerSecond() == 0);
  window.Add(t0, 0);
  window.Add(t0 + seconds(1), 1000);
  CHECK(window.BytesPerSecond() == 1000);
  // A stall: the fast first second leaves the window; the rate spans from
  // the last sample before the window (1s, 1000) to now (11s, 1100).
  window.Add(t0 + seconds(10), 1000);
  window.Add(t0 + seconds(11), 1100);
  CHECK(window.BytesPerSecond() == 10);

  uint64_t mib = 1024 * 1024;
  ByteProgress line{"push model-image:3 layer 2/4", 39006617, 120 * mib, 13002342, false};
  CHECK(FormatByteProgress(line) == "push model-image:3 layer 2/4  37.2 MiB / 120.0 MiB  30%  12.4 MiB/s  ETA 7s");
  line.bytes_per_second = 0;
  CHECK(FormatByteProgress(line) == "push model-image:3 layer 2/4  37.2 MiB / 120.0 MiB  30%  0 B/s  ETA --");
  line.total.reset();
  CHECK(FormatByteProgress(line) == "push model-image:3 layer 2/4  37.2 MiB  0 B/s");
  ByteProgress done{"layer", 120 * mib, 120 * mib, 2.0 * mib, true};
  CHECK(FormatByteProgress(done) == "layer  120.0 MiB / 120.0 MiB  100%  2.0 MiB/s");

  ByteMeter meter("blob", 300, t0, std::chrono::milliseconds(100));
  REQUIRE(meter.Update(t0 + std::chrono::milliseconds(10), 10));        // the first
  CHECK_FALSE(meter.Update(t0 + std::chrono::milliseconds(50), 20));     // too soon
  auto later = meter.Update(t0 + std::chrono::milliseconds(150), 100);  // an interval on
  REQUIRE(later);
  CHECK(later->done == 100);
  CHECK(later->bytes_per_second == Approx(100 / 0.15));  // since the start, at t0
  auto last = meter.Update(t0 + std::chrono::milliseconds(160), 300);   // done == total: always
  REQUIRE(last);
  CHECK(last->finished);
  CHECK_FALSE(meter.Finish(t0 + seconds(1)));  // only once

  ByteMeter stream("download", std::nullopt, t0);
  REQUIRE(stream.Update(t0, 5));
  auto end = stream.Finish(t0 + seconds(1));
  REQUIRE(end);
  CHECK(end->finished);
  CHECK(end->done == 5);
  CHECK(end->bytes_per_second == 5);  // one read, yet a rate: from the start
  CHECK_FALSE(end->total);
}

}  // namespace
}  // namespace amlc
