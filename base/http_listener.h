#ifndef AMLC_BASE_HTTP_LISTENER_H_
#define AMLC_BASE_HTTP_LISTENER_H_

// What every cpp-httplib server amlc runs (the reconciler's API, the
// workspace server) shares: plain or TLS set-up, the limits that keep a
// hostile client from holding threads or memory, the loopback rule and
// binding. httplib.h stays out of this header; callers include it anyway to
// add routes.

#include <cstddef>
#include <ctime>
#include <atomic>
#include <memory>
#include <thread>
#include <string>

#include "base/status.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace amlc {

/// The limits of a server facing clients it does not trust.
struct ListenerLimits {
  size_t max_body_bytes = 25 * 1024 * 1024;  // refused (413) from the Content-Length
  size_t max_headers = 100;                  // beyond that: 431
  time_t read_timeout_seconds = 5;           // for each read, not the whole request
  time_t write_timeout_seconds = 5;
  size_t threads = 8;  // requests handled at once; more wait in a bounded queue
};

/// Whether `host` is a numeric loopback address (127.0.0.0/8 or ::1). Names,
/// "localhost" included, are not: what they resolve to can change.
bool IsLoopbackAddress(const std::string& host);

/// "127.0.0.1:8080", "[::1]:8080".
std::string HostPort(const std::string& host, int port);

/// A plain server when both paths are empty, else HTTPS (TLS 1.2 or newer)
/// with that PEM certificate chain and key. kInvalidArgument when only one
/// is given, or they cannot be loaded or do not belong together.
StatusOr<std::unique_ptr<httplib::Server>> MakeHttpServer(const std::string& tls_cert_file,
                                                          const std::string& tls_key_file);

/// Sets the body limit, timeouts, a short keep-alive, a bounded thread pool
/// and SO_REUSEADDR without SO_REUSEPORT (a second server on the same port
/// fails to bind instead of taking half the requests).
void ApplyListenerLimits(httplib::Server& server, const ListenerLimits& limits);

/// Whether the request carries more headers than `limits` allow (cpp-httplib
/// adds four of its own, which are not counted).
bool HasTooManyHeaders(const httplib::Request& req, const ListenerLimits& limits);

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

/// Serves a bound server on a thread of its own.
class ListenerThread {
 public:
  ListenerThread() = default;
  ~ListenerThread() { Stop(); }
  ListenerThread(const ListenerThread&) = delete;
  ListenerThread& operator=(const ListenerThread&) = delete;
  /// Starts serving `server` (bound already, outliving this object); returns
  /// once it accepts connections, so a Stop() right after is never lost.
  void Start(httplib::Server& server);
  bool started() const { return thread_.joinable(); }
  /// Stops accepting and waits for requests in progress; safe twice.
  void Stop();

 private:
  httplib::Server* server_ = nullptr;
  std::thread thread_;
  std::atomic<bool> returned_{false};
};

/// Binds host:port (0: any free port) and returns the port; kUnavailable
/// naming host:port when it cannot be bound.
StatusOr<int> BindHttpServer(httplib::Server& server, const std::string& host, int port);

}  // namespace amlc

#endif  // AMLC_BASE_HTTP_LISTENER_H_
