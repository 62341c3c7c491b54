// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/ossl_error.h"

#include <openssl/err.h>

#include <string>

namespace certvault::ossl {

Status OpenSslError(std::string_view call, Reason reason) {
  std::string message(call);
  message += " failed";
  unsigned long err;  // NOLINT(runtime/int): OpenSSL's type
  int count = 0;
  while ((err = ERR_get_error()) != 0) {
    if (count++ < 4) {  // bounded: messages stay short
      char buf[256];
      ERR_error_string_n(err, buf, sizeof(buf));
      message += count == 1 ? ": " : "; ";
      message += buf;
    }
  }
  return Status(reason, message);
}

void ClearErrors() { ERR_clear_error(); }

}  // namespace certvault::ossl
