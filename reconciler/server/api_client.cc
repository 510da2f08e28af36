#include "reconciler/server/api_client.h"

#include <httplib.h>

#include "base/url.h"

namespace amlc::reconciler {

namespace {

constexpr time_t kConnectTimeoutSeconds = 2;
constexpr time_t kReadTimeoutSeconds = 10;

}  // namespace

namespace {

// One request: GET when `json_body` is null, else a POST of it.
StatusOr<ApiReply> Request(const std::string& base_url, const std::string& path, const std::string* json_body,
                           const ApiClientOptions& options) {
  StatusOr<Url> url = ParseUrl(base_url);
  if (!url.ok() || (url->scheme != "http" && url->scheme != "https") || url->host.empty() ||
      url->userinfo) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + base_url + "' is not http://HOST:PORT or https://HOST:PORT");
  }
  httplib::Client client(url->scheme + "://" + url->HostPort());
  client.set_connection_timeout(kConnectTimeoutSeconds);
  client.set_read_timeout(kReadTimeoutSeconds);
  if (url->scheme == "https") {
    client.enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) client.set_ca_cert_path(options.ca_file.c_str());
  }
  httplib::Headers headers;
  if (!options.token.empty()) headers.emplace("Authorization", "Bearer " + options.token);
  httplib::Result result = json_body ? client.Post(path.c_str(), headers, *json_body, "application/json")
                                     : client.Get(path.c_str(), headers);
  if (!result) {
    std::string why = httplib::to_string(result.error());
    if (result.error() == httplib::Error::SSLServerVerification) {
      why += ": the certificate is not signed by a CA this machine trusts (give --ca-cert FILE)";
    }
    return Status(StatusCode::kUnavailable, why);
  }
  return ApiReply{result->status, result->body};
}

}  // namespace

StatusOr<ApiReply> GetFromReconciler(const std::string& base_url, const std::string& path,
                                     const ApiClientOptions& options) {
  return Request(base_url, path, nullptr, options);
}

StatusOr<ApiReply> PostToReconciler(const std::string& base_url, const std::string& path,
                                    const std::string& json_body, const ApiClientOptions& options) {
  return Request(base_url, path, &json_body, options);
}

}  // namespace amlc::reconciler
