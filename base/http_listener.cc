#include "base/http_listener.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <strings.h>
#include <sys/socket.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>


namespace amlc {

namespace {

// What the front adds to each request it relays (and removes from what
// clients send): this process's secret, and the client's address.
constexpr const char* kSecretHeader = "X-Amlc-Front-Secret";
constexpr const char* kClientHeader = "X-Amlc-Front-Client";

std::string RandomSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the front's secret");
  static const char kHex[] = "0123456789abcdef";
  std::string text;
  for (unsigned char byte : bytes) {
    text += kHex[byte >> 4];
    text += kHex[byte & 15];
  }
  return text;
}

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Below this a gzip header costs more than it saves.
constexpr size_t kCompressFromBytes = 1024;

// Whether an Accept-Encoding value lists gzip ("gzip;q=0" refuses it).
bool AcceptsGzip(const std::string& accept_encoding) {
  size_t at = accept_encoding.find("gzip");
  if (at == std::string::npos) return false;
  std::string_view rest = std::string_view(accept_encoding).substr(at + 4);
  rest = rest.substr(0, rest.find(','));
  return rest.find("q=0") == std::string_view::npos || rest.find("q=0.") != std::string_view::npos;
}

// `body` as one gzip member; "" when zlib fails (then it goes out as it is).
std::string Gzip(const std::string& body) {
  z_stream stream{};
  // 15 + 16: a window of 32 KiB with a gzip header; level 1: bodies are
  // JSON and text, where it keeps most of the gain at a fraction of the time.
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&stream, body.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END ? out : "";
}

}  // namespace

void SetBody(const httplib::Request& req, httplib::Response& res, std::string body, const std::string& content_type) {
  // An error handler takes a response with no body for one still to be
  // written, and a provider's body is not in res.body: errors, small, go as
  // they are.
  if (res.status >= 400) return res.set_content(std::move(body), content_type);
  res.set_header("Vary", "Accept-Encoding");
  if (body.size() >= kCompressFromBytes && body.size() < UINT32_MAX && !req.has_header("Range") &&
      AcceptsGzip(req.get_header_value("Accept-Encoding"))) {
    std::string compressed = Gzip(body);
    if (!compressed.empty()) {
      body.swap(compressed);
      res.set_header("Content-Encoding", "gzip");
    }
  }
  auto shared = std::make_shared<const std::string>(std::move(body));
  res.set_content_provider(shared->size(), content_type,
                           [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(shared->data() + offset, std::min(length, shared->size() - offset));
                           });
}

bool IsLoopbackAddress(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string HostPort(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string BearerCredential(const std::string& authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return "";
  }
  return authorization.substr(kScheme.size());
}

std::string ClientAddress(const httplib::Request& req) {
  return req.has_header(kClientHeader) ? req.get_header_value(kClientHeader) : req.remote_addr;
}

struct FrontedHttpServer::Impl : FrontHandler {
  explicit Impl(Options options) : options(std::move(options)) {}

  HeadDecision OnHead(FrontRequest& head) override {
    std::erase_if(head.headers, [](const auto& header) {
      return SameName(header.first, kSecretHeader) || SameName(header.first, kClientHeader);
    });
    head.headers.emplace_back(kSecretHeader, secret);
    head.headers.emplace_back(kClientHeader, head.remote_address);
    HeadDecision relay;
    relay.relay_port = inner_port;
    return relay;
  }
  // Every request is relayed (OnHead): this is never called.
  FrontResponse OnRequest(FrontRequest& request) override {
    return ErrorResponse(500, "the front has no handler of its own", &request);
  }
  FrontResponse ErrorResponse(int status, const std::string& message, const FrontRequest* head) override {
    return options.error_response(status, message, head);
  }
  httplib::Server::HandlerResponse Check(const httplib::Request& req, httplib::Response& res);
  void SetUpRoutesServer();

  Options options;
  const std::string secret = RandomSecret();
  httplib::Server server;  // the routes, on 127.0.0.1:inner_port
  std::function<bool(const httplib::Request&, httplib::Response&)> gate;
  std::unique_ptr<HttpFront> front;
  std::thread front_thread;
  std::thread server_thread;
  std::atomic<bool> server_returned{false};
  int port = 0;
  int inner_port = 0;
  int listening_socket = -1;  // the routes' server's
};

// The routes' server's pre-routing handler: the front's secret first (its
// length is public, its bytes compared in constant time), then the gate.
httplib::Server::HandlerResponse FrontedHttpServer::Impl::Check(const httplib::Request& req,
                                                                httplib::Response& res) {
  using Handled = httplib::Server::HandlerResponse;
  std::string given = req.get_header_value(kSecretHeader);
  if (given.size() != secret.size() || CRYPTO_memcmp(given.data(), secret.data(), secret.size()) != 0) {
    FrontResponse refusal = options.error_response(
        403, "this port serves only amlc's own front; connect to the address the server was given to listen on",
        nullptr);
    res.status = 403;
    for (const auto& [name, value] : refusal.headers) res.set_header(name, value);
    res.set_header("Connection", "close");
    res.set_content(refusal.body, refusal.Header("Content-Type"));
    return Handled::Handled;
  }
  if (gate && gate(req, res)) return Handled::Handled;
  return Handled::Unhandled;
}

// The front bounds what reaches this server; its own timeouts only guard
// against the front stalling. One request per connection (the front sends
// "Connection: close"), so a thread is held only while a request is handled.
void FrontedHttpServer::Impl::SetUpRoutesServer() {
  server.set_payload_max_length(static_cast<size_t>(options.limits.max_body_bytes));
  server.set_read_timeout(5);
  server.set_write_timeout(5);
  server.set_keep_alive_timeout(1);
  size_t threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // cpp-httplib's default options add SO_REUSEPORT, with which a second
  // server on the same port starts fine and takes half the requests.
  server.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listening_socket = sock;
  });
  server.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return Check(req, res); });
}

FrontedHttpServer::FrontedHttpServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->SetUpRoutesServer();
}

FrontedHttpServer::~FrontedHttpServer() { Stop(); }

httplib::Server& FrontedHttpServer::routes() { return impl_->server; }

void FrontedHttpServer::set_gate(std::function<bool(const httplib::Request&, httplib::Response&)> handled) {
  impl_->gate = std::move(handled);
}

int FrontedHttpServer::port() const { return impl_->port; }

Status FrontedHttpServer::Start(const std::string& host, int port) {
  Impl& impl = *impl_;
  if (impl.front) return Status(StatusCode::kFailedPrecondition, "the server was started already");
  const Options& options = impl.options;
  bool has_cert = !options.tls_cert_file.empty(), has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return Status(StatusCode::kInvalidArgument, "TLS needs both a certificate and its private key; only the " +
                                                    std::string(has_cert ? "certificate" : "key") + " was given");
  }
  FrontLimits limits = options.limits;
  limits.handler_threads = 1;  // every request is relayed on the event loop
  impl.front = std::make_unique<HttpFront>(impl, limits);
  if (has_cert) {
    if (Status tls = impl.front->EnableTls(options.tls_cert_file, options.tls_key_file); !tls.ok()) return tls;
  }
  RaiseOpenFileLimit();  // before Bind, which sizes the connection cap from it
  StatusOr<int> bound = impl.front->Bind(host, port);
  if (!bound.ok()) {
    return Status(StatusCode::kUnavailable, "cannot listen on " + HostPort(host, port) +
                                                " (address in use, or not an address of this machine)");
  }
  impl.port = *bound;
  impl.inner_port = impl.server.bind_to_any_port("127.0.0.1");
  if (impl.inner_port <= 0) return Status(StatusCode::kUnavailable, "cannot listen on 127.0.0.1 (for the routes behind the front)");
  // cpp-httplib listens with a backlog of 5: a burst of relayed requests
  // beyond it would wait a second for a SYN to be sent again. Linux takes a
  // second listen() as a new backlog.
  if (impl.listening_socket >= 0) ::listen(impl.listening_socket, SOMAXCONN);
  impl.server_thread = std::thread([&impl] {
    impl.server.listen_after_bind();
    impl.server_returned = true;
  });
  // cpp-httplib's stop() only acts on a running server: wait until it runs.
  while (!impl.server.is_running() && !impl.server_returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl.front_thread = std::thread([&impl] { impl.front->Run(); });
  return Status::Ok();
}

void FrontedHttpServer::Stop() {
  Impl& impl = *impl_;
  if (impl.front) impl.front->Stop();
  if (impl.front_thread.joinable()) impl.front_thread.join();
  if (impl.server_thread.joinable()) {
    impl.server.stop();
    impl.server_thread.join();
  }
}

}  // namespace amlc
