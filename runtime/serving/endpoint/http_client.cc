#include "runtime/serving/endpoint/http_client.h"

#include <httplib.h>
#include <poll.h>
#include <strings.h>

namespace amlc::runtime::endpoint {

namespace {

void SetTimeout(double seconds, const std::function<void(time_t, time_t)>& set) {
  auto whole = static_cast<time_t>(seconds);
  set(whole, static_cast<time_t>((seconds - static_cast<double>(whole)) * 1e6));
}

// Whether a failed request never reached the server, so sending it to
// another server cannot make it run twice.
bool NotDelivered(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::BindIPAddress:
    case httplib::Error::Write:  // a partial request is never handled
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return "";
}

HttpClient::HttpClient(const std::string& host, int port, double connect_timeout_s,
                       double read_timeout_s)
    : origin_(host + ":" + std::to_string(port)),
      client_(std::make_unique<httplib::Client>(host, port)) {
  client_->set_keep_alive(true);
  // Small requests and responses: without TCP_NODELAY a keep-alive exchange
  // can wait 40 ms for a delayed ACK.
  client_->set_tcp_nodelay(true);
  client_->set_url_encode(false);  // targets are forwarded exactly as received
  SetTimeout(connect_timeout_s, [&](time_t s, time_t us) { client_->set_connection_timeout(s, us); });
  SetTimeout(read_timeout_s, [&](time_t s, time_t us) { client_->set_read_timeout(s, us); });
  SetTimeout(read_timeout_s, [&](time_t s, time_t us) { client_->set_write_timeout(s, us); });
}

HttpClient::~HttpClient() = default;

// An idle keep-alive connection has nothing to read: readable means the server
// closed it (it exited, or timed the connection out). cpp-httplib 0.11 does not
// check, and would write the next request into it and fail on the read, when
// it is unknown whether the server ran the request. Checked now, the request
// goes on a fresh connection instead.
void HttpClient::CloseIfPeerClosed() {
  if (!client_->is_socket_open()) return;
  pollfd idle{client_->socket(), POLLIN, 0};
  if (poll(&idle, 1, 0) != 0) client_->stop();
}

StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  httplib::Request outgoing;
  outgoing.method = request.method;
  outgoing.path = request.target;
  for (const auto& [key, value] : request.headers) outgoing.headers.emplace(key, value);
  outgoing.body = request.body;
  CloseIfPeerClosed();
  httplib::Result result = client_->send(outgoing);
  if (!result) {
    StatusCode code = NotDelivered(result.error()) ? StatusCode::kUnavailable : StatusCode::kInternal;
    return Status(code, request.method + " http://" + origin_ + request.target + ": " +
                            httplib::to_string(result.error()));
  }
  HttpResponse response;
  response.status = result->status;
  response.body = std::move(result->body);
  for (const auto& [key, value] : result->headers) response.headers.emplace_back(key, value);
  return response;
}

StatusOr<HttpResponse> HttpClient::Get(const std::string& target) {
  return Send({"GET", target, {}, ""});
}

StatusOr<HttpResponse> HttpClient::Post(const std::string& target, const std::string& body,
                                        const std::string& content_type,
                                        const HeaderList& headers) {
  HttpRequest request{"POST", target, headers, body};
  request.headers.emplace_back("Content-Type", content_type);
  return Send(request);
}

}  // namespace amlc::runtime::endpoint
