// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/pin.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <cstdlib>

#include "src/provider/pin_file.h"

namespace certvault::provider {
namespace {

Result<SecretBytes> FromCallback(OSSL_PASSPHRASE_CALLBACK* cb, void* cbarg) {
  char buf[256];
  size_t len = 0;
  const char* info = "certvault token user PIN";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PASSPHRASE_PARAM_INFO, const_cast<char*>(info), 0),
      OSSL_PARAM_construct_end(),
  };
  int ok = cb(buf, sizeof(buf), &len, params, cbarg);
  if (!ok || len == 0 || len > sizeof(buf)) {
    OPENSSL_cleanse(buf, sizeof(buf));
    return Status(StatusCode::kUnauthenticated, Reason::kUserNotLoggedIn,
                  "a PIN is required: none in the URI, the provider configuration (pin-file, pin-env) or the prompt");
  }
  SecretBytes pin(std::string_view(buf, len), SecretAccess::Get());
  OPENSSL_cleanse(buf, sizeof(buf));
  return pin;
}

Status NoPin() {
  return Status(StatusCode::kUnauthenticated, Reason::kUserNotLoggedIn,
                "a PIN is required: set pin-file or pin-env in the provider's openssl.cnf section, "
                "or use pin-source in the URI");
}

}  // namespace

PinSource MakePinSource(const ProviderConfig& config, const Pkcs11Uri& uri, OSSL_PASSPHRASE_CALLBACK* cb, void* cbarg) {
  return [&config, &uri, cb, cbarg]() -> Result<SecretBytes> {
    if (uri.pin_value.has_value()) return uri.pin_value->Clone();
    if (uri.pin_source.has_value()) {
      std::string path = *uri.pin_source;
      if (path.starts_with("file:")) path = path.substr(5);
      return ReadPinFile(path);
    }
    if (!config.pin_file.empty()) return ReadPinFile(config.pin_file);
    if (!config.pin_env.empty()) {
      const char* v = std::getenv(config.pin_env.c_str());
      if (v == nullptr || *v == '\0') {
        return Status(StatusCode::kUnauthenticated, Reason::kUserNotLoggedIn,
                      "the environment variable " + config.pin_env + " (pin-env) holding the PIN is not set");
      }
      return SecretBytes(std::string_view(v), SecretAccess::Get());
    }
    if (cb != nullptr) return FromCallback(cb, cbarg);
    return NoPin();
  };
}

}  // namespace certvault::provider
