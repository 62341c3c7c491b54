// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/cert_builder.h"

#include "ca/db/cert_db.h"
#include "ca/issuance/lint.h"
#include "ca/issuance/spki.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

std::string Join(const std::vector<std::string>& items, const std::string& prefix = "") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + prefix + item;
  return out;
}

Result<ossl::UniquePtr<X509_EXTENSION>> Ext(X509V3_CTX* ctx, int nid, const std::string& value) {
  ossl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (ext == nullptr) {
    return ossl::OpenSslError(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value, Reason::kArgumentsBad);
  }
  return ext;
}

// ConstantExtensionSpecs: (nid, OpenSSL config value) for everything the
// profile and ca.toml fix. RFC 5280 §4.2.1.9: basicConstraints critical in CA
// certificates (we mark it critical always); §4.2.1.3 key usage critical.
std::vector<std::pair<int, std::string>> ConstantExtensionSpecs(const Profile& p, const CaConfig& cfg) {
  std::vector<std::pair<int, std::string>> specs;
  std::string bc = p.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (p.is_ca && p.path_len >= 0) bc += ",pathlen:" + std::to_string(p.path_len);
  specs.emplace_back(NID_basic_constraints, bc);
  specs.emplace_back(NID_key_usage, "critical," + Join(p.key_usage));
  if (!p.extended_key_usage.empty()) specs.emplace_back(NID_ext_key_usage, Join(p.extended_key_usage));
  std::string nc;
  if (!p.permitted_names.empty()) nc += Join(p.permitted_names, "permitted;");
  if (!p.excluded_names.empty()) nc += (nc.empty() ? "" : ",") + Join(p.excluded_names, "excluded;");
  // RFC 5280 §4.2.1.10: "Conforming CAs MUST mark this extension as critical".
  if (!nc.empty()) specs.emplace_back(NID_name_constraints, "critical," + nc);
  // Partitioned CRLs: the CRL DP depends on the serial and is added per certificate.
  if (p.revocation_pointers && !cfg.crl_url.empty() && cfg.crl_partitions <= 1) {
    specs.emplace_back(NID_crl_distribution_points, "URI:" + cfg.crl_url);
  } else if (!p.revocation_pointers && !p.crl_dp.empty()) {
    specs.emplace_back(NID_crl_distribution_points, "URI:" + p.crl_dp);  // the issuing CA: the root's ARL
  }
  std::string aia;
  if (p.revocation_pointers && p.aia && !cfg.ocsp_url.empty()) aia = "OCSP;URI:" + cfg.ocsp_url;
  if (p.revocation_pointers && p.aia && !cfg.ca_issuers_url.empty()) {
    aia += (aia.empty() ? "" : ",") + std::string("caIssuers;URI:") + cfg.ca_issuers_url;
  }
  if (!aia.empty()) specs.emplace_back(NID_info_access, aia);
  if (p.ocsp_nocheck) specs.emplace_back(NID_id_pkix_OCSP_noCheck, "ignored");
  return specs;
}

// PoliciesExtension: certificatePolicies with bare policy OIDs (RFC 5280
// §4.2.1.4; no qualifiers), built directly: the config-string form needs a
// config database for anything beyond the simplest case.
Result<ossl::UniquePtr<X509_EXTENSION>> PoliciesExtension(const std::vector<std::string>& oids) {
  CERTIFICATEPOLICIES* pols = sk_POLICYINFO_new_null();
  if (pols == nullptr) return ossl::OpenSslError("sk_POLICYINFO_new_null");
  Status st;
  for (const std::string& oid : oids) {
    POLICYINFO* info = POLICYINFO_new();
    ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
    if (info == nullptr || obj == nullptr) {
      POLICYINFO_free(info);
      ASN1_OBJECT_free(obj);
      st = InvalidArgumentError("bad policy OID " + oid);
      break;
    }
    ASN1_OBJECT_free(info->policyid);
    info->policyid = obj;  // owned by info
    if (sk_POLICYINFO_push(pols, info) <= 0) {
      POLICYINFO_free(info);
      st = ossl::OpenSslError("sk_POLICYINFO_push");
      break;
    }
  }
  X509_EXTENSION* ext = st.ok() ? X509V3_EXT_i2d(NID_certificate_policies, 0, pols) : nullptr;
  CERTIFICATEPOLICIES_free(pols);
  CV_RETURN_IF_ERROR(st);
  if (ext == nullptr) return ossl::OpenSslError("X509V3_EXT_i2d(certificatePolicies)");
  return ossl::UniquePtr<X509_EXTENSION>(ext);
}

Result<ossl::UniquePtr<X509_NAME>> MakeName(const std::vector<SubjectEntry>& subject) {
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  if (name == nullptr) return ossl::OpenSslError("X509_NAME_new");
  for (const SubjectEntry& e : subject) {
    const auto* v = reinterpret_cast<const unsigned char*>(e.value.data());
    if (X509_NAME_add_entry_by_txt(name.get(), e.field.c_str(), MBSTRING_UTF8, v, static_cast<int>(e.value.size()), -1,
                                   0) != 1) {
      ossl::ClearErrors();
      return PermissionDeniedError("subject attribute " + e.field + " has a value its type does not allow");
    }
  }
  return name;
}

Status AddSan(X509* cert, const std::vector<x509::SanEntry>& sans, bool critical) {
  if (sans.empty()) return OkStatus();
  std::string value = critical ? "critical" : "";
  for (const x509::SanEntry& san : sans) {
    const char* kind = san.kind == x509::SanEntry::Kind::kDns     ? "DNS:"
                       : san.kind == x509::SanEntry::Kind::kIp    ? "IP:"
                       : san.kind == x509::SanEntry::Kind::kEmail ? "email:"
                                                                  : "URI:";
    // The config syntax splits on ','; the lint has rejected commas in values.
    value += (value.empty() ? "" : ",") + std::string(kind) + san.value;
  }
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> ext, Ext(nullptr, NID_subject_alt_name, value));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  return OkStatus();
}

Status SetBasics(X509* cert, const CertTemplate& tmpl, const CertRequest& req, X509_NAME* subject, time_t& not_after) {
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(req.serial.bytes.data(), static_cast<int>(req.serial.bytes.size()), nullptr));
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return ossl::OpenSslError("BN_to_ASN1_INTEGER");
  }
  not_after = req.not_before + static_cast<time_t>(tmpl.profile().days) * 86400;
  if (tmpl.issuer() != nullptr) {
    // Never outlive the issuer (RFC 5280 §6.1.3 would reject the chain then).
    time_t issuer_end = 0;
    struct tm tm_end;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(tmpl.issuer()), &tm_end) == 1) issuer_end = timegm(&tm_end);
    if (issuer_end != 0 && not_after > issuer_end) not_after = issuer_end;
  }
  if (X509_set_version(cert, X509_VERSION_3) != 1 || !SetCertPublicKey(cert, req.public_key_info).ok() ||
      X509_set_subject_name(cert, subject) != 1 ||
      X509_set_issuer_name(cert, tmpl.issuer() != nullptr ? X509_get_subject_name(tmpl.issuer()) : subject) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert), req.not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), not_after) == nullptr) {
    return ossl::OpenSslError("X509_set_*");
  }
  return OkStatus();
}

Status AddExtensions(X509* cert, const CertTemplate& tmpl, const CertRequest& req) {
  for (const auto& ext : tmpl.extensions()) {
    if (X509_add_ext(cert, ext.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, tmpl.issuer() != nullptr ? tmpl.issuer() : cert, cert, nullptr, nullptr, 0);
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> ski, Ext(&ctx, NID_subject_key_identifier, "hash"));
  if (X509_add_ext(cert, ski.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  if (!tmpl.partitioned_crl_url().empty()) {
    uint32_t part = PartitionOf(req.serial.Hex(), tmpl.partitions());
    std::string dp = "URI:" + PartitionUrl(tmpl.partitioned_crl_url(), part, tmpl.partitions());
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> crldp, Ext(nullptr, NID_crl_distribution_points, dp));
    if (X509_add_ext(cert, crldp.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  }
  if (tmpl.issuer() == nullptr) {  // self-signed: AKI names this certificate's own SKI
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> aki, Ext(&ctx, NID_authority_key_identifier, "keyid:always"));
    if (X509_add_ext(cert, aki.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  }
  // RFC 5280 §4.2.1.6: with an empty subject the SAN extension is critical.
  return AddSan(cert, req.sans, req.subject.empty());
}

}  // namespace

Result<CertTemplate> CertTemplate::Create(const Profile& profile, const CaConfig& config, X509* issuer) {
  CV_RETURN_IF_ERROR(ValidateProfile(profile));
  CertTemplate t;
  t.profile_ = profile;
  if (profile.revocation_pointers && config.crl_partitions > 1 && !config.crl_url.empty()) {
    t.partitioned_crl_url_ = config.crl_url;
    t.partitions_ = config.crl_partitions;
  }
  if (issuer != nullptr) t.issuer_ = ossl::UpRef(issuer);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, nullptr, 0);
  for (const auto& [nid, value] : ConstantExtensionSpecs(profile, config)) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> ext, Ext(&ctx, nid, value));
    t.extensions_.push_back(std::move(ext));
  }
  if (!profile.policies.empty()) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> pols, PoliciesExtension(profile.policies));
    t.extensions_.push_back(std::move(pols));
  }
  if (issuer != nullptr) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> aki, Ext(&ctx, NID_authority_key_identifier, "keyid:always"));
    t.extensions_.push_back(std::move(aki));
  }
  return t;
}

Result<BuiltCert> BuildCertificate(const CertTemplate& tmpl, const CertRequest& req, CaKey& key, bool verify) {
  CV_RETURN_IF_ERROR(LintRequest(tmpl.profile(), req.subject, req.sans, req.public_key));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_NAME> subject, MakeName(req.subject));
  ossl::UniquePtr<X509> cert(X509_new_ex(crypto::LibCtx(), crypto::kPropq));
  if (cert == nullptr) return ossl::OpenSslError("X509_new");
  BuiltCert out;
  out.not_before = req.not_before;
  CV_RETURN_IF_ERROR(SetBasics(cert.get(), tmpl, req, subject.get(), out.not_after));
  CV_RETURN_IF_ERROR(AddExtensions(cert.get(), tmpl, req));
  CV_RETURN_IF_ERROR(LintCertificate(cert.get(), tmpl.issuer()));
  // The token's signature is verified over the exact TBS bytes it signed,
  // without re-decoding the certificate (and its key) with OpenSSL.
  x509::Signer signer = [&](std::span<const uint8_t> t) -> Result<Bytes> {
    return verify ? key.SignVerified(t) : key.Sign(t);
  };
  CV_RETURN_IF_ERROR(x509::SignCertificateTbs(cert.get(), key.algorithm(), signer));
  CV_ASSIGN_OR_RETURN(out.der, (ossl::ToDer<X509, i2d_X509>(cert.get(), "i2d_X509")));
  return out;
}

std::string SubjectText(const std::vector<SubjectEntry>& subject) {
  std::string out;
  for (const SubjectEntry& e : subject) out += "/" + e.field + "=" + e.value;
  return out;
}

}  // namespace certvault::ca
