// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cmp/cmp_genm.h"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

// The types, in the global namespace as OpenSSL's macros expect (names
// prefixed CV_ so they never meet OpenSSL ≥ 3.2's own).
typedef struct cv_root_ca_key_update_st {  // NOLINT(modernize-use-using): the ASN.1 macros need a C struct
  X509* new_with_new;
  X509* new_with_old;
  X509* old_with_new;
} CV_ROOTCAKEYUPDATE;

ASN1_SEQUENCE(CV_ROOTCAKEYUPDATE) = {
    ASN1_SIMPLE(CV_ROOTCAKEYUPDATE, new_with_new, X509),
    ASN1_EXP_OPT(CV_ROOTCAKEYUPDATE, new_with_old, X509, 0),
    ASN1_EXP_OPT(CV_ROOTCAKEYUPDATE, old_with_new, X509, 1),
} ASN1_SEQUENCE_END(CV_ROOTCAKEYUPDATE)
IMPLEMENT_ASN1_FUNCTIONS(CV_ROOTCAKEYUPDATE)

typedef struct cv_crl_source_st {  // NOLINT(modernize-use-using)
  int type;
  union {
    DIST_POINT_NAME* dpn;
    GENERAL_NAMES* issuer;
  } value;
} CV_CRLSOURCE;

ASN1_CHOICE(CV_CRLSOURCE) = {
    ASN1_EXP(CV_CRLSOURCE, value.dpn, DIST_POINT_NAME, 0),
    ASN1_EXP_SEQUENCE_OF(CV_CRLSOURCE, value.issuer, GENERAL_NAME, 1),
} ASN1_CHOICE_END(CV_CRLSOURCE)
IMPLEMENT_ASN1_FUNCTIONS(CV_CRLSOURCE)

typedef struct cv_crl_status_st {  // NOLINT(modernize-use-using)
  CV_CRLSOURCE* source;
  ASN1_TIME* this_update;
} CV_CRLSTATUS;

ASN1_SEQUENCE(CV_CRLSTATUS) = {
    ASN1_SIMPLE(CV_CRLSTATUS, source, CV_CRLSOURCE),
    ASN1_OPT(CV_CRLSTATUS, this_update, ASN1_TIME),
} ASN1_SEQUENCE_END(CV_CRLSTATUS)
IMPLEMENT_ASN1_FUNCTIONS(CV_CRLSTATUS)
DEFINE_STACK_OF(CV_CRLSTATUS)

ASN1_ITEM_TEMPLATE(CV_CRLSTATUSLIST) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, CrlStatusList, CV_CRLSTATUS)
ASN1_ITEM_TEMPLATE_END(CV_CRLSTATUSLIST)

ASN1_ITEM_TEMPLATE(CV_CRLS) = ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, Crls, X509_CRL)
ASN1_ITEM_TEMPLATE_END(CV_CRLS)

namespace certvault::ossl {
CV_OSSL_DELETER(CV_ROOTCAKEYUPDATE, CV_ROOTCAKEYUPDATE_free)
CV_OSSL_DELETER(CV_CRLSTATUS, CV_CRLSTATUS_free)
}  // namespace certvault::ossl

namespace certvault::ca::cmp {
namespace {

struct StatusListFree {
  void operator()(STACK_OF(CV_CRLSTATUS) * s) const { sk_CV_CRLSTATUS_pop_free(s, CV_CRLSTATUS_free); }
};
struct CrlStackFree {
  void operator()(STACK_OF(X509_CRL) * s) const { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};

// ItemDer: `value` encoded as `it`.
Result<Bytes> ItemDer(const void* value, const ASN1_ITEM* it, const char* what) {
  unsigned char* buf = nullptr;
  int len = ASN1_item_i2d(static_cast<const ASN1_VALUE*>(value), &buf, it);
  if (len <= 0) return ossl::OpenSslError(what);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

// ItemFromDer: `der` decoded as `it`, all of it; kInvalidArgument otherwise.
// The caller owns the result (free with the type's own free function).
Result<ASN1_VALUE*> ItemFromDer(std::span<const uint8_t> der, const ASN1_ITEM* it, const char* what) {
  const unsigned char* p = der.data();
  ASN1_VALUE* v = ASN1_item_d2i(nullptr, &p, static_cast<long>(der.size()), it);  // NOLINT(runtime/int)
  if (v == nullptr || p != der.data() + der.size()) {
    if (v != nullptr) ASN1_item_free(v, it);
    ERR_clear_error();
    return InvalidArgumentError(std::string("malformed ") + what);
  }
  return v;
}

Result<X509*> CertFromDer(const Bytes& der) {
  const unsigned char* p = der.data();
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));  // NOLINT(runtime/int)
  if (c == nullptr || p != der.data() + der.size()) {
    X509_free(c);
    ERR_clear_error();
    return InvalidArgumentError("not a DER certificate");
  }
  return c;
}

Result<Bytes> CertDer(const X509* c) {
  if (c == nullptr) return Bytes();
  unsigned char* buf = nullptr;
  int len = i2d_X509(c, &buf);
  if (len <= 0) return ossl::OpenSslError("i2d_X509");
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

}  // namespace

Result<Bytes> EncodeRootCaKeyUpdate(const RootCaKeyUpdate& update) {
  ossl::UniquePtr<CV_ROOTCAKEYUPDATE> v(CV_ROOTCAKEYUPDATE_new());
  if (v == nullptr) return ossl::OpenSslError("CV_ROOTCAKEYUPDATE_new");
  // The structure owns what is assigned to it (CV_ROOTCAKEYUPDATE_free frees
  // the members); _new made an empty newWithNew, replaced here.
  X509_free(v->new_with_new);
  v->new_with_new = nullptr;
  CV_ASSIGN_OR_RETURN(v->new_with_new, CertFromDer(update.new_with_new));
  if (!update.new_with_old.empty()) {
    CV_ASSIGN_OR_RETURN(v->new_with_old, CertFromDer(update.new_with_old));
  }
  if (!update.old_with_new.empty()) {
    CV_ASSIGN_OR_RETURN(v->old_with_new, CertFromDer(update.old_with_new));
  }
  return ItemDer(v.get(), ASN1_ITEM_rptr(CV_ROOTCAKEYUPDATE), "i2d RootCaKeyUpdateContent");
}

Result<RootCaKeyUpdate> DecodeRootCaKeyUpdate(std::span<const uint8_t> der) {
  CV_ASSIGN_OR_RETURN(ASN1_VALUE * raw, ItemFromDer(der, ASN1_ITEM_rptr(CV_ROOTCAKEYUPDATE), "RootCaKeyUpdateContent"));
  ossl::UniquePtr<CV_ROOTCAKEYUPDATE> v(reinterpret_cast<CV_ROOTCAKEYUPDATE*>(raw));
  RootCaKeyUpdate out;
  CV_ASSIGN_OR_RETURN(out.new_with_new, CertDer(v->new_with_new));
  CV_ASSIGN_OR_RETURN(out.new_with_old, CertDer(v->new_with_old));
  CV_ASSIGN_OR_RETURN(out.old_with_new, CertDer(v->old_with_new));
  return out;
}

namespace {

// SourceOf: a CRLSource of URIs (dpn fullName) or directory names (issuer).
Result<CV_CRLSOURCE*> SourceOf(const CrlStatus& s) {
  if (s.dpn_uris.empty() == s.issuers.empty()) return InvalidArgumentError("a CRLStatus names a dpn or an issuer");
  ossl::UniquePtr<GENERAL_NAMES> names(GENERAL_NAMES_new());
  for (const std::string& uri : s.dpn_uris) {
    ossl::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (gn == nullptr || ia5 == nullptr || ASN1_STRING_set(ia5, uri.data(), static_cast<int>(uri.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return ossl::OpenSslError("GENERAL_NAME uri");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_URI, ia5);  // owned by `gn`
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) return ossl::OpenSslError("sk_GENERAL_NAME_push");
    (void)gn.release();  // owned by `names`
  }
  for (const Bytes& der : s.issuers) {
    const unsigned char* p = der.data();
    X509_NAME* name = d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size()));  // NOLINT(runtime/int)
    ossl::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
    if (name == nullptr || gn == nullptr) {
      X509_NAME_free(name);
      return InvalidArgumentError("an issuer is not a DER Name");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DIRNAME, name);  // owned by `gn`
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) return ossl::OpenSslError("sk_GENERAL_NAME_push");
    (void)gn.release();  // owned by `names`
  }
  CV_CRLSOURCE* src = CV_CRLSOURCE_new();
  if (src == nullptr) return ossl::OpenSslError("CV_CRLSOURCE_new");
  if (s.issuers.empty()) {
    src->type = 0;
    src->value.dpn = DIST_POINT_NAME_new();
    if (src->value.dpn == nullptr) {
      CV_CRLSOURCE_free(src);
      return ossl::OpenSslError("DIST_POINT_NAME_new");
    }
    src->value.dpn->type = 0;                          // fullName
    src->value.dpn->name.fullname = names.release();  // owned by `src`
  } else {
    src->type = 1;
    src->value.issuer = names.release();  // owned by `src`
  }
  return src;
}

}  // namespace

Result<Bytes> EncodeCrlStatusList(const std::vector<CrlStatus>& list) {
  if (list.empty()) return InvalidArgumentError("CRLStatusList: SIZE (1..MAX)");
  std::unique_ptr<STACK_OF(CV_CRLSTATUS), StatusListFree> stack(sk_CV_CRLSTATUS_new_null());
  for (const CrlStatus& s : list) {
    ossl::UniquePtr<CV_CRLSTATUS> st(CV_CRLSTATUS_new());
    if (st == nullptr) return ossl::OpenSslError("CV_CRLSTATUS_new");
    CV_CRLSOURCE_free(st->source);  // the empty CHOICE _new made
    st->source = nullptr;
    CV_ASSIGN_OR_RETURN(st->source, SourceOf(s));  // owned by `st`
    if (s.this_update.has_value()) {
      st->this_update = ASN1_TIME_set(nullptr, static_cast<time_t>(*s.this_update));  // owned by `st`
      if (st->this_update == nullptr) return ossl::OpenSslError("ASN1_TIME_set");
    }
    if (sk_CV_CRLSTATUS_push(stack.get(), st.get()) <= 0) return ossl::OpenSslError("sk push");
    (void)st.release();  // owned by `stack`
  }
  return ItemDer(stack.get(), ASN1_ITEM_rptr(CV_CRLSTATUSLIST), "i2d CRLStatusList");
}

Result<std::vector<CrlStatus>> DecodeCrlStatusList(std::span<const uint8_t> der) {
  CV_ASSIGN_OR_RETURN(ASN1_VALUE * raw, ItemFromDer(der, ASN1_ITEM_rptr(CV_CRLSTATUSLIST), "CRLStatusList"));
  std::unique_ptr<STACK_OF(CV_CRLSTATUS), StatusListFree> stack(reinterpret_cast<STACK_OF(CV_CRLSTATUS)*>(raw));
  if (sk_CV_CRLSTATUS_num(stack.get()) <= 0) return InvalidArgumentError("CRLStatusList: SIZE (1..MAX)");
  std::vector<CrlStatus> out;
  for (int i = 0; i < sk_CV_CRLSTATUS_num(stack.get()); ++i) {
    const CV_CRLSTATUS* st = sk_CV_CRLSTATUS_value(stack.get(), i);
    CrlStatus s;
    const GENERAL_NAMES* names = nullptr;
    if (st->source->type == 0 && st->source->value.dpn->type == 0) names = st->source->value.dpn->name.fullname;
    if (st->source->type == 1) names = st->source->value.issuer;
    for (int j = 0; names != nullptr && j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type == GEN_URI && st->source->type == 0) {
        s.dpn_uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
                                static_cast<size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
      } else if (gn->type == GEN_DIRNAME && st->source->type == 1) {
        unsigned char* buf = nullptr;
        int len = i2d_X509_NAME(gn->d.directoryName, &buf);
        if (len > 0) s.issuers.emplace_back(buf, buf + len);
        OPENSSL_free(buf);
      }
    }
    if (st->this_update != nullptr) {
      struct tm tm {};
      if (ASN1_TIME_to_tm(st->this_update, &tm) != 1) return InvalidArgumentError("CRLStatus: bad thisUpdate");
      s.this_update = static_cast<int64_t>(timegm(&tm));
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<Bytes> EncodeCrls(const std::vector<Bytes>& crls) {
  if (crls.empty()) return InvalidArgumentError("CRLs: SIZE (1..MAX)");
  std::unique_ptr<STACK_OF(X509_CRL), CrlStackFree> stack(sk_X509_CRL_new_null());
  for (const Bytes& der : crls) {
    const unsigned char* p = der.data();
    ossl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
    if (crl == nullptr) return InvalidArgumentError("not a DER CRL");
    if (sk_X509_CRL_push(stack.get(), crl.get()) <= 0) return ossl::OpenSslError("sk_X509_CRL_push");
    (void)crl.release();  // owned by `stack`
  }
  return ItemDer(stack.get(), ASN1_ITEM_rptr(CV_CRLS), "i2d CRLs");
}

Result<std::vector<Bytes>> DecodeCrls(std::span<const uint8_t> der) {
  CV_ASSIGN_OR_RETURN(ASN1_VALUE * raw, ItemFromDer(der, ASN1_ITEM_rptr(CV_CRLS), "CRLs"));
  std::unique_ptr<STACK_OF(X509_CRL), CrlStackFree> stack(reinterpret_cast<STACK_OF(X509_CRL)*>(raw));
  std::vector<Bytes> out;
  for (int i = 0; i < sk_X509_CRL_num(stack.get()); ++i) {
    unsigned char* buf = nullptr;
    int len = i2d_X509_CRL(sk_X509_CRL_value(stack.get(), i), &buf);
    if (len <= 0) return ossl::OpenSslError("i2d_X509_CRL");
    out.emplace_back(buf, buf + len);
    OPENSSL_free(buf);
  }
  if (out.empty()) return InvalidArgumentError("CRLs: SIZE (1..MAX)");
  return out;
}

}  // namespace certvault::ca::cmp
