#include "base/utf8.h"

#include <cstdint>

namespace amlc {
namespace {

// The length of the sequence that `lead` starts, 0 when it cannot start one.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 0;
}

bool IsContinuation(unsigned char byte) { return (byte >> 6) == 0x2; }

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length = SequenceLength(lead);
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if (!IsContinuation(next)) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // The smallest code point each length may carry: anything less is an
    // overlong form, which decoders disagree on (a classic filter bypass).
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

size_t Utf8CharStart(std::string_view text, size_t pos) {
  while (pos > 0 && pos < text.size() && IsContinuation(static_cast<unsigned char>(text[pos]))) {
    --pos;
  }
  return pos;
}

}  // namespace amlc
