#include "base/http_listener.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <chrono>
#include <memory>
#include <string_view>

#include "base/openssl_error.h"

namespace amlc {

namespace {

// cpp-httplib adds REMOTE_ADDR, REMOTE_PORT, LOCAL_ADDR and LOCAL_PORT.
constexpr size_t kHeadersHttplibAdds = 4;

bool SetUpTls(SSL_CTX& context, const std::string& cert_file, const std::string& key_file,
              std::string& error) {
  SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
  SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(&context, cert_file.c_str()) != 1) {
    error = "cannot load the TLS certificate " + cert_file + " (" + OpensslErrorText() + ")";
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(&context, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot load the TLS key " + key_file + " (" + OpensslErrorText() + ")";
    return false;
  }
  if (SSL_CTX_check_private_key(&context) != 1) {
    error = "the TLS key " + key_file + " does not belong to the certificate " + cert_file;
    return false;
  }
  return true;
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

StatusOr<std::unique_ptr<httplib::Server>> MakeHttpServer(const std::string& tls_cert_file,
                                                          const std::string& tls_key_file) {
  bool has_cert = !tls_cert_file.empty(), has_key = !tls_key_file.empty();
  if (!has_cert && !has_key) return std::make_unique<httplib::Server>();
  if (has_cert != has_key) {
    return Status(StatusCode::kInvalidArgument,
                  "TLS needs both a certificate and its private key; only the " +
                      std::string(has_cert ? "certificate" : "key") + " was given");
  }
  std::string error;
  auto server = std::make_unique<httplib::SSLServer>(
      [&](SSL_CTX& context) { return SetUpTls(context, tls_cert_file, tls_key_file, error); });
  if (!server->is_valid()) {
    return Status(StatusCode::kInvalidArgument, error.empty() ? "cannot set up TLS" : error);
  }
  return std::unique_ptr<httplib::Server>(std::move(server));
}

void ApplyListenerLimits(httplib::Server& server, const ListenerLimits& limits) {
  server.set_payload_max_length(limits.max_body_bytes);
  server.set_read_timeout(limits.read_timeout_seconds);
  server.set_write_timeout(limits.write_timeout_seconds);
  // An idle kept-alive connection holds a server thread until this timeout,
  // and stopping waits for those threads: keep shutdown quick.
  server.set_keep_alive_timeout(1);
  size_t threads = limits.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // cpp-httplib's default options add SO_REUSEPORT, with which a second
  // server on the same port starts fine and takes half the requests.
  // SO_REUSEADDR alone still allows a restart while old connections linger.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

bool HasTooManyHeaders(const httplib::Request& req, const ListenerLimits& limits) {
  return req.headers.size() > limits.max_headers + kHeadersHttplibAdds;
}

std::string BearerCredential(const std::string& authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return "";
  }
  return authorization.substr(kScheme.size());
}

void ListenerThread::Start(httplib::Server& server) {
  server_ = &server;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    returned_ = true;
  });
  // cpp-httplib's stop() only acts on a running server: wait until it runs.
  while (!server_->is_running() && !returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void ListenerThread::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

StatusOr<int> BindHttpServer(httplib::Server& server, const std::string& host, int port) {
  int bound = -1;
  if (port == 0) {
    bound = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot listen on " + HostPort(host, port) +
                      " (address in use, or not an address of this machine)");
  }
  return bound;
}

}  // namespace amlc
