#ifndef AMLC_BASE_PERCENT_ENCODING_H_
#define AMLC_BASE_PERCENT_ENCODING_H_

#include <string>
#include <string_view>

namespace amlc {

/// `text` with every byte but RFC 3986's unreserved characters (letters,
/// digits, - . _ ~) written as %XX: safe as a URL path segment or a query
/// value, so a name cannot reach another endpoint.
std::string PercentEncode(std::string_view text);

}  // namespace amlc

#endif  // AMLC_BASE_PERCENT_ENCODING_H_
