#ifndef AMLC_BASE_UTF8_H_
#define AMLC_BASE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace amlc {

/// Whether `text` is well-formed UTF-8 (RFC 3629): false for a stray
/// continuation byte, a sequence cut short, an overlong form (C0 80 for NUL),
/// a UTF-16 surrogate (U+D800..U+DFFF) or a code point above U+10FFFF. Names
/// that pass are safe for JSON and tar headers, which reject or mangle the
/// others.
bool IsValidUtf8(std::string_view text);

/// The largest index <= `pos` that does not fall inside a multi-byte
/// sequence: where `text` can be cut without leaving half a character (a
/// cut inside one would show as a replacement character). `pos` itself when
/// it is 0 or at or past the end.
size_t Utf8CharStart(std::string_view text, size_t pos);

}  // namespace amlc

#endif  // AMLC_BASE_UTF8_H_
