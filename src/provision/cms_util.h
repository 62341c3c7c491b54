// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CMS SignedData helpers shared by the request, package and receipt code
// (internal to src/provision). All encoding is OpenSSL's CMS code.
#ifndef CERTVAULT_PROVISION_CMS_UTIL_H_
#define CERTVAULT_PROVISION_CMS_UTIL_H_

#include <openssl/cms.h>

#include <functional>

#include "src/provision/provision.h"

namespace certvault::ossl {
CV_OSSL_DELETER(CMS_ContentInfo, CMS_ContentInfo_free)
}  // namespace certvault::ossl

namespace certvault::provision::internal {

// SignCms: SignedData (SHA-256, signed attributes, the signer's certificate
// and `chain` included) over `content` with eContentType `content_nid`.
// `add_attrs` adds further signed attributes to the SignerInfo.
using AttrFn = std::function<Status(CMS_SignerInfo*)>;
Result<Bytes> SignCms(int content_nid, std::span<const uint8_t> content, const CmsSigner& signer,
                      const AttrFn& add_attrs);

// CmsVerified: a SignedData whose one signature verified.
struct CmsVerified {
  ossl::UniquePtr<CMS_ContentInfo> cms;
  Bytes content;
  ossl::UniquePtr<X509> signer;
  CMS_SignerInfo* signer_info = nullptr;  // owned by cms
};
// VerifyCms: parses `der`, requires eContentType `content_nid` and exactly one
// SignerInfo, verifies its signature with the certificate the message carries
// and, if `roots` is not null, that certificate's chain to `roots`.
Result<CmsVerified> VerifyCms(std::span<const uint8_t> der, int content_nid, X509_STORE* roots);

// Signed attribute helpers: the attribute must occur exactly once.
Status AddUtf8Attr(CMS_SignerInfo* si, int nid, std::string_view value);
Status AddOctetAttr(CMS_SignerInfo* si, int nid, std::span<const uint8_t> value);
Status AddIntegerAttr(CMS_SignerInfo* si, int nid, uint64_t value);
Status AddTimeAttr(CMS_SignerInfo* si, int nid, int64_t unix_seconds);
Result<std::string> GetUtf8Attr(CMS_SignerInfo* si, int nid);
Result<Bytes> GetOctetAttr(CMS_SignerInfo* si, int nid);
Result<uint64_t> GetIntegerAttr(CMS_SignerInfo* si, int nid);
Result<int64_t> GetTimeAttr(CMS_SignerInfo* si, int nid);

// Small ASN.1 conversions (kDataInvalid on out-of-range values).
Result<uint64_t> ToU64(const ASN1_INTEGER* v);
Result<ossl::UniquePtr<ASN1_INTEGER>> FromU64(uint64_t v);
std::string ToString(const ASN1_STRING* s);
Status SetString(ASN1_STRING* s, std::span<const uint8_t> v);

}  // namespace certvault::provision::internal

#endif  // CERTVAULT_PROVISION_CMS_UTIL_H_
