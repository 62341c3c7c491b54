// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/ca_instance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

int Index(CaRole role) { return static_cast<int>(role); }

const char* RoleName(CaRole role) {
  switch (role) {
    case CaRole::kRoot: return "root";
    case CaRole::kIssuing: return "issuing";
    case CaRole::kOcsp: return "ocsp";
    default: return "unknown";
  }
}

}  // namespace

Result<ossl::UniquePtr<X509>> ReadPemCert(const std::string& path) {
  ossl::UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    ossl::ClearErrors();
    return FailedPreconditionError("missing " + path + " (has the CA been initialized?)");
  }
  ossl::UniquePtr<X509> cert(crypto::PemReadX509(bio.get()));
  if (cert == nullptr) {
    ossl::ClearErrors();
    return InvalidArgumentError(path + " is not a PEM certificate");
  }
  return cert;
}

Status CheckWritable(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return NotFoundError("no directory " + dir + " for " + path);
  if (::access(dir.c_str(), W_OK) != 0) return PermissionDeniedError("cannot write in " + dir);
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return InvalidArgumentError(path + " is not a file");
  return OkStatus();
}

Status WriteFile(const std::string& path, std::string_view data) {
  // Written to a temporary name, fsynced, then renamed: never a torn, empty
  // or truncated file at `path`; the temporary file goes on failure.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return InternalError("cannot write " + path);
  size_t off = 0;
  bool ok = true;
  while (ok && off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return InternalError("cannot write " + path);
  }
  return OkStatus();
}

Result<Bytes> CertDer(X509* cert) { return ossl::ToDer<X509, i2d_X509>(cert, "i2d_X509"); }

Result<std::unique_ptr<CaInstance>> CaInstance::Open(const std::string& dir, bool token, const std::string& pin_file,
                                                     bool create_db) {
  std::unique_ptr<CaInstance> inst(new CaInstance());
  CV_ASSIGN_OR_RETURN(inst->config_, LoadConfig(dir));
  if (!pin_file.empty()) {
    inst->config_.token.pin_file = pin_file;
    inst->config_.token.pin_env.clear();
  }
  // The token first: a wrong PIN leaves no database behind (init creates it).
  if (token) {
    CV_ASSIGN_OR_RETURN(SecretBytes pin, ReadPin(inst->config_.token));
    CV_ASSIGN_OR_RETURN(inst->token_, CaToken::Open(inst->config_.token.module, inst->config_.token.label, pin));
  }
  CV_ASSIGN_OR_RETURN(inst->db_, OpenCertDb(inst->config_.database, {create_db, inst->config_.name}));
  CV_ASSIGN_OR_RETURN(inst->gens_, LoadGenerations(inst->config_.dir));
  CaConfig& cfg = inst->config_;
  inst->base_urls_ = {cfg.crl_url, cfg.delta_crl_url, cfg.root_crl_url};
  cfg.crl_url = inst->CrlUrlOf(CaRole::kIssuing, inst->gens_.issuing);
  cfg.delta_crl_url = inst->DeltaCrlUrlOf(inst->gens_.issuing);
  cfg.root_crl_url = inst->CrlUrlOf(CaRole::kRoot, inst->gens_.root);
  // Only commands that log in to the token record and checkpoint: those that
  // read (list, show, audit) never write the database.
  if (token) {
    CV_RETURN_IF_ERROR(inst->RecordConfigLoad());
    CV_RETURN_IF_ERROR(inst->StartAudit());
  }
  return inst;
}

uint32_t CaInstance::Generation(CaRole role) const { return role == CaRole::kRoot ? gens_.root : gens_.issuing; }

std::string CaInstance::NameOf(CaRole role, uint32_t gen) const {
  return config_.name + "-" + RoleName(role) + GenerationSuffix(gen);
}

std::string CaInstance::CertPathOf(CaRole role, uint32_t gen) const {
  return config_.dir + "/" + RoleName(role) + GenerationSuffix(gen) + ".pem";
}

std::string CaInstance::CrlUrlOf(CaRole role, uint32_t gen) const {
  return GenerationUrl(role == CaRole::kRoot ? base_urls_.root : base_urls_.crl, gen);
}

std::string CaInstance::DeltaCrlUrlOf(uint32_t gen) const { return GenerationUrl(base_urls_.delta, gen); }

Result<X509*> CaInstance::Cert(CaRole role) {
  ossl::UniquePtr<X509>& slot = certs_[Index(role)];
  if (slot == nullptr) {
    CV_ASSIGN_OR_RETURN(slot, ReadPemCert(CertPath(role)));
  }
  return slot.get();
}

Result<X509*> CaInstance::CertOf(CaRole role, uint32_t gen) {
  if (gen == Generation(role)) return Cert(role);
  ossl::UniquePtr<X509>& slot = gen_certs_[CertPathOf(role, gen)];
  if (slot == nullptr) {
    CV_ASSIGN_OR_RETURN(slot, ReadPemCert(CertPathOf(role, gen)));
  }
  return slot.get();
}

Result<CaKey*> CaInstance::KeyOf(CaRole role, uint32_t gen) {
  if (gen == Generation(role)) return Key(role);
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  std::unique_ptr<CaKey>& slot = gen_keys_[NameOf(role, gen)];
  if (slot == nullptr) {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<CaKey> key, token_->OpenKey(NameOf(role, gen)));
    CV_RETURN_IF_ERROR(key->UseSignatureAlgorithm(config_.signature_algorithm));
    slot = std::move(key);
  }
  return slot.get();
}

std::vector<uint32_t> CaInstance::LiveRetired(CaRole role, int64_t now) {
  std::vector<uint32_t> live;
  for (uint32_t gen = 1; gen < Generation(role); ++gen) {
    // Every certificate a CA issues ends by its own notAfter (capped at
    // issuance), so a generation has work left while its certificate lasts.
    Result<X509*> cert = CertOf(role, gen);
    time_t t = static_cast<time_t>(now);
    if (cert.ok() && X509_cmp_time(X509_get0_notAfter(*cert), &t) > 0) live.push_back(gen);
  }
  return live;
}

Result<CaKey*> CaInstance::Key(CaRole role) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  std::unique_ptr<CaKey>& slot = keys_[Index(role)];
  if (slot == nullptr) {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<CaKey> key, token_->OpenKey(Name(role)));
    CV_RETURN_IF_ERROR(key->UseSignatureAlgorithm(config_.signature_algorithm));
    slot = std::move(key);
  }
  return slot.get();
}

}  // namespace certvault::ca
