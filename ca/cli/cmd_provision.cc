// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca provision (issue 14, docs/design/provisioning.md):
//   --request F | --batch DIR   --profile P --subject S --authority-cert F --authority-key K
//   [--authority-module P11MODULE --authority-pin-file F]   --out F | --out-dir D [--wrap-key]
//       verifies a vault's update request, generates the device key, issues
//       its certificate (recorded in the CA database like any issuance) and
//       writes the update package, signed by the provisioning authority.
//       Every package is recorded in the CA database (provision_deliveries,
//       with a "provision" audit event) before any file is written.
//   --request F (--renew KEYID | --delete-key KEYID | --capacity N) --authority-cert F
//   --authority-key K --out F [--profile P]
//       a version 2 package: a new certificate for a key this CA delivered
//       (same key), the deletion of a key, or a new token capacity.
//   --request F --rotate-authority NEW.pem --authority-cert F --authority-key K --out F
//       a version 2 package, signed by the pinned authority itself, after
//       which the vault accepts packages of NEW only (audit record only: the
//       delivery table of migration 6 has no kind for it).
//   --receipt F [--identity-cert F]
//       verifies a vault's receipt and closes its delivery (once).
//   --status [--target SERIAL]
//       lists the deliveries and their receipts.
#include <openssl/pem.h>
#include <openssl/store.h>

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "ca/cli/cli.h"
#include "ca/issuance/csr.h"
#include "ca/issuance/issuer.h"
#include "ca/p11/p11_pkey.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::ossl {
CV_OSSL_DELETER(OSSL_STORE_CTX, OSSL_STORE_close)
CV_OSSL_DELETER(OSSL_STORE_INFO, OSSL_STORE_INFO_free)
}  // namespace certvault::ossl

namespace certvault::ca::cli {
namespace {

constexpr int64_t kDefaultValidHours = 72;

Result<ossl::UniquePtr<X509>> ReadCert(const std::string& path) {
  CV_ASSIGN_OR_RETURN(Bytes b, ReadFileBytes(path));
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(b.data(), static_cast<int>(b.size())));
  ossl::UniquePtr<X509> x(bio ? crypto::PemReadX509(bio.get()) : nullptr);
  if (x == nullptr) {
    const unsigned char* p = b.data();
    x.reset(crypto::D2iX509(&p, static_cast<long>(b.size())));  // NOLINT(runtime/int)
  }
  if (x == nullptr) return ossl::OpenSslError("read certificate " + path, Reason::kDataInvalid);
  return x;
}

// LoadKey: the authority's private key by OSSL_STORE URI or path: a PEM file,
// or a "pkcs11:" URI when a provider that serves it is configured (the key
// then never leaves its token).
Result<ossl::UniquePtr<EVP_PKEY>> LoadKey(const std::string& uri) {
  ossl::UniquePtr<OSSL_STORE_CTX> store(
      OSSL_STORE_open_ex(uri.c_str(), crypto::LibCtx(), crypto::kPropq, nullptr, nullptr, nullptr, nullptr, nullptr));
  if (store == nullptr) return ossl::OpenSslError("OSSL_STORE_open " + uri, Reason::kKeyHandleInvalid);
  while (!OSSL_STORE_eof(store.get())) {
    ossl::UniquePtr<OSSL_STORE_INFO> info(OSSL_STORE_load(store.get()));
    if (info != nullptr && OSSL_STORE_INFO_get_type(info.get()) == OSSL_STORE_INFO_PKEY) {
      return ossl::UniquePtr<EVP_PKEY>(OSSL_STORE_INFO_get1_PKEY(info.get()));
    }
  }
  return Status(Reason::kKeyHandleInvalid, "no private key at " + uri);
}

// LoadAuthorityKey: --authority-key by LoadKey or, with --authority-module,
// a pkcs11: URI of a key in that PKCS#11 module (SoftHSM2, an HSM), the PIN
// from --authority-pin-file; it signs through the built-in cv-p11 provider
// (ca/p11/p11_pkey.h) and never leaves its token.
Result<ossl::UniquePtr<EVP_PKEY>> LoadAuthorityKey(const Args& args) {
  if (!args.Has("authority-module")) {
    if (args.Has("authority-pin-file")) {
      return InvalidArgumentError("provision: --authority-pin-file needs --authority-module");
    }
    return LoadKey(args.Get("authority-key"));
  }
  if (!args.Has("authority-pin-file")) {
    return InvalidArgumentError("provision: --authority-module needs --authority-pin-file");
  }
  CV_ASSIGN_OR_RETURN(P11Uri uri, ParseP11Uri(args.Get("authority-key")));
  CV_ASSIGN_OR_RETURN(SecretBytes pin, ReadPinFile(args.Get("authority-pin-file")));
  CV_ASSIGN_OR_RETURN(OSSL_LIB_CTX * libctx, P11LibCtx());
  CV_ASSIGN_OR_RETURN(P11Key key, OpenP11Key(libctx, args.Get("authority-module"), uri, pin));
  return std::move(key.key);
}

Result<SecretBytes> Pkcs8(EVP_PKEY* key) {
  ossl::UniquePtr<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(key));
  int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr) : -1;
  if (len <= 0) return ossl::OpenSslError("EVP_PKEY2PKCS8");
  SecretBytes out(static_cast<size_t>(len));
  uint8_t* w = out.MutableBytes(SecretAccess::Get()).data();
  if (i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &w) != len) return ossl::OpenSslError("i2d_PKCS8_PRIV_KEY_INFO");
  return out;
}

Result<ossl::UniquePtr<X509_STORE>> IdentityRoots(const Args& args) {
  if (!args.Has("identity-roots")) return ossl::UniquePtr<X509_STORE>();
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> root, ReadCert(args.Get("identity-roots")));
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (store == nullptr || X509_STORE_add_cert(store.get(), root.get()) != 1 ||
      X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY) != 1) {
    return ossl::OpenSslError("X509_STORE_add_cert");
  }
  return store;
}

// Job: one vault's request on its way to a package.
struct Job {
  std::string name;  // the request file's base name
  provision::VerifiedRequest req;
  ossl::UniquePtr<EVP_PKEY> device;  // lives only in this process's memory
  std::vector<Bytes> chain;          // [certificate, issuing CA]
  std::string cert_serial;           // hex
  Bytes package;
};

Result<std::vector<std::string>> RequestFiles(const Args& args) {
  if (!args.Has("batch")) return std::vector<std::string>{args.Get("request")};
  std::vector<std::string> files;
  DIR* d = opendir(args.Get("batch").c_str());
  if (d == nullptr) return NotFoundError("cannot read directory " + args.Get("batch"));
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.ends_with(".req")) files.push_back(args.Get("batch") + "/" + n);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

// NewJob: the verified request and a fresh P-256 device key with its CSR.
Result<Job> NewJob(const std::string& path, X509_STORE* roots, const std::string& subject, IssueItem* out_item) {
  Job job;
  job.name = path.substr(path.find_last_of('/') + 1);
  job.name = job.name.substr(0, job.name.find_last_of('.'));
  CV_ASSIGN_OR_RETURN(Bytes der, ReadFileBytes(path));
  CV_ASSIGN_OR_RETURN(job.req, provision::VerifyUpdateRequest(der, roots));
  job.device.reset(EVP_PKEY_Q_keygen(crypto::LibCtx(), crypto::kPropq, "EC", "P-256"));
  if (job.device == nullptr) return ossl::OpenSslError("EVP_PKEY_Q_keygen");
  x509::CsrSpec spec;
  CV_ASSIGN_OR_RETURN(spec.public_key_info, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(job.device.get(), "i2d_PUBKEY")));
  spec.subject = subject;
  CV_ASSIGN_OR_RETURN(out_item->csr, x509::BuildCsr(spec, provision::EvpSigner(job.device.get())));
  out_item->source = path;
  return job;
}

// IssueAll: the device certificates through the CA's issuance pipeline
// (profile checks, serial, database, audit) in one Issue call; a refused one
// fails the run before any package is written.
Status IssueAll(Args& args, CaInstance* inst, std::vector<Job>& jobs, std::span<const IssueItem> items) {
  CV_ASSIGN_OR_RETURN(X509 * ca_cert, inst->Cert(CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(CaKey * key, inst->Key(CaRole::kIssuing));
  IssuerOptions opts;
  opts.verify = inst->config().verify_issued;
  opts.threads = inst->config().sign_threads;
  Issuer issuer(inst->config(), inst->Name(CaRole::kIssuing), *key, ca_cert, inst->db(), ActorOf(args), opts);
  CV_ASSIGN_OR_RETURN(std::vector<IssueOutcome> outs, issuer.Issue(items, args.Get("profile")));
  CV_ASSIGN_OR_RETURN(Bytes ca_der, (ossl::ToDer<X509, i2d_X509>(ca_cert, "i2d_X509")));
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].status.ok()) {
      return Status(outs[i].status.code(), outs[i].source + ": " + std::string(outs[i].status.message()));
    }
    jobs[i].chain = {outs[i].der, ca_der};
    jobs[i].cert_serial = outs[i].serial;
  }
  return OkStatus();
}

Status WriteBytes(const std::string& path, const Bytes& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return UnavailableError("cannot write " + path);
  size_t wrote = std::fwrite(data.data(), 1, data.size(), f);
  if (std::fclose(f) != 0 || wrote != data.size()) return UnavailableError("cannot write " + path);
  return OkStatus();
}

// BuildPackage: the key package of one job, signed by the authority.
Status BuildPackage(Job& job, EVP_PKEY* authority_key, X509* authority, int64_t expires, bool wrap, Delivery* out) {
  provision::PackageContent content;
  content.wrap_keys = wrap;
  content.label = job.req.request.label.empty() ? "provisioned" : job.req.request.label;
  content.certificates = job.chain;
  CV_ASSIGN_OR_RETURN(SecretBytes p8, Pkcs8(job.device.get()));
  content.private_keys.push_back(std::move(p8));
  job.device.reset();  // the clear key is no longer needed (freed with clearing)
  const provision::UpdateRequest& req = job.req.request;
  provision::PackageHeader header{req.token_serial, req.counter + 1, req.nonce, expires};
  CV_ASSIGN_OR_RETURN(job.package, provision::BuildUpdatePackage(header, content, req.transport_cert,
                                                                 {authority_key, authority, nullptr}));
  out->target_serial = header.target_serial;
  out->counter = header.counter;
  out->expires_at = expires;
  out->cert_serial = job.cert_serial;
  CV_ASSIGN_OR_RETURN(out->key_id, provision::DeliveredKeyIdHex(job.chain[0]));
  CV_ASSIGN_OR_RETURN(Bytes hash, provision::Sha256(job.package));
  out->package_hash = HexEncode(hash);
  CV_ASSIGN_OR_RETURN(out->identity_key, provision::IdentityKeyHashHex(job.req.identity_cert.get()));
  return OkStatus();
}

// ReadJobs: every request verified, with its device key and CSR.
Result<std::vector<Job>> ReadJobs(const Args& args, X509_STORE* roots, std::vector<IssueItem>& items) {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> files, RequestFiles(args));
  std::vector<Job> jobs;
  items.resize(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    // "{name}" in --subject becomes the request file's name (dev-0001.req -> dev-0001).
    std::string subject = args.Get("subject");
    std::string name = files[i].substr(files[i].find_last_of('/') + 1);
    name = name.substr(0, name.find_last_of('.'));
    for (size_t at; (at = subject.find("{name}")) != std::string::npos;) subject.replace(at, 6, name);
    CV_ASSIGN_OR_RETURN(Job job, NewJob(files[i], roots, subject, &items[i]));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

Status Provision(Args& args) {
  const bool batch = args.Has("batch");
  for (const char* need : {"profile", "subject", "authority-cert", "authority-key", batch ? "out-dir" : "out"}) {
    if (!args.Has(need)) return InvalidArgumentError(std::string("provision: --") + need + " is required");
  }
  if (batch == args.Has("request")) return InvalidArgumentError("provision: give exactly one of --request or --batch");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_STORE> roots, IdentityRoots(args));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> authority, ReadCert(args.Get("authority-cert")));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> authority_key, LoadAuthorityKey(args));
  std::vector<IssueItem> items;
  CV_ASSIGN_OR_RETURN(std::vector<Job> jobs, ReadJobs(args, roots.get(), items));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> inst, OpenForSigning(args));
  CV_RETURN_IF_ERROR(IssueAll(args, inst.get(), jobs, items));
  int64_t hours = args.Has("valid-hours") ? std::stoll(args.Get("valid-hours")) : kDefaultValidHours;
  int64_t expires = static_cast<int64_t>(time(nullptr)) + hours * 3600;
  std::vector<Delivery> deliveries(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    deliveries[i].ca = inst->Name(CaRole::kIssuing);
    CV_RETURN_IF_ERROR(BuildPackage(jobs[i], authority_key.get(), authority.get(), expires, args.Has("wrap-key"),
                                    &deliveries[i]));
  }
  // Recorded before any package leaves: a receipt always finds its delivery.
  CV_RETURN_IF_ERROR(inst->db().RecordDeliveries(deliveries, ActorOf(args)));
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    CV_RETURN_IF_ERROR(WriteBytes(batch ? args.Get("out-dir") + "/" + job.name + ".upd" : args.Get("out"), job.package));
    std::fprintf(stderr, "package for vault %s, update %llu\n", deliveries[i].target_serial.c_str(),
                 static_cast<unsigned long long>(deliveries[i].counter));  // NOLINT(runtime/int)
  }
  return OkStatus();
}

// RenewChain: a new certificate for the key the CA delivered to `target` as
// `key_id`, with the subject and subjectAltNames of its newest confirmed
// certificate. The CA generated that key, so the delivery record (with the
// vault's receipt) stands in for a CSR's proof of possession.
Result<std::vector<Bytes>> RenewChain(Args& args, CaInstance* inst, const std::string& target,
                                      const std::string& key_id, std::string* out_serial) {
  CV_ASSIGN_OR_RETURN(std::vector<Delivery> ds, inst->db().ListDeliveries(target, 1000000));
  auto it = std::find_if(ds.begin(), ds.end(), [&](const Delivery& d) {
    return d.key_id == key_id && !d.cert_serial.empty() && d.receipt_result == "ok";  // newest first
  });
  if (it == ds.end()) {
    return FailedPreconditionError("no delivery of key " + key_id + " to vault " + target + " has a receipt");
  }
  CV_ASSIGN_OR_RETURN(CertRecord old, inst->db().FindBySerial(it->ca, it->cert_serial));
  const unsigned char* p = old.der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(old.der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return ossl::OpenSslError("d2i_X509", Reason::kDataInvalid);
  CV_ASSIGN_OR_RETURN(Bytes spki, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(X509_get0_pubkey(cert.get()), "i2d_PUBKEY")));
  CV_ASSIGN_OR_RETURN(ParsedCsr parsed,
                      ParseVerifiedRequest(spki, X509_get_subject_name(cert.get()), X509_get0_extensions(cert.get())));
  std::vector<Job> jobs(1);
  std::vector<IssueItem> items(1);
  items[0].source = "renewal of key " + key_id;
  items[0].verified = std::make_shared<const ParsedCsr>(std::move(parsed));
  CV_RETURN_IF_ERROR(IssueAll(args, inst, jobs, items));
  *out_serial = jobs[0].cert_serial;
  return std::move(jobs[0].chain);
}

// OperationContent: the version 2 content that --renew, --delete-key or
// --capacity asks for (a renewal's certificate chain is issued here).
Result<provision::PackageContent> OperationContent(Args& args, CaInstance* inst, const std::string& target,
                                                   Delivery* out) {
  provision::PackageContent c;
  c.label = "provisioned";
  std::string key_id = args.Has("renew") ? args.Get("renew") : args.Get("delete-key");
  if (!key_id.empty() && (!HexDecode(key_id, &c.key_id) || c.key_id.empty())) {
    return InvalidArgumentError("provision: the key id must be hex (CKA_ID, as the receipt and --status show it)");
  }
  out->key_id = HexEncode(c.key_id);
  if (args.Has("capacity")) {
    c.kind = provision::UpdateKind::kSetCapacity;
    c.capacity = static_cast<uint32_t>(std::stoul(args.Get("capacity")));
    out->kind = "capacity";
  } else if (args.Has("delete-key")) {
    c.kind = provision::UpdateKind::kDeleteKey;
    out->kind = "delete";
  } else {
    c.kind = provision::UpdateKind::kRenewCertificate;
    out->kind = "renew";
    CV_ASSIGN_OR_RETURN(c.certificates, RenewChain(args, inst, target, out->key_id, &out->cert_serial));
  }
  return c;
}

// ProvisionOperation: one vault's renewal, deletion or capacity package,
// recorded as a delivery of that kind before the file is written.
Status ProvisionOperation(Args& args) {
  int ops = args.Has("renew") + args.Has("delete-key") + args.Has("capacity");
  if (ops != 1) return InvalidArgumentError("provision: give one of --renew, --delete-key or --capacity");
  for (const char* need : {"request", "authority-cert", "authority-key", "out"}) {
    if (!args.Has(need)) return InvalidArgumentError(std::string("provision: --") + need + " is required");
  }
  if (args.Has("renew") && !args.Has("profile")) return InvalidArgumentError("provision: --renew needs --profile");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_STORE> roots, IdentityRoots(args));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> authority, ReadCert(args.Get("authority-cert")));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> authority_key, LoadAuthorityKey(args));
  CV_ASSIGN_OR_RETURN(Bytes req_der, ReadFileBytes(args.Get("request")));
  CV_ASSIGN_OR_RETURN(provision::VerifiedRequest req, provision::VerifyUpdateRequest(req_der, roots.get()));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> inst, args.Has("renew") ? OpenForSigning(args) : Open(args, false));
  Delivery d;
  d.ca = inst->Name(CaRole::kIssuing);
  d.target_serial = req.request.token_serial;
  d.counter = req.request.counter + 1;
  int64_t hours = args.Has("valid-hours") ? std::stoll(args.Get("valid-hours")) : kDefaultValidHours;
  d.expires_at = static_cast<int64_t>(time(nullptr)) + hours * 3600;
  CV_ASSIGN_OR_RETURN(provision::PackageContent content, OperationContent(args, inst.get(), d.target_serial, &d));
  provision::PackageHeader header{d.target_serial, d.counter, req.request.nonce, d.expires_at};
  CV_ASSIGN_OR_RETURN(Bytes package, provision::BuildUpdatePackage(header, content, req.request.transport_cert,
                                                                   {authority_key.get(), authority.get(), nullptr}));
  CV_ASSIGN_OR_RETURN(Bytes hash, provision::Sha256(package));
  d.package_hash = HexEncode(hash);
  CV_ASSIGN_OR_RETURN(d.identity_key, provision::IdentityKeyHashHex(req.identity_cert.get()));
  CV_RETURN_IF_ERROR(inst->db().RecordDeliveries(std::span<const Delivery>(&d, 1), ActorOf(args)));
  CV_RETURN_IF_ERROR(WriteBytes(args.Get("out"), package));
  std::fprintf(stderr, "%s package for vault %s, update %llu\n", d.kind.c_str(), d.target_serial.c_str(),
               static_cast<unsigned long long>(d.counter));  // NOLINT(runtime/int)
  return OkStatus();
}

// RotateAuthority: a package that moves the vault's pin to --rotate-authority.
// It is signed by the authority the vault pinned (a delegated signer with the
// cvProvisioning EKU is refused by the vault) and recorded as a
// "provision-rotate" audit event before the file is written.
Status RotateAuthority(Args& args) {
  for (const char* need : {"request", "authority-cert", "authority-key", "out"}) {
    if (!args.Has(need)) return InvalidArgumentError(std::string("provision: --") + need + " is required");
  }
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_STORE> roots, IdentityRoots(args));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> authority, ReadCert(args.Get("authority-cert")));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> next, ReadCert(args.Get("rotate-authority")));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> authority_key, LoadKey(args.Get("authority-key")));
  CV_ASSIGN_OR_RETURN(Bytes req_der, ReadFileBytes(args.Get("request")));
  CV_ASSIGN_OR_RETURN(provision::VerifiedRequest req, provision::VerifyUpdateRequest(req_der, roots.get()));
  provision::PackageContent content;
  content.kind = provision::UpdateKind::kRotateAuthority;
  content.label = "authority";
  CV_ASSIGN_OR_RETURN(Bytes next_der, (ossl::ToDer<X509, i2d_X509>(next.get(), "i2d_X509")));
  content.certificates.push_back(next_der);
  int64_t hours = args.Has("valid-hours") ? std::stoll(args.Get("valid-hours")) : kDefaultValidHours;
  provision::PackageHeader header{req.request.token_serial, req.request.counter + 1, req.request.nonce,
                                  static_cast<int64_t>(time(nullptr)) + hours * 3600};
  CV_ASSIGN_OR_RETURN(Bytes package, provision::BuildUpdatePackage(header, content, req.request.transport_cert,
                                                                   {authority_key.get(), authority.get(), nullptr}));
  CV_ASSIGN_OR_RETURN(Bytes hash, provision::Sha256(package));
  CV_ASSIGN_OR_RETURN(Bytes next_hash, provision::Sha256(next_der));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> inst, Open(args, false));
  AuditEvent e = MakeAuditEvent(ActorOf(args), "provision-rotate", inst->Name(CaRole::kIssuing), header.target_serial,
                                "counter=" + std::to_string(header.counter) + " package=" + HexEncode(hash) +
                                    " new-authority-sha256=" + HexEncode(next_hash),
                                "ok");
  CV_RETURN_IF_ERROR(inst->db().AddAudit(e));  // recorded before the package leaves
  CV_RETURN_IF_ERROR(WriteBytes(args.Get("out"), package));
  std::fprintf(stderr, "authority rotation package for vault %s, update %llu\n", header.target_serial.c_str(),
               static_cast<unsigned long long>(header.counter));  // NOLINT(runtime/int)
  return OkStatus();
}

// Receipt: verifies a receipt and closes its delivery; a refused receipt is
// recorded in the audit chain with its reason and changes nothing else.
Status Receipt(Args& args) {
  CV_ASSIGN_OR_RETURN(Bytes der, ReadFileBytes(args.Get("receipt")));
  ossl::UniquePtr<X509> identity;
  if (args.Has("identity-cert")) {
    CV_ASSIGN_OR_RETURN(identity, ReadCert(args.Get("identity-cert")));
  }
  CV_ASSIGN_OR_RETURN(provision::VerifiedReceipt r, provision::VerifyUpdateReceipt(der, identity.get()));
  const provision::UpdateReceipt& rc = r.receipt;
  DeliveryReceipt dr{HexEncode(rc.package_hash), rc.token_serial, rc.counter, HexEncode(rc.key_id), "", rc.result};
  CV_ASSIGN_OR_RETURN(dr.identity_key, provision::IdentityKeyHashHex(r.identity_cert.get()));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> inst, Open(args, false));
  Result<Delivery> closed = inst->db().CloseDelivery(dr, ActorOf(args));
  if (!closed.ok()) {
    AuditEvent e = MakeAuditEvent(ActorOf(args), "provision-receipt", inst->Name(CaRole::kIssuing), rc.token_serial,
                                  "counter=" + std::to_string(rc.counter) + " package=" + dr.package_hash + " refused: " +
                                      std::string(closed.status().message()),
                                  std::string(StatusCodeName(closed.status().code())));
    (void)inst->db().AddAudit(e);  // the refusal stands even if the audit write fails
    return closed.status();
  }
  std::printf("vault %s applied update %llu: %s, package sha256 %s, key id %s\n", rc.token_serial.c_str(),
              static_cast<unsigned long long>(rc.counter), rc.result.c_str(),  // NOLINT(runtime/int)
              dr.package_hash.c_str(), dr.key_id.c_str());
  return OkStatus();
}

std::string TimeText(int64_t t) {
  if (t == 0) return "-";
  time_t tt = static_cast<time_t>(t);
  struct tm tm_utc;
  char buf[32];
  if (gmtime_r(&tt, &tm_utc) == nullptr || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm_utc) == 0) return "?";
  return buf;
}

// StatusList: the deliveries, newest first: pending (no receipt yet),
// expired (no receipt and past its expiry: the vault will refuse it) or the
// receipt's result.
Status StatusList(Args& args) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> inst, Open(args, false));
  size_t limit = args.Has("limit") ? std::stoul(args.Get("limit")) : 100;
  CV_ASSIGN_OR_RETURN(std::vector<Delivery> list, inst->db().ListDeliveries(args.Get("target"), limit));
  int64_t now = static_cast<int64_t>(time(nullptr));
  std::printf("%-16s %7s %-8s %-9s %-20s %-40s %-16s %s\n", "target", "counter", "kind", "state", "built", "cert serial",
              "package", "receipt");
  for (const Delivery& d : list) {
    std::string state = d.receipt_at != 0 ? d.receipt_result : (d.expires_at <= now ? "expired" : "pending");
    std::printf("%-16s %7llu %-8s %-9s %-20s %-40s %-16s %s\n", d.target_serial.c_str(),
                static_cast<unsigned long long>(d.counter), d.kind.c_str(), state.c_str(),  // NOLINT(runtime/int)
                TimeText(d.created_at).c_str(), d.cert_serial.empty() ? "-" : d.cert_serial.c_str(),
                d.package_hash.substr(0, 16).c_str(), TimeText(d.receipt_at).c_str());
  }
  return OkStatus();
}

}  // namespace

int CmdProvision(Args& args) {
  Status s;
  if (args.Has("status")) {
    s = StatusList(args);
  } else if (args.Has("receipt")) {
    s = Receipt(args);
  } else if (args.Has("rotate-authority")) {
    s = RotateAuthority(args);
  } else if (args.Has("renew") || args.Has("delete-key") || args.Has("capacity")) {
    s = ProvisionOperation(args);
  } else {
    s = Provision(args);
  }
  return s.ok() ? 0 : Fail(s);
}

}  // namespace certvault::ca::cli
