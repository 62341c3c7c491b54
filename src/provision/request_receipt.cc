// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// UpdateRequest and UpdateReceipt (docs/formats/update-package.md §2, §4):
// our DER content inside a SignedData by the vault's identity key.
#include <openssl/evp.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/asn1.h"
#include "src/provision/cms_util.h"

namespace certvault::provision {
namespace {

using internal::FromU64;
using internal::SetString;
using internal::ToString;
using internal::ToU64;

constexpr uint64_t kVersion = 1;

Status Malformed(std::string_view what) { return Status(Reason::kDataInvalid, std::string(what)); }

template <typename T>
Result<ossl::UniquePtr<T>> ParseWhole(std::span<const uint8_t> der, T* (*d2i)(T**, const unsigned char**, long),
                                      const char* what) {  // NOLINT(runtime/int)
  const unsigned char* p = der.data();
  ossl::UniquePtr<T> v(d2i(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (v == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Malformed(std::string("malformed ") + what);
  }
  return v;
}

Result<Bytes> EncodeRequest(const UpdateRequest& r) {
  if (r.nonce.size() < 16 || r.nonce.size() > 64) return InvalidArgumentError("nonce must be 16..64 bytes");
  ossl::UniquePtr<CV_UPDATE_REQUEST> req(CV_UPDATE_REQUEST_new());
  if (req == nullptr) return ossl::OpenSslError("CV_UPDATE_REQUEST_new");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> version, FromU64(kVersion));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> counter, FromU64(r.counter));
  ASN1_INTEGER_free(req->version);
  req->version = version.release();  // owned by req
  ASN1_INTEGER_free(req->counter);
  req->counter = counter.release();  // owned by req
  CV_RETURN_IF_ERROR(SetString(req->token_serial, AsSpan(r.token_serial)));
  CV_RETURN_IF_ERROR(SetString(req->nonce, r.nonce));
  const unsigned char* p = r.transport_cert.data();
  X509* cert = crypto::D2iX509(&p, static_cast<long>(r.transport_cert.size()));  // NOLINT(runtime/int)
  if (cert == nullptr) return ossl::OpenSslError("d2i_X509", Reason::kDataInvalid);
  X509_free(req->transport_cert);
  req->transport_cert = cert;  // owned by req
  if (!r.label.empty()) {
    req->label = ASN1_UTF8STRING_new();
    if (req->label == nullptr) return ossl::OpenSslError("ASN1_UTF8STRING_new");
    CV_RETURN_IF_ERROR(SetString(req->label, AsSpan(r.label)));
  }
  return ossl::ToDer<CV_UPDATE_REQUEST, i2d_CV_UPDATE_REQUEST>(req.get(), "i2d_CV_UPDATE_REQUEST");
}

Result<UpdateRequest> DecodeRequest(std::span<const uint8_t> der) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<CV_UPDATE_REQUEST> req,
                      ParseWhole<CV_UPDATE_REQUEST>(der, d2i_CV_UPDATE_REQUEST, "UpdateRequest"));
  CV_ASSIGN_OR_RETURN(uint64_t version, ToU64(req->version));
  if (version != kVersion) return Malformed("unknown UpdateRequest version");
  UpdateRequest r;
  r.token_serial = ToString(req->token_serial);
  CV_ASSIGN_OR_RETURN(r.counter, ToU64(req->counter));
  r.nonce.assign(ASN1_STRING_get0_data(req->nonce), ASN1_STRING_get0_data(req->nonce) + ASN1_STRING_length(req->nonce));
  if (r.nonce.size() < 16 || r.nonce.size() > 64) return Malformed("nonce must be 16..64 bytes");
  CV_ASSIGN_OR_RETURN(r.transport_cert, (ossl::ToDer<X509, i2d_X509>(req->transport_cert, "i2d_X509")));
  r.label = ToString(req->label);
  return r;
}

Result<Bytes> EncodeReceipt(const UpdateReceipt& r) {
  ossl::UniquePtr<CV_UPDATE_RECEIPT> rc(CV_UPDATE_RECEIPT_new());
  if (rc == nullptr) return ossl::OpenSslError("CV_UPDATE_RECEIPT_new");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> version, FromU64(kVersion));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> counter, FromU64(r.counter));
  ASN1_INTEGER_free(rc->version);
  rc->version = version.release();  // owned by rc
  ASN1_INTEGER_free(rc->counter);
  rc->counter = counter.release();  // owned by rc
  CV_RETURN_IF_ERROR(SetString(rc->token_serial, AsSpan(r.token_serial)));
  CV_RETURN_IF_ERROR(SetString(rc->package_hash, r.package_hash));
  CV_RETURN_IF_ERROR(SetString(rc->key_id, r.key_id));
  CV_RETURN_IF_ERROR(SetString(rc->result, AsSpan(r.result)));
  return ossl::ToDer<CV_UPDATE_RECEIPT, i2d_CV_UPDATE_RECEIPT>(rc.get(), "i2d_CV_UPDATE_RECEIPT");
}

Result<UpdateReceipt> DecodeReceipt(std::span<const uint8_t> der) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<CV_UPDATE_RECEIPT> rc,
                      ParseWhole<CV_UPDATE_RECEIPT>(der, d2i_CV_UPDATE_RECEIPT, "UpdateReceipt"));
  CV_ASSIGN_OR_RETURN(uint64_t version, ToU64(rc->version));
  if (version != kVersion) return Malformed("unknown UpdateReceipt version");
  UpdateReceipt r;
  r.token_serial = ToString(rc->token_serial);
  CV_ASSIGN_OR_RETURN(r.counter, ToU64(rc->counter));
  std::string hash = ToString(rc->package_hash);
  r.package_hash.assign(hash.begin(), hash.end());
  std::string key_id = ToString(rc->key_id);
  r.key_id.assign(key_id.begin(), key_id.end());
  r.result = ToString(rc->result);
  return r;
}

}  // namespace

Result<Bytes> SignUpdateRequest(const UpdateRequest& request, const CmsSigner& identity) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  CV_ASSIGN_OR_RETURN(Bytes content, EncodeRequest(request));
  return internal::SignCms(nids->ct_request, content, identity, nullptr);
}

Result<VerifiedRequest> VerifyUpdateRequest(std::span<const uint8_t> der, X509_STORE* identity_roots) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  CV_ASSIGN_OR_RETURN(internal::CmsVerified v, internal::VerifyCms(der, nids->ct_request, identity_roots));
  VerifiedRequest out;
  CV_ASSIGN_OR_RETURN(out.request, DecodeRequest(v.content));
  const unsigned char* p = out.request.transport_cert.data();
  ossl::UniquePtr<X509> transport(crypto::D2iX509(&p, static_cast<long>(out.request.transport_cert.size())));  // NOLINT
  if (transport == nullptr || X509_verify(transport.get(), X509_get0_pubkey(v.signer.get())) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kSignatureInvalid, "the transport certificate is not signed by the identity key");
  }
  out.identity_cert = std::move(v.signer);
  return out;
}

Result<Bytes> SignUpdateReceipt(const UpdateReceipt& receipt, const CmsSigner& identity) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  CV_ASSIGN_OR_RETURN(Bytes content, EncodeReceipt(receipt));
  return internal::SignCms(nids->ct_receipt, content, identity, nullptr);
}

Result<VerifiedReceipt> VerifyUpdateReceipt(std::span<const uint8_t> der, X509* identity) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  CV_ASSIGN_OR_RETURN(internal::CmsVerified v, internal::VerifyCms(der, nids->ct_receipt, nullptr));
  if (identity != nullptr && X509_cmp(identity, v.signer.get()) != 0) {
    return Status(Reason::kSignatureInvalid, "the receipt is not signed by the vault's identity certificate");
  }
  VerifiedReceipt out;
  CV_ASSIGN_OR_RETURN(out.receipt, DecodeReceipt(v.content));
  out.identity_cert = std::move(v.signer);
  return out;
}

Result<Bytes> Sha256(std::span<const uint8_t> data) {
  Bytes out(32);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, crypto::DigestByName("SHA256"), nullptr) != 1) {
    return ossl::OpenSslError("EVP_Digest");
  }
  return out;
}

}  // namespace certvault::provision
