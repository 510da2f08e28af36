#ifndef AMLC_RUNTIME_SERVING_SCORING_FRAME_PROTOCOL_H_
#define AMLC_RUNTIME_SERVING_SCORING_FRAME_PROTOCOL_H_

// The pipe protocol between `amlc serve` and its Python workers
// (python/amlc/scoring.py, which documents the same layout). Length-prefixed
// binary frames, so a request body goes to the worker byte for byte and the
// worker's answer comes back the same way: no per-request parsing or JSON
// re-encoding of bodies in C++, one writev and usually one read per request.
//
//   request  (host -> worker, the worker's fd 3): u32 kind, u32 id_len, u32 body_len, id, body
//   response (worker -> host, the worker's fd 4): u16 kind, u16 http_status, u8 content,
//            3 pad bytes, u32 exec_us, u32 id_len, u32 body_len, id, body
//
// All integers little-endian. The host's pipe ends are non-blocking, so every
// read and write here is bounded by a deadline (the request timeout).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace amlc::runtime::serving {

using Clock = std::chrono::steady_clock;

inline constexpr uint32_t kRequestScore = 1;  // the body of POST /score, as is
/// Any other routed request: an envelope (u32 meta_len, JSON {"method", "path",
/// "query", "headers"}, then the body), answered by amlc/inference.py.
inline constexpr uint32_t kRequestHttp = 2;
inline constexpr size_t kRequestHeaderSize = 12;
inline constexpr size_t kResponseHeaderSize = 20;
/// Frames larger than this are a protocol error (the worker is recycled).
inline constexpr uint32_t kMaxFrameBody = 1u << 30;

enum class FrameKind : uint16_t { kReady = 1, kInitFailed = 2, kResult = 3 };
/// The body of a kReady frame from a worker whose run() takes the whole request
/// (@rawhttp, schema decorators): POST /score must reach it as an envelope too.
inline constexpr std::string_view kReadyWantsHttp = "http";
/// kEnvelope: the body is u32 meta_len, JSON {"content_type", "headers"}, then the body.
enum class ContentKind : uint8_t { kJson = 0, kText = 1, kOctetStream = 2, kEnvelope = 3 };

/// The Content-Type header for a content kind.
const char* ContentTypeOf(ContentKind kind);

struct ResponseFrame {
  FrameKind kind = FrameKind::kResult;
  uint16_t status = 0;
  ContentKind content = ContentKind::kJson;
  uint32_t exec_us = 0;
  std::string request_id;
  std::string body;
};

enum class IoOutcome {
  kOk,
  kTimeout,   // the deadline passed first
  kClosed,    // the other end closed the pipe (the worker exited)
  kProtocol,  // bytes that are not a frame
};

/// Writes one request frame to a non-blocking pipe.
IoOutcome WriteRequestFrame(int fd, std::string_view request_id, std::string_view body,
                            Clock::time_point deadline, uint32_t kind = kRequestScore);

/// Reads one response frame from a non-blocking pipe.
IoOutcome ReadResponseFrame(int fd, ResponseFrame& frame, Clock::time_point deadline);

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_FRAME_PROTOCOL_H_
