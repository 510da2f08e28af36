#ifndef AMLC_BASE_DIGEST_H_
#define AMLC_BASE_DIGEST_H_

#include <string>
#include <string_view>

namespace amlc {

/// Lower-case hex SHA-256 of `data` (OpenSSL).
std::string Sha256Hex(std::string_view data);

}  // namespace amlc

#endif  // AMLC_BASE_DIGEST_H_
