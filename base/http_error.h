#ifndef AMLC_BASE_HTTP_ERROR_H_
#define AMLC_BASE_HTTP_ERROR_H_

// One reading of cpp-httplib's transport errors (a request that got no HTTP
// answer at all) as a Status, for every client amlc has. httplib.h stays out
// of this header: callers include it anyway to make the request.

#include <string>

#include "base/status.h"

namespace httplib {
enum class Error;
}

namespace amlc {

/// What a caller adds, in its own terms, to the messages of the failures a
/// user can fix, so that the message says how. Each is appended as it is.
struct HttpErrorHints {
  std::string untrusted_certificate;  // ": give the registry's CA certificate (--ca-file)"
  std::string tls_handshake_failed;   // " (if the registry serves plain http, …)"
  std::string cannot_connect;         // " (is the registry running and the address right?)"
};

/// The Status for a request cpp-httplib could not carry out (`error` is its
/// Result's error(), not Error::Success). kFailedPrecondition when trying
/// again cannot help: the server's TLS certificate is not trusted
/// (`verify_result`, the client's get_openssl_verify_result(), says why) or
/// the CA certificates do not load. kUnavailable for the rest: no connection,
/// a timeout, a connection broken while sending or reading, a failed TLS
/// handshake. The message names `server` ("127.0.0.1:5000", "forge
/// api.github.com") and the step `what` ("pushing blob sha256:…").
Status HttpErrorStatus(httplib::Error error, const std::string& server, const std::string& what,
                       long verify_result, const HttpErrorHints& hints = {});

}  // namespace amlc

#endif  // AMLC_BASE_HTTP_ERROR_H_
