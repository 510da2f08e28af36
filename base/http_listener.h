#ifndef AMLC_BASE_HTTP_LISTENER_H_
#define AMLC_BASE_HTTP_LISTENER_H_

// What every cpp-httplib server amlc runs (the reconciler's API, the
// workspace server) shares: the event-driven front it faces clients through
// (base/http_front.h: deadlines for the head and body, a connection cap,
// header and body limits, TLS), the loopback rule and a few helpers.
// httplib.h stays out of this header; callers include it anyway to add
// routes.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "base/http_front.h"
#include "base/status.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace amlc {

/// Whether `host` is a numeric loopback address (127.0.0.0/8 or ::1). Names,
/// "localhost" included, are not: what they resolve to can change.
bool IsLoopbackAddress(const std::string& host);

/// "127.0.0.1:8080", "[::1]:8080".
std::string HostPort(const std::string& host, int port);

/// The credential of an "Authorization: Bearer CREDENTIAL" header value (the
/// scheme in any case); "" for any other value.
std::string BearerCredential(const std::string& authorization);

/// Answers with `body`: gzip-compressed (zlib's fastest level) when the
/// client accepts gzip, the body is 1 KiB or more and no Range was asked
/// for, else as it is. Either way the body goes out as a fixed-length
/// content provider, which cpp-httplib never compresses itself: it would
/// pick brotli at quality 11 whenever a client accepts "br" (every browser
/// does), which took 36 s for 8 MB of JSON (bench/README.md). Set the
/// status first: an error status (400 and up) keeps the plain body.
void SetBody(const httplib::Request& req, httplib::Response& res, std::string body, const std::string& content_type);

/// A cpp-httplib server (its routes) behind the event-driven front. Clients
/// connect to the front, which reads each request whole under its limits
/// (431, 411, 413, 408 at once, a slow client costing a buffer, not a
/// thread) and terminates TLS; a complete request is relayed to the
/// cpp-httplib server on 127.0.0.1 at a port of its own, and its answer
/// relayed back as it comes (streamed answers piece by piece). The front adds
/// a secret of this process to each request it relays, and the server behind
/// answers 403 to any request without it, so nobody reaches the routes past
/// the front's limits; it also passes the client's address (ClientAddress).
class FrontedHttpServer {
 public:
  struct Options {
    FrontLimits limits;  // the front's; max_body_bytes bounds every body
    /// PEM certificate (chain) and private key: the front serves HTTPS. Both or neither.
    std::string tls_cert_file;
    std::string tls_key_file;
    size_t threads = 8;  // requests the routes handle at once; more wait in a bounded queue
    /// The front's own answers (431, 411, 413, 408, 400, 502, and 403 for a
    /// request past the front) in the server's error format; `head` is null
    /// when no head was parsed (and for the 403). Called on the front's event
    /// loop (the 403 on a routes' thread): keep it short, never wait.
    std::function<FrontResponse(int status, const std::string& message, const FrontRequest* head)> error_response;
  };

  explicit FrontedHttpServer(Options options);
  ~FrontedHttpServer();
  FrontedHttpServer(const FrontedHttpServer&) = delete;
  FrontedHttpServer& operator=(const FrontedHttpServer&) = delete;

  /// Where routes, the error and exception handlers go, before Start. Its
  /// pre-routing handler is the front's check: give yours to set_gate.
  httplib::Server& routes();
  /// Runs on each request's head before routing, once the front's check
  /// passed (cpp-httplib's pre-routing handler).
  void set_gate(std::function<bool(const httplib::Request&, httplib::Response&)> handled);

  /// Loads TLS, binds the front to host:port (0: any free port) and the
  /// routes to 127.0.0.1, and serves on threads of its own; returns once
  /// connections are accepted. kInvalidArgument for TLS files that do not
  /// load (or only one of them); kUnavailable naming host:port when the
  /// address cannot be bound. Starts once.
  Status Start(const std::string& host, int port);
  int port() const;
  /// Stops accepting, lets relayed requests finish, then stops the routes'
  /// server; safe twice.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The address of the client a request came from, as the front saw it.
std::string ClientAddress(const httplib::Request& req);

}  // namespace amlc

#endif  // AMLC_BASE_HTTP_LISTENER_H_
