// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cmp/cmp_envelope.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "ca/der/der_reader.h"
#include "ca/der/der_writer.h"
#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca::cmp {
namespace {

using der::DerReader;
using Span = std::span<const uint8_t>;

constexpr uint8_t kCtx = 0xa0;  // [n] EXPLICIT, constructed: 0xa0 | n

Status Bad(const char* what) { return InvalidArgumentError(std::string("malformed CMP message: ") + what); }

bool IsPbm(Span alg_id) {
  DerReader alg(alg_id);
  Span oid_whole;
  if (!alg.Expect(0x06, nullptr, &oid_whole)) return false;
  const uint8_t* p = oid_whole.data();
  ossl::UniquePtr<ASN1_OBJECT> oid(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(oid_whole.size())));  // NOLINT
  if (oid == nullptr) {
    ossl::ClearErrors();
    return false;
  }
  return OBJ_obj2nid(oid.get()) == NID_id_PasswordBasedMAC;
}

// ReadHeader: RFC 4210 §5.1.1 PKIHeader ::= SEQUENCE { pvno, sender,
// recipient, messageTime [0], protectionAlg [1], senderKID [2], recipKID
// [3], transactionID [4], ... } (EXPLICIT tags).
Status ReadHeader(Span header, Envelope& out) {
  DerReader h(header);
  uint8_t tag = 0;
  Span v, w;
  if (!h.Expect(0x02, &v) || !h.Next(&tag, &v, &w) || !h.Next(&tag, &v, &w)) return Bad("header");
  while (!h.empty()) {
    if (!h.Next(&tag, &v, &w)) return Bad("header field");
    DerReader inner(v);
    Span x;
    if (tag == (kCtx | 1)) {
      if (!inner.Expect(0x30, &x)) return Bad("protectionAlg");
      out.protected_ = true;
      out.pbm = IsPbm(x);
    } else if (tag == (kCtx | 2)) {
      if (!inner.Expect(0x04, &x)) return Bad("senderKID");
      out.sender_kid.assign(x.begin(), x.end());
    } else if (tag == (kCtx | 4)) {
      if (!inner.Expect(0x04, &x)) return Bad("transactionID");
      out.transaction_id.assign(x.begin(), x.end());
    }
  }
  return OkStatus();
}

}  // namespace

Result<Envelope> DecodeEnvelope(Span input) {
  DerReader top(input);
  Span msg, header, body_whole, body;
  uint8_t tag = 0;
  if (!top.Expect(0x30, &msg) || !top.empty()) return Bad("not one DER SEQUENCE");
  DerReader m(msg);
  if (!m.Expect(0x30, &header)) return Bad("header");
  Envelope out;
  CV_RETURN_IF_ERROR(ReadHeader(header, out));
  if (!m.Next(&tag, &body, &body_whole) || (tag & 0xe0) != kCtx) return Bad("body");
  out.body_type = tag & 0x1f;
  out.body = body;
  if (m.PeekTag() == (kCtx | 0)) {
    Span protection;
    if (!m.Expect(kCtx | 0, &protection)) return Bad("protection");
  }
  if (m.PeekTag() == (kCtx | 1)) {
    Span extra, seq;
    if (!m.Expect(kCtx | 1, &extra)) return Bad("extraCerts");
    DerReader e(extra);
    if (!e.Expect(0x30, &seq) || !e.empty()) return Bad("extraCerts");
    DerReader certs(seq);
    while (!certs.empty()) {
      Span cert, whole;
      if (!certs.Expect(0x30, &cert, &whole)) return Bad("extraCerts certificate");
      out.extra_certs.emplace_back(whole.begin(), whole.end());
    }
  }
  if (!m.empty()) return Bad("trailing data");
  return out;
}

Result<Bytes> TemplateSpki(const OSSL_CRMF_CERTTEMPLATE* tmpl) {
  unsigned char* buf = nullptr;
  int len = i2d_OSSL_CRMF_CERTTEMPLATE(tmpl, &buf);
  if (len <= 0) {
    ossl::ClearErrors();
    return InvalidArgumentError("malformed CertTemplate");
  }
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  DerReader top(der);
  Span fields;
  if (!top.Expect(0x30, &fields)) return InvalidArgumentError("malformed CertTemplate");
  DerReader f(fields);
  while (!f.empty()) {
    uint8_t tag = 0;
    Span v, w;
    if (!f.Next(&tag, &v, &w)) return InvalidArgumentError("malformed CertTemplate");
    // RFC 4211 §5: publicKey [6] SubjectPublicKeyInfo OPTIONAL (IMPLICIT TAGS).
    if (tag == (kCtx | 6)) return der::Wrap(der::kSequence, v);
  }
  return InvalidArgumentError("the certificate template has no public key");
}

Result<int> RevocationReason(Span rr_body) {
  // RFC 4210 §5.3.9: RevReqContent ::= SEQUENCE OF RevDetails;
  // RevDetails ::= SEQUENCE { certDetails CertTemplate, crlEntryDetails Extensions OPTIONAL }
  DerReader top(rr_body);
  Span details_seq, details, tmpl, exts_whole;
  if (!top.Expect(0x30, &details_seq)) return Bad("rr body");
  DerReader list(details_seq);
  if (!list.Expect(0x30, &details)) return Bad("RevDetails");
  DerReader d(details);
  if (!d.Expect(0x30, &tmpl)) return Bad("RevDetails certDetails");
  if (d.empty()) return 0;
  if (!d.Expect(0x30, nullptr, &exts_whole) || !d.empty()) return Bad("RevDetails crlEntryDetails");
  const uint8_t* p = exts_whole.data();
  STACK_OF(X509_EXTENSION)* exts = d2i_X509_EXTENSIONS(nullptr, &p, static_cast<long>(exts_whole.size()));  // NOLINT
  if (exts == nullptr) {
    ossl::ClearErrors();
    return Bad("crlEntryDetails");
  }
  int crit = 0;
  auto* reason = static_cast<ASN1_ENUMERATED*>(X509V3_get_d2i(exts, NID_crl_reason, &crit, nullptr));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  ossl::ClearErrors();
  if (reason == nullptr) return crit == -1 ? Result<int>(0) : Bad("crlEntryDetails reasonCode");
  long value = ASN1_ENUMERATED_get(reason);  // NOLINT(runtime/int)
  ASN1_ENUMERATED_free(reason);
  if (value < 0 || value > 10 || value == 7) return Bad("reasonCode out of range");
  return static_cast<int>(value);
}

}  // namespace certvault::ca::cmp
