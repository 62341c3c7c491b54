// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance and the audit trail: the audit key in the token, checkpoints,
// break-glass records, configuration changes at load, verification before
// CRLs. See docs/design/ca.md ("Audit trail") and docs/formats/ca-audit.md.
#include <openssl/pem.h>
#include <syslog.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "ca/audit/audit_alert.h"
#include "ca/db/audit_chain.h"
#include "ca/instance/ca_instance.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/x509_build.h"

namespace certvault::ca {
namespace {

AuditActor SystemActor() {
  AuditActor a;
  a.identity = "local:" + std::to_string(::getuid());
  a.role = "system";
  a.source = "local";
  return a;
}

Result<ossl::UniquePtr<EVP_PKEY>> ReadPublicKey(const std::string& path) {
  ossl::UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    ossl::ClearErrors();
    return NotFoundError("cannot read the audit public key " + path);
  }
  ossl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, nullptr, nullptr, crypto::LibCtx(),
                                                       crypto::kPropq));
  if (key == nullptr) {
    ossl::ClearErrors();
    return InvalidArgumentError(path + " is not a PEM public key");
  }
  return key;
}

}  // namespace

CaInstance::~CaInstance() {
  // The end of every command and server: the tail gets a signed checkpoint.
  if (checkpointer_ != nullptr) (void)checkpointer_->Flush();
  if (db_ != nullptr) db_->SetAppendObserver(nullptr);
}

Status CaInstance::RecordConfigLoad() {
  if (config_.config_sha256.empty()) return OkStatus();
  CV_ASSIGN_OR_RETURN(std::string last, db_->GetMeta("config_sha256"));
  if (last == config_.config_sha256) return OkStatus();
  std::string profiles;
  for (const auto& [name, p] : config_.profiles) profiles += (profiles.empty() ? "" : ",") + name;
  CV_RETURN_IF_ERROR(db_->AddAudit(MakeAuditEvent(SystemActor(), "config", config_.name, "ca.toml",
                                                  "sha256 " + (last.empty() ? "none" : last) + " -> " +
                                                      config_.config_sha256 + " profiles=" + profiles)));
  return db_->SetMeta("config_sha256", config_.config_sha256);
}

Status CaInstance::StartAudit() {
  std::string label = AuditKeyLabel();
  Result<std::unique_ptr<CaKey>> key = token_->OpenKey(label);
  bool created = false;
  if (!key.ok() && key.status().code() == StatusCode::kNotFound) {
    CV_RETURN_IF_ERROR(token_->GenerateKeyPair(label, KeyAlgorithm::kEcP256));
    key = token_->OpenKey(label);
    created = true;
  }
  CV_RETURN_IF_ERROR(key.status());
  audit_key_ = std::move(*key);
  const Bytes& spki = audit_key_->public_key_info();
  if (created || ::access(AuditKeyPath().c_str(), F_OK) != 0) {
    CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("PUBLIC KEY", spki));
    CV_RETURN_IF_ERROR(WriteFile(AuditKeyPath(), pem));
  }
  if (created) {
    std::string fpr;
    unsigned char md[32];
    unsigned int n = 0;
    if (EVP_Digest(spki.data(), spki.size(), md, &n, EVP_sha256(), nullptr) == 1) fpr = ToHex({md, n});
    syslog(LOG_NOTICE | LOG_AUTHPRIV, "certvault-ca audit key created ca=%s key=%s sha256=%s", config_.name.c_str(),
           label.c_str(), fpr.c_str());
    CV_RETURN_IF_ERROR(db_->AddAudit(MakeAuditEvent(SystemActor(), "audit-key", config_.name, label, "sha256=" + fpr)));
  }
  CaKey* signer = audit_key_.get();
  checkpointer_ = std::make_unique<AuditCheckpointer>(
      *db_, config_.name, label,
      [signer](std::span<const uint8_t> msg) -> Result<Bytes> {
        CV_ASSIGN_OR_RETURN(Bytes raw, signer->SignVerified(msg));
        return x509::RawEcdsaToDer(raw);
      },
      config_.audit.checkpoint_records, config_.audit.checkpoint_seconds);
  AuditCheckpointer* cp = checkpointer_.get();
  db_->SetAppendObserver([cp](int64_t seq, const Bytes& hash) { cp->OnAppend(seq, hash); });
  return OkStatus();
}

Status CaInstance::FlushAudit() { return checkpointer_ != nullptr ? checkpointer_->Flush() : OkStatus(); }

Status CaInstance::RecordBreakGlass(const AuditActor& actor, const std::string& command) {
  std::string detail = command + ": offline command with the CA token PIN on the instance directory";
  CV_RETURN_IF_ERROR(db_->AddAudit(MakeAuditEvent(actor, "break-glass", config_.name, command, detail)));
  (void)RaiseAlert(config_.audit, Alert{"break-glass", actor, config_.name, detail, 0});
  return OkStatus();
}

Result<AuditVerifyReport> CaInstance::VerifyAudit(const std::string& key_path, const std::string& checkpoint_line) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> key, ReadPublicKey(key_path.empty() ? AuditKeyPath() : key_path));
  AuditVerifyOptions options;
  options.db_name = config_.name;
  options.audit_key = key.get();
  if (!checkpoint_line.empty()) {
    std::string db;
    CV_ASSIGN_OR_RETURN(options.external, ParseCheckpointLine(checkpoint_line, &db));
    if (db != config_.name) return InvalidArgumentError("the checkpoint is of CA '" + db + "', not '" + config_.name + "'");
  }
  CV_ASSIGN_OR_RETURN(AuditVerifyReport report, VerifyAuditChain(*db_, options));
  if (!report.ok) {
    (void)RaiseAlert(config_.audit, Alert{"audit-verify-failed", SystemActor(), config_.name, report.problem, 0});
  }
  return report;
}

Status CaInstance::CheckAuditForCrl(const std::string& ca) {
  CV_ASSIGN_OR_RETURN(AuditVerifyReport report, VerifyAudit("", ""));
  if (!report.ok) {
    return DataLossError("refusing to sign a CRL: the audit chain is broken: " + report.problem +
                         ". Restore the database from a backup and run 'certvault-ca audit verify'");
  }
  Status st = CheckRevocationsAgainstAudit(*db_, ca, report);
  if (!st.ok()) {
    (void)RaiseAlert(config_.audit, Alert{"audit-verify-failed", SystemActor(), ca, std::string(st.message()), 0});
  }
  return st;
}

}  // namespace certvault::ca
