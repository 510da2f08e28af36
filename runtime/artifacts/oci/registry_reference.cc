// Image references ("HOST[:PORT]/REPO[/...]:TAG") and the small string helpers
// the registry client shares.

#include <arpa/inet.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "base/byte_progress.h"
#include "runtime/artifacts/oci/oci_layout.h"
#include "runtime/artifacts/oci/registry_client.h"
#include "runtime/artifacts/oci/registry_http.h"

namespace amlc::runtime::image {
namespace {

constexpr char kExpected[] =
    "expected [http(s)://]HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST], "
    "e.g. 127.0.0.1:5000/team/iris:1";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One repository path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* (OCI distribution spec).
bool IsValidComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c[0])) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (i >= c.size() || !IsLowerAlnum(c[i])) return false;
  }
  return true;
}

// Tags: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  for (size_t i = 0; i < tag.size(); ++i) {
    char c = tag[i];
    bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

bool IsValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

// "" when `host` (with its optional port) is well formed, else why not.
std::string CheckHost(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  bool has_port = false;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return "the IPv6 address lacks its closing ']'";
    std::string address(host.substr(1, close - 1));
    in6_addr parsed;
    if (inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
      return "'" + address + "' is not an IPv6 address";
    }
    std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return "unexpected text after the IPv6 address";
      has_port = true;
      port = after.substr(1);
    }
    if (has_port && !IsValidPort(port))
      return "the port '" + std::string(port) + "' is not 1-65535";
    return "";
  }
  size_t colon = host.find(':');
  if (colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    has_port = true;
    if (!IsValidPort(port)) return "the port '" + std::string(port) + "' is not 1-65535";
  }
  if (name.empty()) return "the host name is empty";
  size_t label_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      std::string_view label = name.substr(label_start, i - label_start);
      if (label.empty()) return "the host '" + std::string(name) + "' has an empty label";
      if (label.front() == '-' || label.back() == '-') {
        return "the host '" + std::string(name) + "' has a label starting or ending with '-'";
      }
      label_start = i + 1;
      continue;
    }
    char c = name[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok)
      return "the host '" + std::string(name) + "' has the character '" + std::string(1, c) + "'";
  }
  // Like docker: without a '.', a port or the name localhost the first part
  // is a repository component ("team/iris"), not a host.
  if (!has_port && name.find('.') == std::string_view::npos && name != "localhost") {
    return "'" + std::string(name) +
           "' is not a registry host (a host has a '.' or a port, or is localhost)";
  }
  return "";
}

}  // namespace

std::string RegistryReference::ToString() const {
  std::string out = scheme.empty() ? "" : scheme + "://";
  out += host + "/" + repository;
  if (!tag.empty()) out += (IsSha256Digest(tag) ? "@" : ":") + tag;
  return out;
}

namespace {

// Removes an http:// or https:// prefix into ref.scheme; "" or why the text is not valid.
std::string TakeScheme(std::string_view& rest, RegistryReference& ref) {
  if (rest.rfind("http://", 0) == 0) {
    ref.scheme = "http";
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    ref.scheme = "https";
    rest.remove_prefix(8);
  } else if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    return "unsupported scheme '" + std::string(rest.substr(0, sep)) + "' (use http:// or https://, or none)";
  }
  return "";
}

// Splits "NAME[:TAG|@DIGEST]" into ref.tag ("latest" when neither is given)
// and `name`; "" or why the tag or digest is not valid.
std::string TakeTag(std::string_view path, std::string_view& name, RegistryReference& ref) {
  name = path;
  if (size_t at = path.find('@'); at != std::string_view::npos) {
    name = path.substr(0, at);
    std::string_view digest = path.substr(at + 1);
    if (!IsSha256Digest(digest)) return "the digest after '@' must be 'sha256:' and 64 lower-case hex digits";
    size_t last_slash = name.rfind('/');
    if (name.find(':', last_slash == std::string_view::npos ? 0 : last_slash) != std::string_view::npos) {
      return "give a tag or a digest, not both";
    }
    ref.tag = std::string(digest);
    return "";
  }
  size_t last_slash = path.rfind('/');
  size_t colon = path.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
  if (colon == std::string_view::npos) {
    ref.tag = "latest";
    return "";
  }
  name = path.substr(0, colon);
  std::string_view tag = path.substr(colon + 1);
  if (tag.empty()) return "the tag after ':' is empty";
  if (!IsValidTag(tag)) {
    return "the tag '" + std::string(tag) +
           "' is not valid (up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -)";
  }
  ref.tag = std::string(tag);
  return "";
}

// "" when every '/'-separated component of a repository name is valid, else why not.
std::string CheckRepository(std::string_view name) {
  if (name.empty()) return std::string("no repository after the host; ") + kExpected;
  if (name.size() > 255) return "the repository name is longer than 255 characters";
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view component = name.substr(start, end - start);
    if (component.empty()) {
      return "the repository '" + std::string(name) + "' has an empty path component (a '//' or a trailing '/')";
    }
    if (!IsValidComponent(component)) {
      for (char c : component) {
        if (c >= 'A' && c <= 'Z') return "the repository '" + std::string(name) + "' must be lower case";
      }
      return "the repository component '" + std::string(component) +
             "' is not valid: use a-z and 0-9, separated by single '.', '_' or '__', or '-'s";
    }
    start = end + 1;
  }
  return "";
}

}  // namespace

StatusOr<RegistryReference> ParseRegistryReference(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return Status(StatusCode::kInvalidArgument, "invalid image reference '" + std::string(text) + "': " + why);
  };
  if (text.empty()) return invalid(std::string("it is empty; ") + kExpected);
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return invalid("it contains whitespace or a control character");
    }
  }
  RegistryReference ref;
  std::string_view rest = text;
  if (std::string why = TakeScheme(rest, ref); !why.empty()) return invalid(why);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid(std::string("no repository after the host; ") + kExpected);
  if (slash == 0) return invalid(std::string("no registry host before the first '/'; ") + kExpected);
  std::string_view host = rest.substr(0, slash);
  if (std::string why = CheckHost(host); !why.empty()) return invalid(why + "; " + kExpected);
  ref.host = std::string(host);
  std::string_view name;
  if (std::string why = TakeTag(rest.substr(slash + 1), name, ref); !why.empty()) return invalid(why);
  if (std::string why = CheckRepository(name); !why.empty()) return invalid(why);
  ref.repository = std::string(name);
  return ref;
}

namespace registry {

bool IsLoopbackHost(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string address(host.substr(1, close - 1));
    in6_addr parsed;
    return inet_pton(AF_INET6, address.c_str(), &parsed) == 1 && IN6_IS_ADDR_LOOPBACK(&parsed);
  }
  std::string name(host.substr(0, host.find(':')));
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (name == "localhost") return true;
  in_addr parsed;
  return inet_pton(AF_INET, name.c_str(), &parsed) == 1 && (ntohl(parsed.s_addr) >> 24) == 127;
}

std::string EffectiveScheme(const RegistryReference& ref) {
  if (!ref.scheme.empty()) return ref.scheme;
  return IsLoopbackHost(ref.host) ? "http" : "https";
}

std::string ShortDigest(std::string_view digest) {
  size_t colon = digest.find(':');
  size_t keep = (colon == std::string_view::npos ? 0 : colon + 1) + 12;
  if (digest.size() <= keep) return std::string(digest);
  return std::string(digest.substr(0, keep)) + "\u2026";
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr ByteUnits kDecimal{1000, {"kB", "MB", "GB", "TB"}, 10};
  return ScaledBytes(bytes, kDecimal);
}

}  // namespace registry
}  // namespace amlc::runtime::image
