// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PIN sources, in this order: the URI's pin-value, the URI's pin-source
// (file:), the provider configuration (pin-file, then pin-env), then the
// application's passphrase callback (OpenSSL's prompt, nginx's
// ssl_password_file ...). The PIN is read when a login is needed, not before.
#ifndef CERTVAULT_PROVIDER_PIN_H_
#define CERTVAULT_PROVIDER_PIN_H_

#include <openssl/core.h>

#include <string>

#include "src/model/pkcs11_uri.h"
#include "src/provider/provctx.h"

namespace certvault::provider {

// MakePinSource: a PinSource over the sources above. `uri` and the callback
// must outlive it.
PinSource MakePinSource(const ProviderConfig& config, const Pkcs11Uri& uri, OSSL_PASSPHRASE_CALLBACK* cb, void* cbarg);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_PIN_H_
