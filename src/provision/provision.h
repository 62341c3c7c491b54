// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault::provision: the three artefacts of central key provisioning
// (issue 14, docs/formats/update-package.md), each a CMS (RFC 5652)
// SignedData built and checked by OpenSSL's CMS code:
//  - UpdateRequest: signed by the vault's identity key; names the token, its
//    update counter, a fresh nonce and its transport public key.
//  - UpdatePackage: signed by the provisioning authority, signed attributes
//    targetSerial/counter/nonce/expiry, over an AuthEnvelopedData (RFC 5083,
//    AES-256-GCM; ECDH P-256 key agreement to the transport key, RFC 5753 with
//    the X9.63 SHA-256 KDF, recipient = the transport certificate) holding an UpdateContent: an RFC 5958
//    AsymmetricKeyPackage and the certificate chain.
//  - UpdateReceipt: signed by the identity key after an apply.
// Every parser here takes untrusted bytes: errors are kDataInvalid
// (malformed), kSignatureInvalid (signature, signer or chain), and nothing is
// retained. Thread-safe (InitOids registers our OIDs once).
#ifndef CERTVAULT_PROVISION_PROVISION_H_
#define CERTVAULT_PROVISION_PROVISION_H_

#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/ossl_ptr.h"
#include "src/crypto/x509_build.h"

namespace certvault::provision {

// kOidArc: certvault's OID arc, a UUID OID (ITU-T X.667 / RFC 4122 §1).
inline constexpr const char kOidArc[] = "2.25.35505282237931440571555100275514417151";

// Nids: our OIDs registered with OpenSSL (names "cvUpdateRequest", ...).
struct Nids {
  int ct_request = 0;        // arc.1.1 content type UpdateRequest
  int ct_package = 0;        // arc.1.2 content type UpdatePackage (eContent: AuthEnvelopedData ContentInfo)
  int ct_receipt = 0;        // arc.1.3 content type UpdateReceipt
  int aa_target_serial = 0;  // arc.2.1 signed attribute UTF8String
  int aa_counter = 0;        // arc.2.2 signed attribute INTEGER
  int aa_nonce = 0;          // arc.2.3 signed attribute OCTET STRING
  int aa_expiry = 0;         // arc.2.4 signed attribute GeneralizedTime
  int kp_provisioning = 0;   // arc.3.1 extendedKeyUsage: may sign packages
  int kp_vault_identity = 0; // arc.3.2 extendedKeyUsage: a vault identity key
  int ext_attestation = 0;   // arc.4.1 certificate extension KeyAttestation
  int attr_attestation_chain = 0;  // arc.4.2 CSR attribute: SEQUENCE OF Certificate (attestation, identity, ...)
};
// GetNids: registers the OIDs on first use. kFunctionFailed if OpenSSL cannot.
Result<const Nids*> GetNids();

// CmsSigner: who signs. `key` and `cert` are borrowed; `chain` may be null.
struct CmsSigner {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
};

struct UpdateRequest {
  std::string token_serial;
  uint64_t counter = 0;  // the vault's current update counter
  Bytes nonce;           // 16..64 bytes, remembered by the vault
  Bytes transport_cert;  // DER certificate of the transport key, issued by the identity key
  std::string label;     // what is asked for ("" = none)
};
Result<Bytes> SignUpdateRequest(const UpdateRequest& request, const CmsSigner& identity);
struct VerifiedRequest {
  UpdateRequest request;
  ossl::UniquePtr<X509> identity_cert;
};
// VerifyUpdateRequest: checks the signature with the certificate the request
// carries; if `identity_roots` is not null that certificate must chain to it.
// The transport certificate must be signed by the identity key.
Result<VerifiedRequest> VerifyUpdateRequest(std::span<const uint8_t> der, X509_STORE* identity_roots);

struct PackageHeader {
  std::string target_serial;
  uint64_t counter = 0;  // the request's counter + 1
  Bytes nonce;           // the request's nonce
  int64_t expires_unix = 0;
};
// UpdateKind: what a package does (UpdateOperation.kind). kDeliverKey is
// UpdateContent version 1 (no operation field); the others are version 2.
enum class UpdateKind : uint64_t {
  kDoNotUse = 0,
  kDeliverKey = 1,        // one private key and its certificate chain
  kRenewCertificate = 2,  // a new certificate chain for the vault key `key_id` (same key)
  kDeleteKey = 3,         // destroy the vault key `key_id` with its public key and certificates
  kSetCapacity = 4,       // the token's capacity becomes `capacity` (0 = unlimited)
  kRotateAuthority = 5,   // the pinned provisioning authority becomes certificates[0]
};
struct PackageContent {
  UpdateKind kind = UpdateKind::kDeliverKey;
  std::string label;
  std::vector<SecretBytes> private_keys;  // PKCS#8 / OneAsymmetricKey DER, each
  std::vector<Bytes> certificates;        // DER; the first certifies private_keys[0] (renew: the key `key_id`)
  Bytes key_id;                           // kRenewCertificate, kDeleteKey: the key's CKA_ID
  uint32_t capacity = 0;                  // kSetCapacity
  // wrap_keys: kDeliverKey only: the key travels wrapped to the transport
  // key (UpdateContent version 3, "Wrapped keys" in the format) instead of
  // as a clear OneAsymmetricKey inside the encrypted content. Set by
  // OpenUpdatePackage when it read a version 3 content (private_keys then
  // holds the unwrapped key).
  bool wrap_keys = false;
};
// CheckContentShape: `c` carries exactly what its kind needs (deliver: one
// key and >= 1 certificate; renew: no key, >= 1 certificate, a key id;
// delete: a key id only; capacity: nothing else; rotate authority: exactly
// one certificate, the new authority). kDataInvalid otherwise.
Status CheckContentShape(const PackageContent& c);
// BuildUpdatePackage: `transport_cert` (DER) must hold an EC P-256 key; the
// caller has checked it (VerifyUpdateRequest checks it against the identity).
Result<Bytes> BuildUpdatePackage(const PackageHeader& header, const PackageContent& content,
                                 std::span<const uint8_t> transport_cert, const CmsSigner& authority);
struct VerifiedPackage {
  PackageHeader header;
  ossl::UniquePtr<X509> signer_cert;
  Bytes enveloped;  // the AuthEnvelopedData ContentInfo DER (signed content)
  Bytes sha256;     // of the whole package DER
};
// VerifyUpdatePackage: the signature must verify and its signer be
// `authority` itself or a certificate `authority` issued with the
// provisioning extendedKeyUsage. Header attributes must be present once each.
Result<VerifiedPackage> VerifyUpdatePackage(std::span<const uint8_t> der, X509* authority);
// OpenUpdatePackage: decrypts with the transport private key (GCM tag checked).
Result<PackageContent> OpenUpdatePackage(const VerifiedPackage& package, EVP_PKEY* transport_key);

struct UpdateReceipt {
  std::string token_serial;
  uint64_t counter = 0;  // the vault's counter after the apply
  Bytes package_hash;    // SHA-256 of the package DER
  Bytes key_id;          // CKA_ID of the delivered key
  std::string result;    // "ok" or the refusal
};
Result<Bytes> SignUpdateReceipt(const UpdateReceipt& receipt, const CmsSigner& identity);
struct VerifiedReceipt {
  UpdateReceipt receipt;
  ossl::UniquePtr<X509> identity_cert;
};
// VerifyUpdateReceipt: if `identity` is not null the signer must be it.
Result<VerifiedReceipt> VerifyUpdateReceipt(std::span<const uint8_t> der, X509* identity);

// KeyAttestation: what an attestation certificate states about a vault key
// (extension cvKeyAttestation, arc.4.1, docs/formats/update-package.md).
struct KeyAttestation {
  uint64_t origin = 0;  // kCvProvenance*: 1 generated in the vault, 2 imported, 3 provisioned
  bool never_extractable = false;
  bool always_sensitive = false;
  std::string token_serial;
  std::string software_version;
};
// BuildAttestationCert: an X.509 certificate for `spki` issued by the
// identity key/certificate, valid until the identity certificate ends,
// carrying `a` as a non-critical extension.
Result<Bytes> BuildAttestationCert(const KeyAttestation& a, std::span<const uint8_t> spki, const CmsSigner& identity);
// ReadAttestation: the statement of an attestation certificate; kDataInvalid
// if it has none or a malformed one. Does not check any signature.
Result<KeyAttestation> ReadAttestation(X509* cert);

// EncodeAttestationChain / DecodeAttestationChain: the value of CSR
// attribute cvKeyAttestationChain (arc.4.2): SEQUENCE OF Certificate, the
// attestation certificate first, then the vault identity certificate and
// any certificates between it and the manufacturer CA. Decode: kDataInvalid
// if malformed, empty or over 8 certificates.
Result<Bytes> EncodeAttestationChain(const std::vector<Bytes>& certs);
Result<std::vector<Bytes>> DecodeAttestationChain(std::span<const uint8_t> der);

// VerifyKeyAttestation: proves that `key` was generated inside a certvault
// vault and can never leave it (docs/formats/update-package.md, "Key
// attestation in a CSR"): chain[0] certifies `key`, is valid now, is signed
// by chain[1] (the identity certificate), which chains to `roots` (the
// further chain entries are untrusted intermediates) and has the
// cvVaultIdentity extendedKeyUsage unless it is itself a root; the statement
// says origin generated, never extractable, always sensitive.
// kPermissionDenied names the failed check; nothing is retained.
Result<KeyAttestation> VerifyKeyAttestation(std::span<const Bytes> chain, EVP_PKEY* key, X509_STORE* roots);

// EvpSigner: an x509::Signer over an in-process P-256 key (the vault's own
// keys, a CA's freshly generated device key): ECDSA SHA-256, raw r||s as
// PKCS#11 returns it.
x509::Signer EvpSigner(EVP_PKEY* key);

// DeliveredKeyIdHex: the CKA_ID a vault gives a delivered key, in hex: SHA-1
// of the public key bits of its certificate (src/core/backend_update.cc).
// kDataInvalid if `cert_der` is not a certificate.
Result<std::string> DeliveredKeyIdHex(std::span<const uint8_t> cert_der);
// IdentityKeyHashHex: hex SHA-256 of a vault identity certificate's
// SubjectPublicKeyInfo (it stays when `identity import` replaces the certificate).
Result<std::string> IdentityKeyHashHex(X509* identity_cert);

// Sha256: of `data`.
Result<Bytes> Sha256(std::span<const uint8_t> data);

}  // namespace certvault::provision

#endif  // CERTVAULT_PROVISION_PROVISION_H_
