// Implementation notes: one io_context, run by the thread that calls Run();
// every Connection lives on it, so connection state needs no locks. Handler
// threads (an asio::thread_pool) get a request only once its head and body
// are complete, hold a work guard on the io_context while they run, and post
// the answer back to the loop, which writes it. Deadlines are Beast's
// tcp_stream expiry, which covers a whole composed read (the whole head, the
// whole body), not one read call. An answer given before the body was read
// (401, 413, 411) closes the connection: first half (shutdown of our side),
// then a short lingering read that discards what the client still sends, so
// it reads our answer instead of a connection reset.
//
// A Connection is a template over its stream: Beast's tcp_stream, or an
// ssl_stream over one for HTTPS; deadlines and closing always act on the
// tcp_stream underneath (Tcp()). A relayed request (HeadDecision::relay_port)
// stays on the event loop: connect to 127.0.0.1, write the whole request with
// "Connection: close", then parse the answer with a buffer_body parser and
// write each piece to the client through a serializer sharing the parsed
// message, as Beast's relay example does, so a streamed body reaches the
// client as it is produced and a slow reader slows the server behind, never
// grows a buffer.
#include "base/http_front.h"

#include <openssl/ssl.h>
#include <strings.h>
#include <sys/resource.h>

#include <atomic>
#include <limits>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <unordered_map>

#include "base/openssl_error.h"

namespace amlc {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::chrono::milliseconds kRelayConnectTimeout{5000};
constexpr size_t kLingerChunk = 16 * 1024;
constexpr size_t kIdleReadChunk = 4096;
constexpr size_t kRelayChunk = 64 * 1024;
constexpr std::uint32_t kRelayHeadLimit = 64 * 1024;

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string Seconds(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(duration.count()) / 1000);
  return text;
}

// Headers the front writes itself from the response it serializes.
bool FramingHeader(std::string_view name) {
  return SameName(name, "Content-Length") || SameName(name, "Transfer-Encoding") ||
         SameName(name, "Connection") || SameName(name, "Keep-Alive");
}

// Headers of one hop that a relayed request does not carry on: the front
// framed the body itself (Content-Length) and answered Expect already.
bool HopHeader(std::string_view name) {
  for (std::string_view hop : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                               "Transfer-Encoding", "Upgrade", "Content-Length", "Expect"}) {
    if (SameName(name, hop)) return true;
  }
  return false;
}

bool MethodHasBody(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

bool LoadTls(ssl::context& context, const std::string& cert_file, const std::string& key_file,
             std::string& error) {
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    error = "cannot load the TLS certificate " + cert_file + " (" + OpensslErrorText() + ")";
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot load the TLS key " + key_file + " (" + OpensslErrorText() + ")";
    return false;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    error = "the TLS key " + key_file + " does not belong to the certificate " + cert_file;
    return false;
  }
  return true;
}

}  // namespace

std::string FrontRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (SameName(key, name)) return value;
  }
  return "";
}

bool FrontRequest::HasHeader(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (SameName(key, name)) return true;
  }
  return false;
}

void FrontResponse::Set(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& header) { return SameName(header.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

std::string FrontResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (SameName(key, name)) return value;
  }
  return "";
}

FrontResponse FrontResponse::Text(int status, std::string body, std::string content_type) {
  FrontResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Content-Type", std::move(content_type));
  return response;
}

uint64_t RaiseOpenFileLimit(uint64_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < wanted && limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = std::min<rlim_t>(wanted, limit.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // On Stop: a connection not handling or writing a request closes now.
  virtual void StopIfWaiting() = 0;
};

class HttpFront::Impl {
 public:
  Impl(FrontHandler& handler, FrontLimits limits)
      : handler(handler), limits(limits), acceptor(io), retry_timer(io),
        workers(static_cast<size_t>(std::max(1, limits.handler_threads))) {}

  void Accept();
  void OnAccepted(const error_code& error, tcp::socket socket);
  void OnClosed(ConnectionBase* connection);
  void StopOnLoop();

  FrontHandler& handler;
  FrontLimits limits;
  net::io_context io{1};
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;  // accepting again after running out of descriptors
  net::thread_pool workers;
  std::unique_ptr<ssl::context> tls;  // null: plain HTTP
  std::atomic<bool> stopping{false};
  size_t max_connections = 0;  // limits.max_connections, lowered to fit RLIMIT_NOFILE
  // Event loop only.
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> connections;
  bool accepting = false;
};

namespace {

template <class Stream>
Stream MakeStream(tcp::socket socket, ssl::context* tls);

template <>
PlainStream MakeStream<PlainStream>(tcp::socket socket, ssl::context*) {
  return PlainStream(std::move(socket));
}

template <>
TlsStream MakeStream<TlsStream>(tcp::socket socket, ssl::context* tls) {
  return TlsStream(PlainStream(std::move(socket)), *tls);
}

template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  Connection(HttpFront::Impl& front, tcp::socket socket)
      : front_(front), limits_(front.limits), stream_(MakeStream<Stream>(std::move(socket), front.tls.get())) {
    error_code error;
    tcp::endpoint remote = Tcp().socket().remote_endpoint(error);
    if (!error) remote_address_ = remote.address().to_string();
  }

  void Start();
  void StopIfWaiting() override {
    if (phase_ == Phase::kIdle || phase_ == Phase::kHead || phase_ == Phase::kBody) Close();
  }

 private:
  enum class Phase { kIdle, kHead, kBody, kHandling, kWriting, kClosing };

  PlainStream& Tcp() { return beast::get_lowest_layer(stream_); }
  std::shared_ptr<Connection> Self() { return this->shared_from_this(); }
  void ReadHead();
  void WaitForNextRequest();
  void StartHeadRead();
  void OnHeadRead(const error_code& error);
  bool FillRequest();
  void AfterHead();
  void ReadBody();
  void OnBodyRead(const error_code& error);
  void Dispatch();
  void Refuse(int status, const std::string& message);
  void Answer(FrontResponse response);
  void Write(FrontResponse response, bool keep_alive, bool linger);
  void Linger();
  void Close();
  bool BodyUnread() const { return parser_ && parser_->is_header_done() && !parser_->is_done(); }

  // Relaying to 127.0.0.1:relay_port_.
  void Relay();
  void OnUpstreamConnected(const error_code& error);
  void OnUpstreamHead(const error_code& error);
  void RelayPiece();
  void OnUpstreamPiece(error_code error);
  void WritePiece();
  void RelayFailed(const std::string& message);
  void CloseUpstream();

  HttpFront::Impl& front_;
  const FrontLimits& limits_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  FrontRequest request_;
  std::string remote_address_;
  Phase phase_ = Phase::kHead;
  bool first_request_ = true;
  bool head_seen_ = false;  // OnHead saw request_: OnAnswered is owed
  bool closed_ = false;
  std::unique_ptr<char[]> linger_buffer_;

  int relay_port_ = 0;
  bool relay_keep_alive_ = false;
  std::optional<PlainStream> upstream_;
  beast::flat_buffer upstream_buffer_;
  std::optional<http::response_parser<http::buffer_body>> upstream_parser_;
  std::optional<http::response_serializer<http::buffer_body>> relay_serializer_;
  std::unique_ptr<char[]> relay_chunk_;
};

template <class Stream>
void Connection<Stream>::Start() {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    Tcp().expires_after(limits_.handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server, [self = Self()](const error_code& error) {
      if (error) return self->Close();
      self->ReadHead();
    });
  } else {
    ReadHead();
  }
}

template <class Stream>
void Connection<Stream>::ReadHead() {
  if (front_.stopping) return Close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  // Checked after the head, against the handler's limit (Beast 1.74 compares a
  // Content-Length with an empty optional as "over", so no boost::none here).
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  request_ = FrontRequest{};
  head_seen_ = false;
  relay_port_ = 0;
  if (!first_request_ && buffer_.size() == 0) return WaitForNextRequest();
  first_request_ = false;
  StartHeadRead();
}

// A kept-alive connection waits for its next request under the idle limit;
// the head deadline starts with the first byte.
template <class Stream>
void Connection<Stream>::WaitForNextRequest() {
  phase_ = Phase::kIdle;
  Tcp().expires_after(limits_.idle_timeout);
  stream_.async_read_some(buffer_.prepare(kIdleReadChunk), [self = Self()](const error_code& error, size_t size) {
    self->buffer_.commit(size);
    if (error) return self->Close();
    self->StartHeadRead();
  });
}

template <class Stream>
void Connection<Stream>::StartHeadRead() {
  phase_ = Phase::kHead;
  Tcp().expires_after(limits_.head_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = Self()](const error_code& error, size_t) { self->OnHeadRead(error); });
}

template <class Stream>
void Connection<Stream>::OnHeadRead(const error_code& error) {
  if (closed_) return;
  if (error == http::error::header_limit) {
    return Refuse(431, "the request head is larger than the limit of " +
                           std::to_string(limits_.max_header_bytes) + " bytes");
  }
  bool got_bytes = parser_->got_some() || buffer_.size() > 0;
  if (error == beast::error::timeout) return Close();  // the stream closed the socket
  if (error) {
    if (!got_bytes || error == http::error::end_of_stream || error == net::error::eof) return Close();
    return Refuse(400, "the request could not be parsed as HTTP: " + error.message());
  }
  if (!FillRequest()) return;
  AfterHead();
}

// request_ from the parsed head; false when the front refused it.
template <class Stream>
bool Connection<Stream>::FillRequest() {
  const auto& message = parser_->get();
  request_.method = std::string(message.method_string());
  request_.target = std::string(message.target());
  request_.path = request_.target.substr(0, request_.target.find('?'));
  for (const auto& field : message) {
    request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request_.remote_address = remote_address_;
  request_.started = std::chrono::steady_clock::now();
  if (request_.headers.size() > limits_.max_header_count) {
    Refuse(431, "the request has " + std::to_string(request_.headers.size()) +
                    " headers, more than the limit of " + std::to_string(limits_.max_header_count));
    return false;
  }
  if (MethodHasBody(request_.method) && !parser_->chunked() && !parser_->content_length()) {
    Refuse(411, "a " + request_.method + " request needs a Content-Length header or Transfer-Encoding: chunked");
    return false;
  }
  return true;
}

template <class Stream>
void Connection<Stream>::AfterHead() {
  head_seen_ = true;
  HeadDecision decision = front_.handler.OnHead(request_);
  if (decision.answer) return Answer(std::move(*decision.answer));
  relay_port_ = decision.relay_port;
  int64_t limit = decision.max_body_bytes >= 0 ? decision.max_body_bytes : limits_.max_body_bytes;
  std::string too_big = "the request body is larger than the limit of " + std::to_string(limit) + " bytes";
  auto length = parser_->content_length();
  if (length && *length > static_cast<uint64_t>(limit)) {
    return Answer(front_.handler.ErrorResponse(413, too_big, &request_));
  }
  if (parser_->is_done()) return Dispatch();
  parser_->body_limit(static_cast<uint64_t>(limit));
  if (!SameName(request_.Header("Expect"), "100-continue")) return ReadBody();
  static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  phase_ = Phase::kBody;
  Tcp().expires_after(limits_.body_timeout);
  net::async_write(stream_, net::buffer(kContinue), [self = Self()](const error_code& error, size_t) {
    if (error) return self->Close();
    self->ReadBody();
  });
}

template <class Stream>
void Connection<Stream>::ReadBody() {
  if (closed_) return;
  phase_ = Phase::kBody;
  Tcp().expires_after(limits_.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = Self()](const error_code& error, size_t) { self->OnBodyRead(error); });
}

template <class Stream>
void Connection<Stream>::OnBodyRead(const error_code& error) {
  if (closed_) return;
  if (!error) return Dispatch();
  int status = 400;
  std::string message = "the request body could not be read: " + error.message();
  if (error == http::error::body_limit) {
    status = 413;
    message = "the request body is larger than the limit of " +
              std::to_string(parser_->content_length() ? *parser_->content_length() : 0) + " bytes";
  } else if (error == beast::error::timeout) {
    status = 408;
    message = "the request body was not complete within " + Seconds(limits_.body_timeout);
  }
  Answer(front_.handler.ErrorResponse(status, message, &request_));
}

template <class Stream>
void Connection<Stream>::Dispatch() {
  if (relay_port_ != 0) return Relay();
  request_.body = std::move(parser_->get().body());
  phase_ = Phase::kHandling;
  Tcp().expires_never();
  auto task = [self = Self(), guard = net::make_work_guard(front_.io)]() mutable {
    FrontResponse response;
    try {
      response = self->front_.handler.OnRequest(self->request_);
    } catch (const std::exception& error) {
      response = self->front_.handler.ErrorResponse(500, std::string("internal error: ") + error.what(),
                                                    &self->request_);
    }
    net::post(self->front_.io, [self, response = std::move(response)]() mutable {
      self->Answer(std::move(response));
    });
  };
  net::post(front_.workers, std::move(task));
}

// Refused before OnHead: the connection closes after the answer.
template <class Stream>
void Connection<Stream>::Refuse(int status, const std::string& message) {
  bool parsed = parser_ && parser_->is_header_done();
  FrontResponse response = front_.handler.ErrorResponse(status, message, parsed ? &request_ : nullptr);
  Write(std::move(response), false, true);
}

template <class Stream>
void Connection<Stream>::Answer(FrontResponse response) {
  if (head_seen_) {
    head_seen_ = false;
    front_.handler.OnAnswered(request_, response);
  }
  bool unread = BodyUnread();
  bool keep = !unread && !front_.stopping && parser_->get().keep_alive() &&
              !SameName(response.Header("Connection"), "close");
  Write(std::move(response), keep, unread);
}

template <class Stream>
void Connection<Stream>::Write(FrontResponse response, bool keep_alive, bool linger) {
  if (closed_) return;
  auto message = std::make_shared<http::response<http::string_body>>();
  message->result(static_cast<unsigned>(response.status));
  bool parsed = parser_ && parser_->is_header_done();
  message->version(parsed ? parser_->get().version() : 11);
  for (auto& [name, value] : response.headers) {
    if (!FramingHeader(name)) message->insert(name, value);
  }
  message->body() = std::move(response.body);
  message->keep_alive(keep_alive);
  message->prepare_payload();
  phase_ = Phase::kWriting;
  Tcp().expires_after(limits_.write_timeout);
  http::async_write(stream_, *message,
                    [self = Self(), message, keep_alive, linger](const error_code& error, size_t) {
                      if (error) return self->Close();
                      if (keep_alive) return self->ReadHead();
                      if (linger) return self->Linger();
                      self->Close();
                    });
}

// Discards what the client still sends, for a short while, before closing.
// The raw socket is read: after an answer that ends the connection, TLS
// records need no decrypting.
template <class Stream>
void Connection<Stream>::Linger() {
  if (closed_) return;
  if (!linger_buffer_) {
    phase_ = Phase::kClosing;
    error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().expires_after(kLingerTime);
    linger_buffer_ = std::make_unique<char[]>(kLingerChunk);
  }
  Tcp().async_read_some(net::buffer(linger_buffer_.get(), kLingerChunk),
                        [self = Self()](const error_code& error, size_t) {
                          if (error) return self->Close();
                          self->Linger();
                        });
}

template <class Stream>
void Connection<Stream>::Close() {
  if (closed_) return;
  closed_ = true;
  phase_ = Phase::kClosing;
  CloseUpstream();
  error_code ignored;
  Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Tcp().close();
  front_.OnClosed(this);
}

// ---- Relaying ----

template <class Stream>
void Connection<Stream>::Relay() {
  head_seen_ = false;  // the server behind answers; OnAnswered is not owed
  phase_ = Phase::kHandling;
  Tcp().expires_never();
  upstream_buffer_.clear();
  upstream_.emplace(front_.io);
  upstream_->expires_after(kRelayConnectTimeout);
  tcp::endpoint to(net::ip::address_v4::loopback(), static_cast<unsigned short>(relay_port_));
  upstream_->async_connect(to, [self = Self()](const error_code& error) { self->OnUpstreamConnected(error); });
}

template <class Stream>
void Connection<Stream>::OnUpstreamConnected(const error_code& error) {
  if (closed_) return;
  if (error) return RelayFailed("the server behind the front cannot be reached: " + error.message());
  auto message = std::make_shared<http::request<http::string_body>>();
  message->method_string(request_.method);
  message->target(request_.target);
  message->version(11);
  for (const auto& [name, value] : request_.headers) {
    if (!HopHeader(name)) message->insert(name, value);
  }
  message->body() = std::move(parser_->get().body());
  message->keep_alive(false);  // one request per connection: the server behind frees its thread at once
  message->prepare_payload();
  upstream_->expires_after(limits_.write_timeout);
  http::async_write(*upstream_, *message, [self = Self(), message](const error_code& written, size_t) {
    if (self->closed_) return;
    if (written) return self->RelayFailed("the request could not be passed on: " + written.message());
    self->upstream_->expires_never();  // the server behind may take its time (a plan, a followed log)
    self->upstream_parser_.emplace();
    self->upstream_parser_->header_limit(kRelayHeadLimit);
    self->upstream_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (self->request_.method == "HEAD") self->upstream_parser_->skip(true);
    http::async_read_header(*self->upstream_, self->upstream_buffer_, *self->upstream_parser_,
                            [self](const error_code& read, size_t) { self->OnUpstreamHead(read); });
  });
}

template <class Stream>
void Connection<Stream>::OnUpstreamHead(const error_code& error) {
  if (closed_) return;
  if (error) return RelayFailed("the server behind the front gave no answer: " + error.message());
  auto& message = upstream_parser_->get();
  unsigned status = message.result_int();
  // A body that ends only when the server closes cannot be followed by another answer.
  bool framed = upstream_parser_->chunked() || upstream_parser_->content_length() || request_.method == "HEAD" ||
                status == 204 || status == 304;
  relay_keep_alive_ = framed && !front_.stopping && parser_->get().keep_alive();
  message.keep_alive(relay_keep_alive_);
  relay_serializer_.emplace(message);
  relay_chunk_ = std::make_unique<char[]>(kRelayChunk);
  phase_ = Phase::kWriting;
  Tcp().expires_after(limits_.write_timeout);
  http::async_write_header(stream_, *relay_serializer_, [self = Self()](const error_code& written, size_t) {
    if (written) return self->Close();
    self->RelayPiece();
  });
}

// Reads what the server behind has of the body (a piece, not the whole).
template <class Stream>
void Connection<Stream>::RelayPiece() {
  if (closed_) return;
  auto& body = upstream_parser_->get().body();
  if (upstream_parser_->is_done()) {
    body.data = nullptr;
    body.size = 0;
    body.more = false;
    return WritePiece();
  }
  body.data = relay_chunk_.get();
  body.size = kRelayChunk;
  http::async_read_some(*upstream_, upstream_buffer_, *upstream_parser_,
                        [self = Self()](const error_code& error, size_t) { self->OnUpstreamPiece(error); });
}

template <class Stream>
void Connection<Stream>::OnUpstreamPiece(error_code error) {
  if (closed_) return;
  if (error == http::error::need_buffer) error = {};
  if (error) return Close();  // the answer is half written: only closing tells the client
  auto& body = upstream_parser_->get().body();
  size_t got = kRelayChunk - body.size;
  if (got == 0) return RelayPiece();  // a chunk header, or the end
  body.data = relay_chunk_.get();
  body.size = got;
  body.more = !upstream_parser_->is_done();
  WritePiece();
}

template <class Stream>
void Connection<Stream>::WritePiece() {
  Tcp().expires_after(limits_.write_timeout);
  http::async_write(stream_, *relay_serializer_, [self = Self()](error_code error, size_t) {
    if (error == http::error::need_buffer) error = {};
    if (error) return self->Close();
    if (!self->relay_serializer_->is_done()) return self->RelayPiece();
    self->CloseUpstream();
    if (self->relay_keep_alive_) return self->ReadHead();
    self->Close();
  });
}

template <class Stream>
void Connection<Stream>::RelayFailed(const std::string& message) {
  CloseUpstream();
  head_seen_ = true;
  Answer(front_.handler.ErrorResponse(502, message, &request_));
}

// An abortive close: the answer is complete (or abandoned), and no TIME_WAIT
// is left behind on the front's side for each relayed request. The parser,
// serializer and buffer stay until the next relay replaces them: an
// operation cancelled by the close may still refer to them.
template <class Stream>
void Connection<Stream>::CloseUpstream() {
  if (!upstream_ || !upstream_->socket().is_open()) return;
  error_code ignored;
  upstream_->socket().set_option(net::socket_base::linger(true, 0), ignored);
  upstream_->close();
}

}  // namespace

void HttpFront::Impl::Accept() {
  if (accepting || stopping || !acceptor.is_open() || connections.size() >= max_connections) return;
  accepting = true;
  acceptor.async_accept(io, [this](const error_code& error, tcp::socket socket) {
    OnAccepted(error, std::move(socket));
  });
}

void HttpFront::Impl::OnAccepted(const error_code& error, tcp::socket socket) {
  accepting = false;
  if (error) {
    if (error == net::error::operation_aborted || stopping) return;
    // Out of descriptors (EMFILE) or a connection reset while queued: the
    // queue waits a moment rather than spinning.
    retry_timer.expires_after(std::chrono::milliseconds(50));
    retry_timer.async_wait([this](const error_code& waited) {
      if (!waited) Accept();
    });
    return;
  }
  error_code ignored;
  // Small answers: without TCP_NODELAY a keep-alive exchange can wait 40 ms for a delayed ACK.
  socket.set_option(tcp::no_delay(true), ignored);
  auto start = [this](auto connection) {
    connections[connection.get()] = connection;
    connection->Start();
  };
  if (tls) {
    start(std::make_shared<Connection<TlsStream>>(*this, std::move(socket)));
  } else {
    start(std::make_shared<Connection<PlainStream>>(*this, std::move(socket)));
  }
  Accept();
}

void HttpFront::Impl::OnClosed(ConnectionBase* connection) {
  connections.erase(connection);
  Accept();
}

void HttpFront::Impl::StopOnLoop() {
  error_code ignored;
  acceptor.close(ignored);
  retry_timer.cancel();
  std::vector<std::shared_ptr<ConnectionBase>> open;
  for (auto& [pointer, weak] : connections) {
    if (auto connection = weak.lock()) open.push_back(connection);
  }
  for (auto& connection : open) connection->StopIfWaiting();
}

HttpFront::HttpFront(FrontHandler& handler, FrontLimits limits)
    : impl_(std::make_unique<Impl>(handler, limits)) {}

HttpFront::~HttpFront() {
  Stop();
  impl_->workers.join();
}

const FrontLimits& HttpFront::limits() const { return impl_->limits; }

Status HttpFront::EnableTls(const std::string& cert_file, const std::string& key_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  std::string error;
  if (!LoadTls(*context, cert_file, key_file, error)) return Status(StatusCode::kInvalidArgument, error);
  impl_->tls = std::move(context);
  return Status::Ok();
}

StatusOr<int> HttpFront::Bind(const std::string& host, int port) {
  auto fail = [&](const error_code& error) {
    return Status(StatusCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) +
                                                ": " + error.message());
  };
  error_code error;
  std::string address_text = host == "localhost" ? "127.0.0.1" : host;
  if (address_text.size() > 2 && address_text.front() == '[') address_text = address_text.substr(1, address_text.size() - 2);
  net::ip::address address = net::ip::make_address(address_text, error);
  if (error) return fail(error);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  Impl& impl = *impl_;
  if (impl.acceptor.open(endpoint.protocol(), error); error) return fail(error);
  impl.acceptor.set_option(net::socket_base::reuse_address(true), error);
  if (impl.acceptor.bind(endpoint, error); error) return fail(error);
  if (impl.acceptor.listen(net::socket_base::max_listen_connections, error); error) return fail(error);
  rlimit files{};
  uint64_t soft = getrlimit(RLIMIT_NOFILE, &files) == 0 ? files.rlim_cur : 1024;
  // A quarter of the descriptors stay for everything else (replicas, workers, logs).
  impl.max_connections = std::max<size_t>(1, std::min<uint64_t>(impl.limits.max_connections, soft * 3 / 4));
  return static_cast<int>(impl.acceptor.local_endpoint().port());
}

void HttpFront::Run() {
  if (!impl_->acceptor.is_open()) return;
  net::post(impl_->io, [this] { impl_->Accept(); });
  impl_->io.run();
}

void HttpFront::Stop() {
  impl_->stopping = true;
  net::post(impl_->io, [this] { impl_->StopOnLoop(); });
}

}  // namespace amlc
