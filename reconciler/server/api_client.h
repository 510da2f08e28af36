#ifndef AMLC_RECONCILER_SERVER_API_CLIENT_H_
#define AMLC_RECONCILER_SERVER_API_CLIENT_H_

// A client of a running reconciler's API, for `amlc status`, `sync` and `syncs`: plain HTTP or
// HTTPS (the server's certificate checked against the system's CAs or a
// given one), with the API token as a bearer token when there is one.
// cpp-httplib stays in api_client.cc.

#include <string>

#include "base/status.h"

namespace amlc::reconciler {

struct ApiClientOptions {
  std::string token;    // sent as "Authorization: Bearer TOKEN" when not empty
  std::string ca_file;  // PEM CA bundle to check the server against; "": the system's
};

struct ApiReply {
  int status = 0;
  std::string body;
};

/// GETs `path` ("/api/status") from `base_url` ("http://127.0.0.1:8787",
/// "https://host:8787"). kInvalidArgument for a URL that is not http(s)://HOST:PORT,
/// kUnavailable naming the cause when no answer came (refused, TLS failed).
StatusOr<ApiReply> GetFromReconciler(const std::string& base_url, const std::string& path,
                                     const ApiClientOptions& options);
/// POSTs `json_body` to `path` ("/api/sync") as application/json; errors as GetFromReconciler's.
StatusOr<ApiReply> PostToReconciler(const std::string& base_url, const std::string& path,
                                    const std::string& json_body, const ApiClientOptions& options);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_SERVER_API_CLIENT_H_
