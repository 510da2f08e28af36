#include "runtime/serving/scoring/frame_protocol.h"

#include <errno.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace amlc::runtime::serving {

namespace {

void PutU32(char* at, uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

uint32_t GetU32(const char* at) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(at[i]);
  return value;
}

uint16_t GetU16(const char* at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(at[0]) |
                               (static_cast<unsigned char>(at[1]) << 8));
}

// Waits until `fd` is ready for `events` (or hung up) or the deadline passes.
IoOutcome WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return IoOutcome::kTimeout;
    pollfd entry{fd, events, 0};
    int ready = poll(&entry, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
    if (ready > 0)
      return IoOutcome::kOk;  // readable, writable, POLLHUP or POLLERR: the I/O call tells which
    if (ready < 0 && errno != EINTR) return IoOutcome::kClosed;
  }
}

// Reads into at[0, capacity) until `have` reaches at least `wanted` bytes
// (it may read more, up to capacity).
IoOutcome ReadAtLeast(int fd, char* at, size_t capacity, size_t wanted, size_t& have,
                      Clock::time_point deadline) {
  while (have < wanted) {
    ssize_t got = read(fd, at + have, capacity - have);
    if (got > 0) {
      have += static_cast<size_t>(got);
    } else if (got == 0) {
      return IoOutcome::kClosed;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (IoOutcome waited = WaitFor(fd, POLLIN, deadline); waited != IoOutcome::kOk) return waited;
    } else if (errno != EINTR) {
      return IoOutcome::kClosed;
    }
  }
  return IoOutcome::kOk;
}

IoOutcome ReadExact(int fd, char* at, size_t size, Clock::time_point deadline) {
  size_t have = 0;
  return ReadAtLeast(fd, at, size, size, have, deadline);
}

}  // namespace

const char* ContentTypeOf(ContentKind kind) {
  switch (kind) {
    case ContentKind::kJson:
      return "application/json";
    case ContentKind::kText:
      return "text/plain; charset=utf-8";
    case ContentKind::kOctetStream:
    case ContentKind::kEnvelope:  // its own content type is inside it
      return "application/octet-stream";
  }
  return "application/octet-stream";
}

IoOutcome WriteRequestFrame(int fd, std::string_view request_id, std::string_view body,
                            Clock::time_point deadline, uint32_t kind) {
  if (request_id.size() > kMaxFrameBody || body.size() > kMaxFrameBody) return IoOutcome::kProtocol;
  char header[kRequestHeaderSize];
  PutU32(header, kind);
  PutU32(header + 4, static_cast<uint32_t>(request_id.size()));
  PutU32(header + 8, static_cast<uint32_t>(body.size()));
  iovec parts[3] = {{header, sizeof header},
                    {const_cast<char*>(request_id.data()), request_id.size()},
                    {const_cast<char*>(body.data()), body.size()}};
  iovec* next = parts;
  int count = 3;
  while (count > 0) {
    ssize_t wrote = writev(fd, next, count);
    if (wrote < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (IoOutcome waited = WaitFor(fd, POLLOUT, deadline); waited != IoOutcome::kOk)
          return waited;
        continue;
      }
      if (errno == EINTR) continue;
      return IoOutcome::kClosed;  // EPIPE: the worker is gone
    }
    auto left = static_cast<size_t>(wrote);
    while (count > 0 && left >= next->iov_len) {
      left -= next->iov_len;
      ++next;
      --count;
    }
    if (count > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + left;
      next->iov_len -= left;
    }
  }
  return IoOutcome::kOk;
}

IoOutcome ReadResponseFrame(int fd, ResponseFrame& frame, Clock::time_point deadline) {
  // One read usually brings the whole frame: take it into a stack buffer,
  // then read whatever is left of a large body straight into its string.
  char buffer[16384];
  size_t have = 0;
  if (IoOutcome read = ReadAtLeast(fd, buffer, sizeof buffer, kResponseHeaderSize, have, deadline);
      read != IoOutcome::kOk) {
    return read;
  }
  uint16_t kind = GetU16(buffer);
  if (kind < 1 || kind > 3) return IoOutcome::kProtocol;
  frame.kind = static_cast<FrameKind>(kind);
  frame.status = GetU16(buffer + 2);
  auto content = static_cast<unsigned char>(buffer[4]);
  frame.content = content <= 3 ? static_cast<ContentKind>(content) : ContentKind::kOctetStream;
  frame.exec_us = GetU32(buffer + 8);
  uint32_t id_size = GetU32(buffer + 12);
  uint32_t body_size = GetU32(buffer + 16);
  if (id_size > 4096 || body_size > kMaxFrameBody) return IoOutcome::kProtocol;
  size_t total = kResponseHeaderSize + id_size + body_size;
  // One request at a time per worker: bytes past this frame mean the two
  // sides disagree about framing.
  if (have > total) return IoOutcome::kProtocol;
  const char* rest = buffer + kResponseHeaderSize;
  size_t rest_size = have - kResponseHeaderSize;
  size_t id_now = std::min<size_t>(id_size, rest_size);
  frame.request_id.assign(rest, id_now);
  rest += id_now;
  rest_size -= id_now;
  if (id_now < id_size) {
    frame.request_id.resize(id_size);
    if (IoOutcome read =
            ReadExact(fd, frame.request_id.data() + id_now, id_size - id_now, deadline);
        read != IoOutcome::kOk) {
      return read;
    }
  }
  frame.body.resize(body_size);
  std::memcpy(frame.body.data(), rest, rest_size);
  if (rest_size < body_size) {
    return ReadExact(fd, frame.body.data() + rest_size, body_size - rest_size, deadline);
  }
  return IoOutcome::kOk;
}

}  // namespace amlc::runtime::serving
