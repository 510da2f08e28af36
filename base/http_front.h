#ifndef AMLC_BASE_HTTP_FRONT_H_
#define AMLC_BASE_HTTP_FRONT_H_

// The HTTP front that faces clients, shared by the scoring replica
// (`amlc serve`), the endpoint host's router, and (through
// base/http_listener.h's FrontedHttpServer) the workspace server and the
// reconciler's API. Boost.Asio/Beast stay behind this header.
//
// One event-loop thread owns every socket, so a client that sends its head
// or body slowly costs a parser and a buffer, never a thread. A request
// reaches the handler in two steps:
//   OnHead     on the event loop, once the head is complete (must not block):
//              answer at once (routes that need no body, a missing key, ...)
//              or let the front read the body, under a size limit;
//   OnRequest  on a handler thread, with the whole body (may block: scoring,
//              forwarding); its answer is written by the event loop.
// The front answers by itself, with a body saying why: 431 for a head over
// the header size or count limit, 411 for a POST/PUT/PATCH with neither
// Content-Length nor chunked encoding, 413 for a Content-Length over the
// limit (before reading a byte of the body) or a chunked body that crosses
// it, 400 for what does not parse as HTTP. A head or body not complete
// within its deadline closes the connection (Beast closes the socket when the
// deadline passes; the handler still sees the request answered 408).
//
// Instead of OnRequest, OnHead may have a request relayed: once its body is
// read, the front writes it to a server on 127.0.0.1 and relays the answer
// back as it comes, streamed (chunked) bodies piece by piece, each piece under
// the write deadline. With a certificate and key (EnableTls) the front
// speaks HTTPS, the handshake under its own deadline.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace amlc {

/// The front's limits. The defaults are the documented ones (README,
/// "Reliability").
struct FrontLimits {
  std::chrono::milliseconds head_timeout{10'000};   // first byte to the end of the head
  std::chrono::milliseconds body_timeout{60'000};   // end of the head to the end of the body
  std::chrono::milliseconds idle_timeout{5'000};    // a kept-alive connection with no request
  std::chrono::milliseconds write_timeout{60'000};  // writing one answer (one piece of a relayed one)
  std::chrono::milliseconds handshake_timeout{10'000};  // a TLS handshake
  // Connections served at once; more wait in the kernel's accept queue
  // until one closes. Lowered to what RLIMIT_NOFILE allows.
  size_t max_connections = 10'000;
  size_t max_header_count = 100;
  size_t max_header_bytes = 16 * 1024;  // request line and headers together
  int64_t max_body_bytes = 10 * 1024 * 1024;  // unless OnHead says otherwise
  int handler_threads = 64;  // requests handled (and blocked on) at once
};

using FrontHeaders = std::vector<std::pair<std::string, std::string>>;

struct FrontRequest {
  std::string method;
  std::string target;  // as sent: path and query
  std::string path;    // the target up to '?'
  FrontHeaders headers;
  std::string body;  // empty until the body is read
  std::string remote_address;
  std::chrono::steady_clock::time_point started;  // when the head was complete
  // The handler's own note about this request (set in OnHead, e.g. a
  // request id or the deployment chosen), seen again in later calls.
  std::string note;

  /// The first header of that name (case-insensitive), "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct FrontResponse {
  int status = 200;
  FrontHeaders headers;
  std::string body;

  /// Replaces every header of that name (case-insensitive) with one.
  void Set(std::string_view name, std::string value);
  std::string Header(std::string_view name) const;
  static FrontResponse Text(int status, std::string body, std::string content_type);
};

/// What OnHead decided.
struct HeadDecision {
  std::optional<FrontResponse> answer;  // answered now; the body is not read
  int64_t max_body_bytes = -1;          // -1: FrontLimits::max_body_bytes
  // Not 0: once the body is read, the request (its headers as OnHead left
  // them, hop-by-hop ones replaced) goes to 127.0.0.1:relay_port and that
  // server's answer is the client's; OnRequest and OnAnswered are not called.
  int relay_port = 0;
};

class FrontHandler {
 public:
  virtual ~FrontHandler() = default;
  /// Event loop; must not block.
  virtual HeadDecision OnHead(FrontRequest& head) = 0;
  /// A handler thread; may block.
  virtual FrontResponse OnRequest(FrontRequest& request) = 0;
  /// An answer the front makes itself, `message` saying why, in the
  /// handler's error format. `head` is null when no head was parsed.
  virtual FrontResponse ErrorResponse(int status, const std::string& message,
                                      const FrontRequest* head) = 0;
  /// Event loop, once for every request OnHead saw, just before its answer
  /// is written (also the front's own answers): metrics, telemetry, headers.
  virtual void OnAnswered(const FrontRequest& request, FrontResponse& response) {}
};

class HttpFront {
 public:
  HttpFront(FrontHandler& handler, FrontLimits limits);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  /// Serves HTTPS (TLS 1.2 or newer) with that PEM certificate chain and
  /// key; call before Run. kInvalidArgument when they do not load or do not
  /// belong together.
  Status EnableTls(const std::string& cert_file, const std::string& key_file);
  /// Binds host:port (0 = a free port) and returns the port.
  StatusOr<int> Bind(const std::string& host, int port);
  /// Serves until Stop(); returns once every request being handled has been
  /// answered (connections reading a head or body are closed).
  void Run();
  /// Stops accepting; safe from any thread, at any time, more than once.
  void Stop();

  const FrontLimits& limits() const;

  class Impl;  // the event loop and its connections, in the .cc

 private:
  std::unique_ptr<Impl> impl_;
};

/// Raises this process's soft RLIMIT_NOFILE to its hard limit (at most
/// `wanted`), so a front can hold many connections; returns the new soft limit.
uint64_t RaiseOpenFileLimit(uint64_t wanted = 65536);

}  // namespace amlc

#endif  // AMLC_BASE_HTTP_FRONT_H_
