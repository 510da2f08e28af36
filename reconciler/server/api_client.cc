#include "reconciler/server/api_client.h"

#include <httplib.h>

#include "base/url.h"

namespace amlc::reconciler {

namespace {

constexpr time_t kConnectTimeoutSeconds = 2;
constexpr time_t kReadTimeoutSeconds = 10;

}  // namespace

StatusOr<ApiReply> GetFromReconciler(const std::string& base_url, const std::string& path,
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
  httplib::Result result = client.Get(path.c_str(), headers);
  if (!result) {
    std::string why = httplib::to_string(result.error());
    if (result.error() == httplib::Error::SSLServerVerification) {
      why += ": the certificate is not signed by a CA this machine trusts (give --ca-cert FILE)";
    }
    return Status(StatusCode::kUnavailable, why);
  }
  return ApiReply{result->status, result->body};
}

}  // namespace amlc::reconciler
