#ifndef AMLC_BASE_URL_H_
#define AMLC_BASE_URL_H_

// URLs: one parser for the absolute URLs amlc is given (git remotes, registry
// Locations and token realms, forge API roots) and the percent-encoding of
// their parts (RFC 3986).

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace amlc {

/// An absolute URL, "scheme://[userinfo@]host[:port][/path][?query][#fragment]",
/// split into its parts as written: nothing decoded or lower-cased, so that
/// ToString() gives back the text it was parsed from.
struct Url {
  std::string scheme;                   // "https", without "://"
  std::optional<std::string> userinfo;  // "user:p%40ss", still encoded; nullopt without an '@'
  std::string host;                     // "example.com", "[::1]"; "" in "file:///srv/repo"
  std::string port;                     // "5000"; "" when none
  std::string path;                     // "/v2/x", or ""
  std::optional<std::string> query;     // after '?', without it
  std::optional<std::string> fragment;  // after '#', without it

  /// "host[:port]": where to connect, without the userinfo.
  std::string HostPort() const;
  /// The whole URL as parsed, or without "userinfo@" (so that a password
  /// stays out of configs and messages).
  std::string ToString(bool with_userinfo = true) const;
  /// The userinfo's user name (before the first ':'), percent-decoded; "" without a userinfo.
  std::string Username() const;
  /// The userinfo's password (after the first ':'), percent-decoded; nullopt without one.
  std::optional<std::string> Password() const;
};

/// Splits an absolute URL. kInvalidArgument when there is no "scheme://"
/// (a letter, then letters, digits, '+', '-' or '.'), when the text holds a
/// space or a control character, when an IPv6 host has no closing ']' or
/// holds other than hex digits, ':' and '.', when a reg-name host holds '['
/// or ']', or when a port is not 1 to 5 digits up to 65535. The message does
/// not repeat the text, which may carry a password: callers name the URL
/// they were given, without its userinfo. The last '@' before the path ends
/// the userinfo, as git and browsers read "user:p@ss@host".
StatusOr<Url> ParseUrl(std::string_view text);

/// `text` with every byte but RFC 3986's unreserved characters (letters,
/// digits, - . _ ~) written as %XX: safe as a URL path segment or a query
/// value, so a name cannot reach another endpoint.
std::string PercentEncode(std::string_view text);

/// `text` with each %XX (hex digits in either case) replaced by its byte. A
/// '%' not followed by two hex digits is kept as it is, as browsers do:
/// never fails.
std::string PercentDecode(std::string_view text);

/// An application/x-www-form-urlencoded value decoded: '+' is a space, then
/// as PercentDecode. Never fails.
std::string FormDecode(std::string_view text);

}  // namespace amlc

#endif  // AMLC_BASE_URL_H_
