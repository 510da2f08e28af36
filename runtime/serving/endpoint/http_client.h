#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_HTTP_CLIENT_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace httplib {
class Client;
}

namespace amlc::runtime::endpoint {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, sent as is
  HeaderList headers;        // Content-Type among them when there is a body
  std::string body;
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
  /// The first header of that name (case-insensitive), "" when absent.
  std::string Header(const std::string& name) const;
};

/// One keep-alive HTTP/1.1 connection to host:port (cpp-httplib stays behind
/// this class). Not safe for concurrent use: callers pool them.
class HttpClient {
 public:
  HttpClient(const std::string& host, int port, double connect_timeout_s = 1,
             double read_timeout_s = 300);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends one request. kUnavailable when it did not reach the server
  /// (refused, timed out connecting, the write failed): safe to send to
  /// another server. kInternal when it was sent but no response came back.
  StatusOr<HttpResponse> Send(const HttpRequest& request);
  StatusOr<HttpResponse> Get(const std::string& target);
  StatusOr<HttpResponse> Post(const std::string& target, const std::string& body,
                              const std::string& content_type = "application/json",
                              const HeaderList& headers = {});

 private:
  void CloseIfPeerClosed();

  std::string origin_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_HTTP_CLIENT_H_
