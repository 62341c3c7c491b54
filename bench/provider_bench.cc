// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-provider-bench: the OpenSSL provider side by side with plain
// OpenSSL, in one run, on the same key material (software keys imported into
// a vault in a temp dir):
//  - EVP_DigestSign (init + one-shot sign of 32 bytes) with the vault key via
//    the provider vs the same key in the default provider: P-256, Ed25519,
//    RSA-2048 (PKCS#1 v1.5, SHA-256);
//  - TLS 1.3 full handshakes per second, server side only (client time not
//    counted), ECDSA P-256: the server key via the provider vs the same key as
//    a PEM file; in-process over memory BIO pairs, no session resumption.
// Prints operations per CPU-second of the measuring thread (so that other
// load on a shared machine does not count) and the ratio provider/plain.
// No pass/fail on timing.
//   certvault-provider-bench --provider build/src/provider/certvault.so [--quick]
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/store.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "cli/keys.h"
#include "src/core/backend.h"

namespace {

using Clock = std::chrono::steady_clock;
using certvault::SecretAccess;
using certvault::SecretBytes;

constexpr char kSoPin[] = "bench-so-pin-1";
constexpr char kUserPin[] = "bench-user-pin-1";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "certvault-provider-bench: %s\n", what.c_str());
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

SecretBytes Pin(const char* p) { return SecretBytes(std::string_view(p), SecretAccess::Get()); }

EVP_PKEY* SoftwareKey(const char* type) {
  EVP_PKEY* key = nullptr;
  if (std::string(type) == "RSA")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  else if (std::string(type) == "EC")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  if (key == nullptr) Die(std::string("keygen ") + type);
  return key;
}

// MakeVault: a token "bench" holding `keys` (label -> software key) in `dir`.
void MakeVault(const std::string& dir, const std::vector<std::pair<std::string, EVP_PKEY*>>& keys) {
  certvault::BackendOptions opts;
  opts.vault_dir = dir;
  opts.create_vault = true;
  auto backend = certvault::OpenEmbeddedBackend(opts);
  if (!backend.ok()) Die("open vault: " + backend.status().ToString());
  certvault::Backend& b = **backend;
  auto slots = b.GetSlotList(false);
  if (!slots.ok() || slots->empty()) Die("no slot");
  certvault::SlotId slot = slots->front();
  if (!b.InitToken(slot, Pin(kSoPin), "bench").ok()) Die("InitToken");
  auto s = b.OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  if (!s.ok() || !b.Login(*s, certvault::UserType::kSo, Pin(kSoPin)).ok() || !b.InitPin(*s, Pin(kUserPin)).ok() ||
      !b.Logout(*s).ok() || !b.Login(*s, certvault::UserType::kUser, Pin(kUserPin)).ok()) {
    Die("token setup");
  }
  uint8_t id = 1;
  for (const auto& [label, key] : keys) {
    auto t = certvault::cli::ImportTemplates(key, label, certvault::Bytes{id++});
    if (!t.ok()) Die("templates: " + t.status().ToString());
    t->private_tmpl.SetBool(CKA_TOKEN, true);
    t->public_tmpl.SetBool(CKA_TOKEN, true);
    if (!b.CreateObject(*s, t->private_tmpl).ok() || !b.CreateObject(*s, t->public_tmpl).ok()) Die("import " + label);
  }
  (void)b.CloseSession(*s);
}

OSSL_LIB_CTX* ProviderContext(const std::string& dir, const std::string& provider) {
  std::string cnf = dir + "/openssl.cnf";
  std::ofstream(dir + "/pin") << kUserPin << "\n";
  chmod((dir + "/pin").c_str(), 0600);  // the provider refuses PIN files open to others
  std::ofstream(cnf) << "openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = dflt\ncertvault = cv\n"
                     << "[dflt]\nactivate = 1\n[cv]\nactivate = 1\nmodule = " << provider << "\nvault = " << dir
                     << "/vault\npin-file = " << dir << "/pin\n";
  OSSL_LIB_CTX* ctx = OSSL_LIB_CTX_new();
  if (ctx == nullptr || !OSSL_LIB_CTX_load_config(ctx, cnf.c_str())) Die("load " + cnf);
  return ctx;
}

EVP_PKEY* VaultKey(OSSL_LIB_CTX* ctx, const std::string& label) {
  std::string uri = "certvault:token=bench;object=" + label + ";type=private";
  OSSL_STORE_CTX* store = OSSL_STORE_open_ex(uri.c_str(), ctx, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  EVP_PKEY* key = nullptr;
  while (store != nullptr && key == nullptr && !OSSL_STORE_eof(store)) {
    OSSL_STORE_INFO* info = OSSL_STORE_load(store);
    if (info != nullptr && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
      key = OSSL_STORE_INFO_get1_PKEY(info);
    OSSL_STORE_INFO_free(info);
  }
  OSSL_STORE_close(store);
  if (key == nullptr) Die("load " + uri);
  return key;
}

// CpuNow: this thread's CPU time in seconds. Rates are per CPU-second, not per
// wall-clock second: on a shared machine the wall clock also counts the time
// other processes had the core.
double CpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Sample: operations and the CPU seconds they took.
struct Sample {
  double ops = 0;
  double cpu = 0;
};

// Run: `op` repeated for `seconds` of wall time; `op` returns the CPU seconds to count.
Sample Run(double seconds, const std::function<double()>& op) {
  op();  // warm-up
  Sample s;
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    s.cpu += op();
    s.ops += 1;
  }
  return s;
}

// Timed: `op`'s own CPU time.
std::function<double()> Timed(const std::function<void()>& op) {
  return [op] {
    double t0 = CpuNow();
    op();
    return CpuNow() - t0;
  };
}

// Compare: both sides in ten alternating slices (a load burst on the shared
// machine then hits both alike); each side's rate over all its slices.
std::pair<double, double> Compare(double seconds, const std::function<double()>& a, const std::function<double()>& b) {
  Sample sa, sb;
  for (int round = 0; round < 10; ++round) {
    // Alternate which side goes first, so that neither always follows the other.
    Sample x, y;
    if (round % 2 == 0) {
      x = Run(seconds / 10, a);
      y = Run(seconds / 10, b);
    } else {
      y = Run(seconds / 10, b);
      x = Run(seconds / 10, a);
    }
    sa.ops += x.ops;
    sa.cpu += x.cpu;
    sb.ops += y.ops;
    sb.cpu += y.cpu;
  }
  return {sa.ops / sa.cpu, sb.ops / sb.cpu};
}

void DigestSign(OSSL_LIB_CTX* ctx, EVP_PKEY* key, const char* md, EVP_PKEY* verify_with) {
  static const uint8_t msg[32] = {1, 2, 3};
  uint8_t sig[512];
  size_t len = sizeof(sig);
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  if (EVP_DigestSignInit_ex(m, nullptr, md, ctx, nullptr, key, nullptr) != 1 ||
      EVP_DigestSign(m, sig, &len, msg, sizeof(msg)) != 1) {
    Die("EVP_DigestSign");
  }
  EVP_MD_CTX_free(m);
  if (verify_with != nullptr) {
    EVP_MD_CTX* v = EVP_MD_CTX_new();
    if (EVP_DigestVerifyInit_ex(v, nullptr, md, nullptr, nullptr, verify_with, nullptr) != 1 ||
        EVP_DigestVerify(v, sig, len, msg, sizeof(msg)) != 1) {
      Die("the provider's signature does not verify");
    }
    EVP_MD_CTX_free(v);
  }
}

X509* SelfSigned(EVP_PKEY* key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("bench"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_set_pubkey(cert, key);
  if (X509_sign(cert, key, EVP_sha256()) <= 0) Die("X509_sign");
  return cert;
}

SSL_CTX* ServerCtx(OSSL_LIB_CTX* ctx, X509* cert, EVP_PKEY* key) {
  SSL_CTX* s = SSL_CTX_new_ex(ctx, nullptr, TLS_server_method());
  if (s == nullptr || SSL_CTX_use_certificate(s, cert) != 1 || SSL_CTX_use_PrivateKey(s, key) != 1) Die("server ctx");
  SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION);
  SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
  return s;
}

// Handshake: one full TLS 1.3 handshake; returns the server's share of the time.
double Handshake(SSL_CTX* server, SSL_CTX* client) {
  SSL* s = SSL_new(server);
  SSL* c = SSL_new(client);
  BIO *sb = nullptr, *cb = nullptr;
  BIO_new_bio_pair(&sb, 0, &cb, 0);
  SSL_set_bio(s, sb, sb);  // each SSL owns its end of the pair
  SSL_set_bio(c, cb, cb);
  SSL_set_accept_state(s);
  SSL_set_connect_state(c);
  double server_time = 0;
  bool s_done = false, c_done = false;
  for (int i = 0; i < 20 && !(s_done && c_done); ++i) {
    if (!c_done) c_done = SSL_do_handshake(c) == 1;
    double t0 = CpuNow();
    if (!s_done) s_done = SSL_do_handshake(s) == 1;
    server_time += CpuNow() - t0;
  }
  if (!s_done || !c_done) Die("TLS handshake");
  SSL_free(s);
  SSL_free(c);
  return server_time;
}

void Row(const char* what, double provider, double plain) {
  std::printf("%-52s %12.0f %12.0f %8.2f\n", what, provider, plain, provider / plain);
}

}  // namespace

int main(int argc, char** argv) {
  std::string provider;
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick")
      seconds = 0.1;
    else if (a == "--provider" && i + 1 < argc)
      provider = argv[++i];
    else
      Die("usage: certvault-provider-bench --provider PATH/certvault.so [--quick]");
  }
  if (provider.empty()) Die("--provider PATH/certvault.so is required");
  provider = std::filesystem::absolute(provider).string();
  char tmpl[] = "/tmp/cv-provider-bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp");
  std::string dir = tmpl;

  EVP_PKEY* ec = SoftwareKey("EC");
  EVP_PKEY* ed = SoftwareKey("ED25519");
  EVP_PKEY* rsa = SoftwareKey("RSA");
  MakeVault(dir + "/vault", {{"ec", ec}, {"ed", ed}, {"rsa", rsa}});
  OSSL_LIB_CTX* pctx = ProviderContext(dir, provider);
  OSSL_LIB_CTX* raw = OSSL_LIB_CTX_new();  // the default provider only
  EVP_PKEY* vec = VaultKey(pctx, "ec");
  EVP_PKEY* ved = VaultKey(pctx, "ed");
  EVP_PKEY* vrsa = VaultKey(pctx, "rsa");

  std::printf("certvault-provider-bench (%s), %.1f s per row, rates per CPU-second of the measuring thread\n",
              OpenSSL_version(OPENSSL_VERSION), seconds);
  std::printf("%-52s %12s %12s %8s\n", "operation", "provider", "plain", "ratio");
  struct Case {
    const char* name;
    EVP_PKEY* vault;
    EVP_PKEY* soft;
    const char* md;
  };
  for (const Case& c : {Case{"EVP_DigestSign ECDSA P-256 SHA-256 (ops/s)", vec, ec, "SHA256"},
                        Case{"EVP_DigestSign Ed25519 (ops/s)", ved, ed, nullptr},
                        Case{"EVP_DigestSign RSA-2048 PKCS#1 v1.5 SHA-256 (ops/s)", vrsa, rsa, "SHA256"}}) {
    DigestSign(pctx, c.vault, c.md, c.soft);  // the vault's signature verifies with the software key
    // The software keys live in the default context: signing there needs no key conversion.
    auto [p, r] = Compare(seconds, Timed([&] { DigestSign(pctx, c.vault, c.md, nullptr); }),
                          Timed([&] { DigestSign(nullptr, c.soft, c.md, nullptr); }));
    Row(c.name, p, r);
  }

  X509* cert = SelfSigned(ec);
  std::string pem = dir + "/ec.pem";
  FILE* f = std::fopen(pem.c_str(), "w");
  PEM_write_PrivateKey(f, ec, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  SSL_CTX* via_provider = ServerCtx(pctx, cert, vec);
  SSL_CTX* via_pem = SSL_CTX_new_ex(pctx, nullptr, TLS_server_method());
  if (SSL_CTX_use_certificate(via_pem, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(via_pem, pem.c_str(), SSL_FILETYPE_PEM) != 1) {
    Die("PEM server ctx");
  }
  SSL_CTX_set_min_proto_version(via_pem, TLS1_3_VERSION);
  SSL_CTX_set_options(via_pem, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(via_pem, SSL_SESS_CACHE_OFF);
  SSL_CTX* client = SSL_CTX_new_ex(raw, nullptr, TLS_client_method());
  SSL_CTX_set_verify(client, SSL_VERIFY_NONE, nullptr);
  // Only the server's share of each handshake is counted.
  auto [hp, hr] = Compare(
      seconds, [&] { return Handshake(via_provider, client); }, [&] { return Handshake(via_pem, client); });
  Row("TLS 1.3 full handshakes, server side, P-256 (hs/s)", hp, hr);
  std::printf("ratio = provider / plain; target >= 0.90\n");

  std::filesystem::remove_all(dir);
  return 0;
}
