#include "base/openssl_error.h"

#include <openssl/err.h>

namespace amlc {

std::string OpensslErrorText() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace amlc
