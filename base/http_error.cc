#include "base/http_error.h"

#include <httplib.h>
#include <openssl/x509.h>

namespace amlc {

Status HttpErrorStatus(httplib::Error error, const std::string& server, const std::string& what,
                       long verify_result, const HttpErrorHints& hints) {
  std::string where = server + " while " + what;
  switch (error) {
    case httplib::Error::SSLServerVerification: {
      // A verified chain that fails only the host name check leaves X509_V_OK.
      std::string reason = verify_result != X509_V_OK ? X509_verify_cert_error_string(verify_result)
                                                      : "the certificate does not name the host";
      return Status(StatusCode::kFailedPrecondition, "the TLS certificate of " + server +
                                                         " is not trusted (" + reason + ") while " +
                                                         what + hints.untrusted_certificate);
    }
    case httplib::Error::SSLConnection:
      return Status(StatusCode::kUnavailable, "TLS handshake with " + server + " failed while " +
                                                  what + hints.tls_handshake_failed);
    case httplib::Error::SSLLoadingCerts:
      return Status(StatusCode::kFailedPrecondition,
                    "cannot load the CA certificates to check " + where);
    case httplib::Error::Connection:
    case httplib::Error::BindIPAddress:
      return Status(StatusCode::kUnavailable, "cannot connect to " + where + hints.cannot_connect);
    case httplib::Error::ConnectionTimeout:
      return Status(StatusCode::kUnavailable, "connecting to " + where + " timed out");
    case httplib::Error::Read:
      return Status(StatusCode::kUnavailable,
                    "the connection to " + where + " broke or timed out reading the answer");
    case httplib::Error::Write:
      return Status(StatusCode::kUnavailable,
                    "the connection to " + where + " broke or timed out while sending");
    default:
      return Status(StatusCode::kUnavailable,
                    "HTTP request to " + where + " failed (" + httplib::to_string(error) + ")");
  }
}

}  // namespace amlc
