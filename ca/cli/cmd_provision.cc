// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca provision (issue 14, docs/design/provisioning.md):
//   --request F --profile P --subject S --authority-cert F --authority-key K --out F
//       verifies a vault's update request, generates the device key, issues
//       its certificate (recorded in the CA database like any issuance) and
//       writes the update package, signed by the provisioning authority.
//   --receipt F [--identity-cert F]
//       verifies a vault's receipt and prints it.
#include <openssl/pem.h>
#include <openssl/store.h>

#include <cstdio>
#include <ctime>

#include "ca/cli/cli.h"
#include "ca/issuance/issuer.h"
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

// IssueDeviceCert: a CSR for `device` through the CA's issuance pipeline
// (profile checks, serial, database, audit), returning [certificate, CA].
Result<std::vector<Bytes>> IssueDeviceCert(Args& args, EVP_PKEY* device) {
  x509::CsrSpec spec;
  CV_ASSIGN_OR_RETURN(spec.public_key_info, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(device, "i2d_PUBKEY")));
  spec.subject = args.Get("subject");
  CV_ASSIGN_OR_RETURN(Bytes csr, x509::BuildCsr(spec, provision::EvpSigner(device)));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> inst, OpenForSigning(args));
  CV_ASSIGN_OR_RETURN(X509 * ca_cert, inst->Cert(CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(CaKey * key, inst->Key(CaRole::kIssuing));
  IssuerOptions opts;
  opts.verify = inst->config().verify_issued;
  opts.threads = 1;
  Issuer issuer(inst->config(), inst->Name(CaRole::kIssuing), *key, ca_cert, inst->db(), Actor(args), opts);
  std::vector<IssueItem> items{{args.Get("request"), std::move(csr)}};
  CV_ASSIGN_OR_RETURN(std::vector<IssueOutcome> outs, issuer.Issue(items, args.Get("profile")));
  CV_RETURN_IF_ERROR(outs.front().status);
  CV_ASSIGN_OR_RETURN(Bytes ca_der, (ossl::ToDer<X509, i2d_X509>(ca_cert, "i2d_X509")));
  std::fprintf(stderr, "issued %s\n", outs.front().serial.c_str());
  return std::vector<Bytes>{outs.front().der, ca_der};
}

Status Provision(Args& args) {
  for (const char* need : {"request", "profile", "subject", "authority-cert", "authority-key", "out"}) {
    if (!args.Has(need)) return InvalidArgumentError(std::string("provision: --") + need + " is required");
  }
  CV_ASSIGN_OR_RETURN(Bytes request_der, ReadFileBytes(args.Get("request")));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_STORE> roots, IdentityRoots(args));
  CV_ASSIGN_OR_RETURN(provision::VerifiedRequest req, provision::VerifyUpdateRequest(request_der, roots.get()));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> authority, ReadCert(args.Get("authority-cert")));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> authority_key, LoadKey(args.Get("authority-key")));
  // The device key lives only in this process's memory: EVP_PKEY_free
  // clears its scalar, the PKCS#8 copy is SecretBytes.
  ossl::UniquePtr<EVP_PKEY> device(EVP_PKEY_Q_keygen(crypto::LibCtx(), crypto::kPropq, "EC", "P-256"));
  if (device == nullptr) return ossl::OpenSslError("EVP_PKEY_Q_keygen");
  provision::PackageContent content;
  content.label = req.request.label.empty() ? "provisioned" : req.request.label;
  CV_ASSIGN_OR_RETURN(content.certificates, IssueDeviceCert(args, device.get()));
  CV_ASSIGN_OR_RETURN(SecretBytes p8, Pkcs8(device.get()));
  content.private_keys.push_back(std::move(p8));
  int64_t hours = args.Has("valid-hours") ? std::stoll(args.Get("valid-hours")) : kDefaultValidHours;
  provision::PackageHeader header{req.request.token_serial, req.request.counter + 1, req.request.nonce,
                                  static_cast<int64_t>(time(nullptr)) + hours * 3600};
  CV_ASSIGN_OR_RETURN(Bytes package, provision::BuildUpdatePackage(header, content, req.request.transport_cert,
                                                                   {authority_key.get(), authority.get(), nullptr}));
  FILE* f = std::fopen(args.Get("out").c_str(), "wb");
  if (f == nullptr) return UnavailableError("cannot write " + args.Get("out"));
  size_t wrote = std::fwrite(package.data(), 1, package.size(), f);
  if (std::fclose(f) != 0 || wrote != package.size()) return UnavailableError("cannot write " + args.Get("out"));
  std::fprintf(stderr, "package for vault %s, update %llu\n", header.target_serial.c_str(),
               static_cast<unsigned long long>(header.counter));  // NOLINT(runtime/int)
  return OkStatus();
}

Status Receipt(Args& args) {
  CV_ASSIGN_OR_RETURN(Bytes der, ReadFileBytes(args.Get("receipt")));
  ossl::UniquePtr<X509> identity;
  if (args.Has("identity-cert")) {
    CV_ASSIGN_OR_RETURN(identity, ReadCert(args.Get("identity-cert")));
  }
  CV_ASSIGN_OR_RETURN(provision::VerifiedReceipt r, provision::VerifyUpdateReceipt(der, identity.get()));
  std::printf("vault %s applied update %llu: %s, package sha256 %s, key id %s\n", r.receipt.token_serial.c_str(),
              static_cast<unsigned long long>(r.receipt.counter), r.receipt.result.c_str(),  // NOLINT(runtime/int)
              HexEncode(r.receipt.package_hash).c_str(), HexEncode(r.receipt.key_id).c_str());
  return OkStatus();
}

}  // namespace

int CmdProvision(Args& args) {
  Status s = args.Has("receipt") ? Receipt(args) : Provision(args);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace certvault::ca::cli
