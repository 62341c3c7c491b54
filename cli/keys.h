// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key helpers of the CLI: key type names, generation templates, CKA_ID
// derivation, a Signer that signs inside the vault, and PKCS#11 templates
// for keys imported from software (PKCS#12).
#ifndef CERTVAULT_CLI_KEYS_H_
#define CERTVAULT_CLI_KEYS_H_

#include <string_view>

#include "cli/vault.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"
#include "src/crypto/x509_build.h"
#include "src/model/types.h"

namespace certvault::cli {

// KeyGenSpec: the mechanism and template parts for one --type value:
// rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ec:p521|ed25519|ed448.
struct KeyGenSpec {
  MechanismType mechanism = 0;
  KeyType key_type = 0;
  uint64_t modulus_bits = 0;  // RSA only
  Bytes ec_params;            // DER OID (EC, EdDSA)
};
Result<KeyGenSpec> ParseKeyType(std::string_view type);

// KeyGenTemplates: public (token, verify) and private (token, private,
// sensitive, non-extractable, sign) templates.
struct KeyTemplates {
  AttributeSet public_tmpl;
  AttributeSet private_tmpl;
};
KeyTemplates KeyGenTemplates(const KeyGenSpec& spec, std::string_view label, const std::optional<Bytes>& id);

// KeyIdFromSpki: SHA-1 of the public value, as pkcs11-tool and NSS derive
// CKA_ID: the modulus for RSA, the encoded public point for EC / EdDSA.
Result<Bytes> KeyIdFromSpki(std::span<const uint8_t> spki);

// PublicKeyInfo: CKA_PUBLIC_KEY_INFO of `key`, or else of the public key
// object with the same CKA_ID. kNotFound if neither has it.
Result<Bytes> PublicKeyInfo(Session& session, const ObjectInfo& key);

// VaultSigner: a Signer that signs with `key` inside the vault, using the
// PKCS#11 mechanism for `alg` (CKM_ECDSA_SHA*, falling back to CKM_ECDSA
// over a locally computed digest; CKM_SHA256_RSA_PKCS; CKM_EDDSA).
// REQUIRES: `session` outlives the Signer.
x509::Signer VaultSigner(Session* session, ObjectHandle key, x509::SignatureAlgorithm alg);

// ImportTemplates: templates for a software key (PKCS#12 import): the private
// key's components with CKA_SENSITIVE=TRUE, CKA_EXTRACTABLE=FALSE, and the
// matching public key. Values are in wiped memory.
Result<KeyTemplates> ImportTemplates(EVP_PKEY* key, std::string_view label, const Bytes& id);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_KEYS_H_
