#include "base/url.h"

#include <algorithm>
#include <cctype>

namespace amlc {
namespace {

Status Invalid(const std::string& why) {
  return Status(StatusCode::kInvalidArgument, "malformed URL: " + why);
}

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

// "https" of "https://…"; the rest of `text` after "://" goes to `rest`.
StatusOr<std::string> ReadScheme(std::string_view text, std::string_view* rest) {
  size_t separator = text.find("://");
  if (separator == std::string_view::npos || separator == 0) {
    return Invalid("it does not start with scheme://");
  }
  std::string_view scheme = text.substr(0, separator);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0])) ||
      !std::all_of(scheme.begin(), scheme.end(), IsSchemeChar)) {
    return Invalid("the scheme '" + std::string(scheme) +
                   "' is not a letter followed by letters, digits, '+', '-' or '.'");
  }
  *rest = text.substr(separator + 3);
  return std::string(scheme);
}

// Fills url->host and url->port from "host[:port]" (userinfo removed).
Status ReadHostPort(std::string_view host_port, Url* url) {
  std::string_view after_host;
  if (!host_port.empty() && host_port[0] == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos) return Invalid("the IPv6 address has no closing ']'");
    std::string_view address = host_port.substr(1, close - 1);
    bool hex = !address.empty() && std::all_of(address.begin(), address.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    if (!hex) return Invalid("'[" + std::string(address) + "]' is not an IPv6 address");
    url->host = std::string(host_port.substr(0, close + 1));
    after_host = host_port.substr(close + 1);
    if (!after_host.empty() && after_host[0] != ':') {
      return Invalid("text follows the IPv6 address's ']'");
    }
  } else {
    size_t colon = host_port.find(':');
    url->host = std::string(host_port.substr(0, colon));
    if (url->host.find_first_of("[]") != std::string::npos) {
      return Invalid("the host '" + url->host + "' holds '[' or ']'");
    }
    if (colon != std::string_view::npos) after_host = host_port.substr(colon);
  }
  if (after_host.empty()) return Status::Ok();
  std::string_view port = after_host.substr(1);
  bool digits = !port.empty() && port.size() <= 5 &&
                std::all_of(port.begin(), port.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!digits || std::stoi(std::string(port)) > 65535) {
    return Invalid("the port '" + std::string(port) + "' is not a number from 0 to 65535");
  }
  url->port = std::string(port);
  return Status::Ok();
}

// Splits "/path?query#fragment" (each part optional) into `url`.
void ReadPathQueryFragment(std::string_view rest, Url* url) {
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    url->fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    url->query = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }
  url->path = std::string(rest);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Url::HostPort() const { return port.empty() ? host : host + ":" + port; }

std::string Url::ToString(bool with_userinfo) const {
  std::string text = scheme + "://";
  if (with_userinfo && userinfo) text += *userinfo + "@";
  text += HostPort() + path;
  if (query) text += "?" + *query;
  if (fragment) text += "#" + *fragment;
  return text;
}

std::string Url::Username() const {
  if (!userinfo) return "";
  return PercentDecode(std::string_view(*userinfo).substr(0, userinfo->find(':')));
}

std::optional<std::string> Url::Password() const {
  if (!userinfo) return std::nullopt;
  size_t colon = userinfo->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return PercentDecode(std::string_view(*userinfo).substr(colon + 1));
}

StatusOr<Url> ParseUrl(std::string_view text) {
  bool printable = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > ' ' && c != 0x7F;
  });
  if (!printable) return Invalid("it holds a space or a control character");
  Url url;
  std::string_view rest;
  StatusOr<std::string> scheme = ReadScheme(text, &rest);
  if (!scheme.ok()) return scheme.status();
  url.scheme = *scheme;
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  if (Status host = ReadHostPort(authority, &url); !host.ok()) return host;
  if (authority_end != std::string_view::npos) {
    ReadPathQueryFragment(rest.substr(authority_end), &url);
  }
  return url;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    int high = text[i] == '%' && i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
    int low = high >= 0 ? HexValue(text[i + 2]) : -1;
    if (low >= 0) {
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string FormDecode(std::string_view text) {
  std::string spaced(text);
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  return PercentDecode(spaced);
}

}  // namespace amlc
