// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provision/cms_util.h"

#include <openssl/objects.h>

#include <algorithm>
#include <ctime>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"

namespace certvault::provision::internal {
namespace {

Status Malformed(std::string_view what) { return Status(Reason::kDataInvalid, std::string(what)); }

// GetAttr: the value of signed attribute `nid`, which must occur once and be of `type`.
Result<void*> GetAttr(CMS_SignerInfo* si, int nid, int type) {
  // -3: "the attribute must be present exactly once" (X509at_get0_data_by_OBJ).
  void* v = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3, type);
  if (v == nullptr) {
    ossl::ClearErrors();
    return Malformed(std::string("signed attribute ") + OBJ_nid2sn(nid) + " missing, repeated or mistyped");
  }
  return v;
}

// DerCursor: a walk over DER TLVs with OpenSSL's header parser
// (ASN1_get_object), to read the two version fields that OpenSSL's CMS API
// does not expose.
struct DerCursor {
  const unsigned char* p;
  long left;  // NOLINT(runtime/int)
  // Enter: reads a header and stays at the start of its value.
  bool Enter(int want_tag, long* out_len = nullptr) {  // NOLINT(runtime/int)
    const unsigned char* start = p;
    long len = 0;  // NOLINT(runtime/int)
    int tag = 0, cls = 0;
    if ((ASN1_get_object(&p, &len, &tag, &cls, left) & 0x80) != 0 || (want_tag >= 0 && tag != want_tag)) return false;
    left -= static_cast<long>(p - start);  // NOLINT(runtime/int)
    if (out_len != nullptr) *out_len = len;
    return len <= left;
  }
  // Skip: steps over one whole element.
  bool Skip() {
    long len = 0;  // NOLINT(runtime/int)
    if (!Enter(-1, &len)) return false;
    p += len;
    left -= len;
    return true;
  }
  // SmallInt: an INTEGER of one content byte.
  bool SmallInt(int* out) {
    long len = 0;  // NOLINT(runtime/int)
    if (!Enter(V_ASN1_INTEGER, &len) || len != 1) return false;
    *out = *p++;
    --left;
    return true;
  }
};

// Versions: SignedData's and its first SignerInfo's (RFC 5652 §5.1, §5.3).
Status Versions(std::span<const uint8_t> der, int* signed_data, int* signer_info) {
  DerCursor c{der.data(), static_cast<long>(der.size())};  // NOLINT(runtime/int)
  long sd_len = 0;                                         // NOLINT(runtime/int)
  // ContentInfo { contentType, [0] SignedData { version, digestAlgorithms,
  // encapContentInfo, [0] certificates OPTIONAL, [1] crls OPTIONAL, signerInfos } }
  if (!c.Enter(V_ASN1_SEQUENCE) || !c.Skip() || !c.Enter(0) || !c.Enter(V_ASN1_SEQUENCE, &sd_len) ||
      !c.SmallInt(signed_data) || !c.Skip() || !c.Skip()) {
    return Malformed("bad SignedData");
  }
  for (int i = 0; i < 3; ++i) {  // certificates, crls, then the signerInfos SET
    DerCursor peek = c;
    long len = 0;  // NOLINT(runtime/int)
    if (peek.Enter(V_ASN1_SET, &len)) {
      c = peek;
      if (!c.Enter(V_ASN1_SEQUENCE) || !c.SmallInt(signer_info)) return Malformed("bad SignerInfo");
      return OkStatus();
    }
    if (!c.Skip()) break;
  }
  return Malformed("no signerInfos");
}

// CheckStrict: what CMS_verify does not look at but an attacker could flip
// without breaking the signature must still be exactly what we write
// (docs/formats/update-package.md, "Strict parsing"): DER (re-encoding
// gives the same bytes), SignedData version 3 (RFC 5652 §5.1: eContentType is
// not id-data), a sid naming the signer's certificate, and a signature
// algorithm agreeing with the digest algorithm and the signer's key.
Status CheckStrict(std::span<const uint8_t> der, CMS_ContentInfo* cms, CMS_SignerInfo* si, X509* signer) {
  CV_ASSIGN_OR_RETURN(Bytes again, (ossl::ToDer<CMS_ContentInfo, i2d_CMS_ContentInfo>(cms, "i2d_CMS_ContentInfo")));
  if (again.size() != der.size() || !std::equal(again.begin(), again.end(), der.begin())) {
    return Malformed("not DER");
  }
  int sd_version = 0, si_version = 0;
  CV_RETURN_IF_ERROR(Versions(der, &sd_version, &si_version));
  // sid is issuerAndSerialNumber: SignerInfo version 1 (§5.3).
  if (sd_version != 3 || si_version != 1) return Malformed("SignedData/SignerInfo version is not 3/1");
  if (CMS_SignerInfo_cert_cmp(si, signer) != 0) return Malformed("the SignerInfo does not name its certificate");
  X509_ALGOR* dig = nullptr;
  X509_ALGOR* sig = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &dig, &sig);
  int sig_dig = NID_undef, sig_pk = NID_undef;
  if (dig == nullptr || sig == nullptr ||
      OBJ_find_sigid_algs(OBJ_obj2nid(sig->algorithm), &sig_dig, &sig_pk) != 1 ||
      sig_dig != OBJ_obj2nid(dig->algorithm) || sig_pk != EVP_PKEY_get_base_id(X509_get0_pubkey(signer))) {
    return Malformed("signature algorithm does not match the digest and key");
  }
  return OkStatus();
}

}  // namespace

Result<Bytes> SignCms(int content_nid, std::span<const uint8_t> content, const CmsSigner& signer,
                      const AttrFn& add_attrs) {
  if (signer.key == nullptr || signer.cert == nullptr) return InvalidArgumentError("no signer");
  ossl::UniquePtr<BIO> in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  const unsigned flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;
  ossl::UniquePtr<CMS_ContentInfo> cms(
      CMS_sign_ex(nullptr, nullptr, signer.chain, nullptr, flags, crypto::LibCtx(), crypto::kPropq));
  if (in == nullptr || cms == nullptr) return ossl::OpenSslError("CMS_sign_ex");
  if (CMS_set1_eContentType(cms.get(), OBJ_nid2obj(content_nid)) != 1) return ossl::OpenSslError("CMS_set1_eContentType");
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.cert, signer.key, crypto::DigestByName("SHA256"), flags);
  if (si == nullptr) return ossl::OpenSslError("CMS_add1_signer");
  if (add_attrs) CV_RETURN_IF_ERROR(add_attrs(si));
  if (CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) return ossl::OpenSslError("CMS_final");
  return ossl::ToDer<CMS_ContentInfo, i2d_CMS_ContentInfo>(cms.get(), "i2d_CMS_ContentInfo");
}

Result<CmsVerified> VerifyCms(std::span<const uint8_t> der, int content_nid, X509_STORE* roots) {
  CmsVerified v;
  const unsigned char* p = der.data();
  v.cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (v.cms == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Malformed("not one DER CMS ContentInfo");
  }
  if (OBJ_obj2nid(CMS_get0_type(v.cms.get())) != NID_pkcs7_signed ||
      OBJ_obj2nid(CMS_get0_eContentType(v.cms.get())) != content_nid) {
    return Malformed(std::string("not a SignedData of ") + OBJ_nid2sn(content_nid));
  }
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(v.cms.get());
  if (sk_CMS_SignerInfo_num(sis) != 1) return Malformed("a SignedData with other than one SignerInfo");
  ASN1_OCTET_STRING** pos = CMS_get0_content(v.cms.get());
  if (pos == nullptr || *pos == nullptr) return Malformed("detached content");
  ossl::UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  const unsigned flags = CMS_BINARY | (roots == nullptr ? CMS_NO_SIGNER_CERT_VERIFY : 0);
  if (out == nullptr || CMS_verify(v.cms.get(), nullptr, roots, nullptr, out.get(), flags) != 1) {
    return ossl::OpenSslError("CMS_verify", Reason::kSignatureInvalid);
  }
  const uint8_t* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);  // NOLINT(runtime/int)
  if (n < 0) return ossl::OpenSslError("BIO_get_mem_data");
  v.content.assign(data, data + n);
  v.signer_info = sk_CMS_SignerInfo_value(sis, 0);
  X509* signer = nullptr;
  CMS_SignerInfo_get0_algs(v.signer_info, nullptr, &signer, nullptr, nullptr);
  if (signer == nullptr) return Malformed("no signer certificate");
  CV_RETURN_IF_ERROR(CheckStrict(der, v.cms.get(), v.signer_info, signer));
  v.signer = ossl::UpRef(signer);
  return v;
}

Status AddUtf8Attr(CMS_SignerInfo* si, int nid, std::string_view value) {
  if (CMS_signed_add1_attr_by_NID(si, nid, V_ASN1_UTF8STRING, value.data(), static_cast<int>(value.size())) != 1) {
    return ossl::OpenSslError("CMS_signed_add1_attr_by_NID");
  }
  return OkStatus();
}

Status AddOctetAttr(CMS_SignerInfo* si, int nid, std::span<const uint8_t> value) {
  if (CMS_signed_add1_attr_by_NID(si, nid, V_ASN1_OCTET_STRING, value.data(), static_cast<int>(value.size())) != 1) {
    return ossl::OpenSslError("CMS_signed_add1_attr_by_NID");
  }
  return OkStatus();
}

Status AddIntegerAttr(CMS_SignerInfo* si, int nid, uint64_t value) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> v, FromU64(value));
  // len -1: `v` is an ASN1_INTEGER object, copied (X509_ATTRIBUTE_set1_data).
  if (CMS_signed_add1_attr_by_NID(si, nid, V_ASN1_INTEGER, v.get(), -1) != 1) {
    return ossl::OpenSslError("CMS_signed_add1_attr_by_NID");
  }
  return OkStatus();
}

Status AddTimeAttr(CMS_SignerInfo* si, int nid, int64_t unix_seconds) {
  ossl::UniquePtr<ASN1_STRING> t(ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(unix_seconds)));
  if (t == nullptr || CMS_signed_add1_attr_by_NID(si, nid, V_ASN1_GENERALIZEDTIME, t.get(), -1) != 1) {
    return ossl::OpenSslError("CMS_signed_add1_attr_by_NID");
  }
  return OkStatus();
}

Result<std::string> GetUtf8Attr(CMS_SignerInfo* si, int nid) {
  CV_ASSIGN_OR_RETURN(void* v, GetAttr(si, nid, V_ASN1_UTF8STRING));
  return ToString(static_cast<ASN1_STRING*>(v));
}

Result<Bytes> GetOctetAttr(CMS_SignerInfo* si, int nid) {
  CV_ASSIGN_OR_RETURN(void* v, GetAttr(si, nid, V_ASN1_OCTET_STRING));
  const ASN1_STRING* s = static_cast<ASN1_STRING*>(v);
  return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

Result<uint64_t> GetIntegerAttr(CMS_SignerInfo* si, int nid) {
  CV_ASSIGN_OR_RETURN(void* v, GetAttr(si, nid, V_ASN1_INTEGER));
  return ToU64(static_cast<ASN1_INTEGER*>(v));
}

Result<int64_t> GetTimeAttr(CMS_SignerInfo* si, int nid) {
  CV_ASSIGN_OR_RETURN(void* v, GetAttr(si, nid, V_ASN1_GENERALIZEDTIME));
  struct tm tm = {};
  if (ASN1_TIME_to_tm(static_cast<ASN1_TIME*>(v), &tm) != 1) {
    ossl::ClearErrors();
    return Malformed("bad GeneralizedTime");
  }
  return static_cast<int64_t>(timegm(&tm));
}

Result<uint64_t> ToU64(const ASN1_INTEGER* v) {
  uint64_t out = 0;
  if (v == nullptr || ASN1_INTEGER_get_uint64(&out, v) != 1) {
    ossl::ClearErrors();
    return Malformed("INTEGER out of range");
  }
  return out;
}

Result<ossl::UniquePtr<ASN1_INTEGER>> FromU64(uint64_t value) {
  ossl::UniquePtr<ASN1_INTEGER> v(ASN1_INTEGER_new());
  if (v == nullptr || ASN1_INTEGER_set_uint64(v.get(), value) != 1) return ossl::OpenSslError("ASN1_INTEGER_set_uint64");
  return v;
}

std::string ToString(const ASN1_STRING* s) {
  if (s == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
}

Status SetString(ASN1_STRING* s, std::span<const uint8_t> v) {
  if (ASN1_STRING_set(s, v.data(), static_cast<int>(v.size())) != 1) return ossl::OpenSslError("ASN1_STRING_set");
  return OkStatus();
}

}  // namespace certvault::provision::internal
