#ifndef AMLC_BASE_OPENSSL_ERROR_H_
#define AMLC_BASE_OPENSSL_ERROR_H_

#include <string>

namespace amlc {

/// The oldest error OpenSSL queued on this thread, as text (the queue is
/// cleared); "unknown OpenSSL error" when there is none.
std::string OpensslErrorText();

}  // namespace amlc

#endif  // AMLC_BASE_OPENSSL_ERROR_H_
