// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Checking a key attestation that travels with a CSR (attribute
// cvKeyAttestationChain; docs/formats/update-package.md, "Key attestation in
// a CSR"): the CA accepts the key only if a vault identity it trusts states
// that the key was generated inside the vault and can never leave it.
#include <openssl/x509v3.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/asn1.h"
#include "src/provision/provision.h"

namespace certvault::provision {
namespace {

constexpr size_t kMaxChain = 8;

Status Denied(std::string why) { return PermissionDeniedError("key attestation: " + why); }

Result<ossl::UniquePtr<X509>> Parse(const Bytes& der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> x(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (x == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "key attestation: a malformed certificate");
  }
  return x;
}

bool HasEku(X509* cert, int nid) {
  uint32_t flags = X509_get_extension_flags(cert);  // also caches the decoded EKU
  if ((flags & EXFLAG_XKUSAGE) == 0) return false;
  auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr));
  bool found = false;
  for (int i = 0; eku != nullptr && i < sk_ASN1_OBJECT_num(eku); ++i) {
    found = found || OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid;
  }
  sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
  return found;
}

// VerifyIdentity: the identity certificate chains to `roots`; returns the
// length of the verified chain (1: the identity certificate is a root).
Result<int> VerifyIdentity(X509* identity, STACK_OF(X509)* untrusted, X509_STORE* roots) {
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new_ex(crypto::LibCtx(), crypto::kPropq));
  if (ctx == nullptr || X509_STORE_CTX_init(ctx.get(), roots, identity, untrusted) != 1) {
    return ossl::OpenSslError("X509_STORE_CTX_init");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ossl::ClearErrors();
    return Denied(std::string("the vault identity does not chain to an attestation root (") +
                  X509_verify_cert_error_string(err) + ")");
  }
  return sk_X509_num(X509_STORE_CTX_get0_chain(ctx.get()));
}

// CheckAttestationCert: chain[0] is for `key`, valid now, signed by `identity`.
Status CheckAttestationCert(X509* att, X509* identity, EVP_PKEY* key) {
  if (EVP_PKEY_eq(X509_get0_pubkey(att), key) != 1) {
    ossl::ClearErrors();
    return Denied("it attests another key");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(att)) >= 0 || X509_cmp_current_time(X509_get0_notAfter(att)) <= 0) {
    return Denied("the attestation certificate is not valid now");
  }
  if (X509_NAME_cmp(X509_get_issuer_name(att), X509_get_subject_name(identity)) != 0 ||
      X509_verify(att, X509_get0_pubkey(identity)) != 1) {
    ossl::ClearErrors();
    return Denied("the attestation certificate is not signed by the vault identity");
  }
  return OkStatus();
}

}  // namespace

Result<Bytes> EncodeAttestationChain(const std::vector<Bytes>& certs) {
  ossl::X509StackPtr stack(sk_X509_new_null());
  if (stack == nullptr) return ossl::OpenSslError("sk_X509_new_null");
  for (const Bytes& der : certs) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> x, Parse(der));
    if (sk_X509_push(stack.get(), x.get()) <= 0) return ossl::OpenSslError("sk_X509_push");
    x.release();  // owned by stack
  }
  unsigned char* out = nullptr;
  int len = ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(stack.get()), &out, ASN1_ITEM_rptr(CV_CERT_SEQUENCE));
  if (len <= 0) return ossl::OpenSslError("ASN1_item_i2d");
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

Result<std::vector<Bytes>> DecodeAttestationChain(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  auto* raw = reinterpret_cast<STACK_OF(X509)*>(
      ASN1_item_d2i(nullptr, &p, static_cast<long>(der.size()), ASN1_ITEM_rptr(CV_CERT_SEQUENCE)));  // NOLINT
  ossl::X509StackPtr stack(raw);
  if (stack == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "malformed key attestation chain");
  }
  int n = sk_X509_num(stack.get());
  if (n < 1 || static_cast<size_t>(n) > kMaxChain) return Status(Reason::kDataInvalid, "bad key attestation chain length");
  std::vector<Bytes> out;
  for (int i = 0; i < n; ++i) {
    CV_ASSIGN_OR_RETURN(Bytes c, (ossl::ToDer<X509, i2d_X509>(sk_X509_value(stack.get(), i), "i2d_X509")));
    out.push_back(std::move(c));
  }
  return out;
}

Result<KeyAttestation> VerifyKeyAttestation(std::span<const Bytes> chain, EVP_PKEY* key, X509_STORE* roots) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  if (chain.size() < 2) return Denied("the chain needs the attestation and the vault identity certificate");
  if (roots == nullptr) return Denied("no attestation roots are configured");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> att, Parse(chain[0]));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> identity, Parse(chain[1]));
  ossl::X509StackPtr untrusted(sk_X509_new_null());
  if (untrusted == nullptr) return ossl::OpenSslError("sk_X509_new_null");
  for (size_t i = 2; i < chain.size(); ++i) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> x, Parse(chain[i]));
    if (sk_X509_push(untrusted.get(), x.get()) <= 0) return ossl::OpenSslError("sk_X509_push");
    x.release();  // owned by untrusted
  }
  CV_RETURN_IF_ERROR(CheckAttestationCert(att.get(), identity.get(), key));
  CV_ASSIGN_OR_RETURN(int depth, VerifyIdentity(identity.get(), untrusted.get(), roots));
  if (depth > 1 && !HasEku(identity.get(), nids->kp_vault_identity)) {
    return Denied("the signer is not a vault identity (cvVaultIdentity extendedKeyUsage)");
  }
  Result<KeyAttestation> a = ReadAttestation(att.get());
  if (!a.ok()) return Denied(std::string(a.status().message()));
  if (a->origin != 1) return Denied("the key was not generated inside the vault");
  if (!a->never_extractable || !a->always_sensitive) return Denied("the key is or was extractable");
  return a;
}

}  // namespace certvault::provision
