// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/quorum/shamir.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>

extern "C" {
#include <libgfshare.h>
}

#include "src/base/status_macros.h"

namespace certvault::quorum {
namespace {

// libgfshare draws its polynomial coefficients through the global
// gfshare_fill_rand, which cannot report failure: a DRBG failure is noted
// here and turns the split into an error.
std::atomic<bool> g_rand_failed{false};

void FillFromDrbg(unsigned char* buf, unsigned int len) {
  if (RAND_priv_bytes(buf, static_cast<int>(len)) != 1) g_rand_failed = true;
}

void InstallRandom() {
  static std::once_flag once;
  std::call_once(once, [] { gfshare_fill_rand = FillFromDrbg; });
}

struct CtxDeleter {
  void operator()(gfshare_ctx* ctx) const { gfshare_ctx_free(ctx); }
};
using CtxPtr = std::unique_ptr<gfshare_ctx, CtxDeleter>;

}  // namespace

Result<std::vector<Share>> SplitSecret(const SecretBytes& secret, uint8_t k, uint8_t n) {
  if (k < 2 || k > n || secret.empty()) {
    return Status(Reason::kArgumentsBad, "a quorum needs 2 <= k <= n <= 255 and a secret");
  }
  InstallRandom();
  std::vector<unsigned char> xs(n);
  for (unsigned i = 0; i < n; ++i) xs[i] = static_cast<unsigned char>(i + 1);
  CtxPtr ctx(gfshare_ctx_init_enc(xs.data(), n, k, static_cast<unsigned>(secret.size())));
  if (ctx == nullptr) return Status(Reason::kHostMemory, "gfshare_ctx_init_enc");
  SecretBytes copy = secret.Clone();  // gfshare_ctx_enc_setsecret takes a non-const buffer
  gfshare_ctx_enc_setsecret(ctx.get(), copy.MutableBytes(SecretAccess::Get()).data());
  std::vector<Share> out;
  for (unsigned i = 0; i < n; ++i) {
    Share share{xs[i], SecretBytes(secret.size())};
    gfshare_ctx_enc_getshare(ctx.get(), static_cast<unsigned char>(i), share.y.MutableBytes(SecretAccess::Get()).data());
    out.push_back(std::move(share));
  }
  if (g_rand_failed.exchange(false)) return Status(Reason::kFunctionFailed, "the private DRBG failed");
  return out;
}

Result<SecretBytes> CombineShares(const std::vector<Share>& shares) {
  if (shares.empty() || shares.size() > 255) return Status(Reason::kArgumentsBad, "no shares");
  // gfshare_ctx_free scrambles the context through gfshare_fill_rand, which
  // Debian's libgfshare leaves null: a process that only combines (every
  // guarded verb) must install it too, or the free jumps to address 0.
  InstallRandom();
  const size_t len = shares[0].y.size();
  std::vector<unsigned char> xs;
  std::set<uint8_t> seen;
  for (const Share& s : shares) {
    if (s.x == 0 || s.y.size() != len || len == 0 || !seen.insert(s.x).second) {
      return Status(Reason::kArgumentsBad, "shares differ in length or repeat an index");
    }
    xs.push_back(s.x);
  }
  CtxPtr ctx(gfshare_ctx_init_dec(xs.data(), static_cast<unsigned>(xs.size()), static_cast<unsigned>(len)));
  if (ctx == nullptr) return Status(Reason::kHostMemory, "gfshare_ctx_init_dec");
  for (size_t i = 0; i < shares.size(); ++i) {
    SecretBytes y = shares[i].y.Clone();
    gfshare_ctx_dec_giveshare(ctx.get(), static_cast<unsigned char>(i), y.MutableBytes(SecretAccess::Get()).data());
  }
  SecretBytes secret(len);
  gfshare_ctx_dec_extract(ctx.get(), secret.MutableBytes(SecretAccess::Get()).data());
  return secret;
}

}  // namespace certvault::quorum
