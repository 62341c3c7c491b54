// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// IntegrityCheck: the running binary (the module, provider or program that
// contains this code, found with dladdr) against the SHA-256 manifest that
// `cmake --install` writes to <prefix>/share/certvault/SHA256SUMS
// (docs/design/selftest.md). No manifest (a build tree, a test binary) or a
// binary the manifest does not list: nothing to check. A listed binary whose
// digest differs, or that cannot be read: failure. A build configured with a
// manifest signing key also requires a valid SHA256SUMS.sig.
#include <dlfcn.h>
#include <link.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"
#include "src/base/status_macros.h"
#include "src/selftest/internal.h"
#include "src/selftest/manifest_key.h"

namespace certvault::selftest::internal {
namespace {

constexpr std::string_view kTest = "integrity";
namespace fs = std::filesystem;

// OwnPath: the file this code was loaded from: the shared object's path, or
// for the main program (whose link-map name is empty) /proc/self/exe.
std::string OwnPath() {
  Dl_info info = {};
  struct link_map* map = nullptr;
  if (dladdr1(reinterpret_cast<void*>(&IntegrityCheck), &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0) {
    return {};
  }
  std::string name = map != nullptr && map->l_name != nullptr && map->l_name[0] != '\0' ? map->l_name : "/proc/self/exe";
  std::error_code ec;
  fs::path path = fs::canonical(name, ec);
  return ec ? std::string() : path.string();
}

// ManifestRoot: the nearest ancestor of `own` (up to three levels: bin/,
// lib/, lib/<arch>/ossl-modules/) holding share/certvault/SHA256SUMS.
fs::path ManifestRoot(const fs::path& own) {
  fs::path dir = own.parent_path();
  for (int i = 0; i < 4 && !dir.empty(); ++i, dir = dir.parent_path()) {
    std::error_code ec;
    if (fs::exists(dir / "share" / "certvault" / "SHA256SUMS", ec)) return dir;
    if (dir == dir.root_path()) break;
  }
  return {};
}

// FileSha256: lowercase hex SHA-256 of the file at `path`, or "" on error.
std::string FileSha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  ossl::UniquePtr<EVP_MD> md(EVP_MD_fetch(crypto::LibCtx(), "SHA2-256", nullptr));
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!in || md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr) != 1) return {};
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0 && EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount())) != 1) return {};
  }
  uint8_t out[32];
  unsigned int len = 0;
  if (!in.eof() || EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) return {};
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) hex.append({kDigits[out[i] >> 4], kDigits[out[i] & 15]});
  return hex;
}

// ReadFile: the whole file at `path`; false when it cannot be read.
bool ReadFile(const fs::path& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

Status CheckInstalledBinary(const fs::path& prefix, const fs::path& own, std::string_view public_key_pem) {
  fs::path dir = prefix / "share" / "certvault";
  std::vector<uint8_t> manifest, sig;
  if (!ReadFile(dir / "SHA256SUMS", &manifest)) return Failed(kTest, "cannot read the manifest");
  // A build with a manifest signing key requires the signature: accepting a
  // missing one would let whoever can replace the manifest drop it too.
  if (!public_key_pem.empty()) {
    if (!ReadFile(dir / "SHA256SUMS.sig", &sig)) return Failed(kTest, "the install manifest is not signed");
    CV_RETURN_IF_ERROR(VerifyManifestSignature(manifest, sig, public_key_pem));
  }
  // The digests are read from the same bytes whose signature was checked.
  std::istringstream lines(std::string(manifest.begin(), manifest.end()));
  std::string rel = fs::relative(own, prefix).string(), line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string digest, path;
    if (!(fields >> digest >> path) || path != rel) continue;
    std::string actual = FileSha256(own);
    if (actual.empty()) return Failed(kTest, "cannot read the installed binary");
    if (actual != digest) return Failed(kTest, "installed binary does not match its manifest digest");
    return OkStatus();
  }
  return OkStatus();
}

Status IntegrityCheck() {
  // Injected before the manifest lookup, so that test binaries (listed in no
  // manifest) can show this failure reaching the error state too.
  if (FaultInjected(kTest)) return Failed(kTest, "installed binary does not match its manifest digest");
  fs::path own = OwnPath();
  if (own.empty()) return OkStatus();  // statically linked into something dladdr cannot name
  // The manifest lists paths relative to the installation prefix.
  fs::path prefix = ManifestRoot(own);
  if (prefix.empty()) return OkStatus();
  return CheckInstalledBinary(prefix, own, kManifestPublicKeyPem);
}

}  // namespace certvault::selftest::internal
