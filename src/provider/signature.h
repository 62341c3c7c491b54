// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SigCtx: one SIGNATURE operation context (provider-signature(7)).
//
// Signing with a vault key: the provider hashes locally (private library
// context) and the vault signs the digest: CKM_ECDSA (r||s, returned as DER),
// CKM_RSA_PKCS over the DigestInfo, CKM_RSA_PKCS_PSS, or CKM_EDDSA over the
// whole message (EdDSA is one-shot). Verification needs only the public key
// and is done entirely by the default provider. The AlgorithmIdentifier
// (OSSL_SIGNATURE_PARAM_ALGORITHM_ID, needed by X.509/CSR/CMS signing) comes
// from a default-provider context on the public key set up with the same
// digest, padding and salt length, so the encoding is OpenSSL's own.
#ifndef CERTVAULT_PROVIDER_SIGNATURE_H_
#define CERTVAULT_PROVIDER_SIGNATURE_H_

#include <memory>
#include <string>

#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"
#include "src/provider/keydata.h"
#include "src/provider/sigalg.h"

namespace certvault::provider {

struct SigCtx {
  ProviderContext* prov = nullptr;
  std::string propq;
  KeyAlgo algo = KeyAlgo::kEc;  // the algorithm table this context belongs to
  std::shared_ptr<const VaultKey> key;
  bool signing = true;
  // Parameters.
  ossl::UniquePtr<EVP_MD> md;  // null: none set
  ossl::UniquePtr<EVP_MD> mgf1_md;
  int pad = kPadPkcs1;
  int saltlen = kSaltAuto;
  // Digest-sign state.
  ossl::UniquePtr<EVP_MD_CTX> hash;
  // Verification: a default-provider context on the public key.
  ossl::UniquePtr<EVP_PKEY_CTX> verify;
  ossl::UniquePtr<EVP_MD_CTX> digest_verify;
};

// SignDigest: the signature of `tbs` (a digest; for EdDSA the message) into
// `sig` (capacity `sigsize`), length in *siglen.
Status SignDigest(SigCtx& ctx, std::span<const uint8_t> tbs, uint8_t* sig, size_t* siglen, size_t sigsize);
// SetSignParams / GetSignParams: the parameters above, and the AlgorithmIdentifier.
Status SetSignParams(SigCtx& ctx, const OSSL_PARAM params[]);
Status GetSignParams(SigCtx& ctx, OSSL_PARAM params[]);
Status FetchDigest(SigCtx& ctx, const char* name, ossl::UniquePtr<EVP_MD>* out);

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_SIGNATURE_H_
