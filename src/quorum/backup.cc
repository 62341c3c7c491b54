// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The backup archive (docs/formats/backup.md).
#include "src/quorum/backup.h"

#include <algorithm>

#include "src/audit/audit_key.h"
#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/crypto/aead.h"
#include "src/crypto/random.h"
#include "src/quorum/events.h"
#include "src/quorum/quorum_internal.h"
#include "src/quorum/shamir.h"
#include "src/quorum/token_dump.h"
#include "src/quorum/x25519_seal.h"

namespace certvault::quorum {
namespace {

using internal::Str;
constexpr char kMagic[] = "CVBK";
constexpr uint8_t kVersion = 1;
constexpr char kShareLabel[] = "certvault backup share v1";
constexpr char kSignLabel[] = "certvault backup v1";

struct ShareEntry {
  uint8_t x = 0;
  Bytes custodian_pub;
  std::string name;
  Bytes sealed;
};

struct ObjectEntry {
  uint64_t id = 0, object_class = 0, version = 0;
  Bytes label;
};

struct Header {
  Bytes archive_id;  // 16
  uint64_t created_ms = 0;
  uint64_t token_id = 0;
  std::string label, serial;
  Bytes quorum_id;
  uint32_t epoch = 0;
  uint8_t k = 0, n = 0;
  std::vector<ShareEntry> shares;
  std::vector<ObjectEntry> objects;  // the manifest
  uint32_t audit_key_no = 0;
  Bytes audit_spki;
};

Bytes EncodeHeader(const Header& h) {
  Bytes out;
  ByteWriter<Bytes> w(&out);
  w.WriteBytes(h.archive_id);
  w.WriteU64(h.created_ms);
  w.WriteU64(h.token_id);
  w.WriteU32LengthPrefixed(Str(h.label));
  w.WriteU32LengthPrefixed(Str(h.serial));
  w.WriteBytes(h.quorum_id);
  w.WriteU32(h.epoch);
  w.WriteU8(h.k);
  w.WriteU8(h.n);
  for (const ShareEntry& s : h.shares) {
    w.WriteU8(s.x);
    w.WriteBytes(s.custodian_pub);
    w.WriteU32LengthPrefixed(Str(s.name));
    w.WriteU32LengthPrefixed(s.sealed);
  }
  w.WriteU32(static_cast<uint32_t>(h.objects.size()));
  for (const ObjectEntry& o : h.objects) {
    w.WriteU64(o.id);
    w.WriteU64(o.object_class);
    w.WriteU64(o.version);
    w.WriteU32LengthPrefixed(o.label);
  }
  w.WriteU32(h.audit_key_no);
  w.WriteU32LengthPrefixed(h.audit_spki);
  return out;
}

Status Malformed() { return Status(Reason::kEncryptedDataInvalid, "the archive is truncated or malformed"); }

Result<Header> DecodeHeader(std::span<const uint8_t> in) {
  ByteReader r(in);
  Header h;
  std::span<const uint8_t> id, label, serial, qid;
  if (!r.ReadBytes(16, &id) || !r.ReadU64(&h.created_ms) || !r.ReadU64(&h.token_id) ||
      !r.ReadU32LengthPrefixed(&label) || !r.ReadU32LengthPrefixed(&serial) || !r.ReadBytes(kQuorumIdSize, &qid) ||
      !r.ReadU32(&h.epoch) || !r.ReadU8(&h.k) || !r.ReadU8(&h.n) || h.k < 2 || h.k > h.n) {
    return Malformed();
  }
  h.archive_id.assign(id.begin(), id.end());
  h.label.assign(label.begin(), label.end());
  h.serial.assign(serial.begin(), serial.end());
  h.quorum_id.assign(qid.begin(), qid.end());
  for (unsigned i = 0; i < h.n; ++i) {
    ShareEntry s;
    std::span<const uint8_t> pub, name, sealed;
    if (!r.ReadU8(&s.x) || !r.ReadBytes(kX25519Size, &pub) || !r.ReadU32LengthPrefixed(&name) ||
        !r.ReadU32LengthPrefixed(&sealed)) {
      return Malformed();
    }
    s.custodian_pub.assign(pub.begin(), pub.end());
    s.name.assign(name.begin(), name.end());
    s.sealed.assign(sealed.begin(), sealed.end());
    h.shares.push_back(std::move(s));
  }
  uint32_t count = 0;
  if (!r.ReadU32(&count) || count > r.remaining() / 28) return Malformed();
  for (uint32_t i = 0; i < count; ++i) {
    ObjectEntry o;
    std::span<const uint8_t> olabel;
    if (!r.ReadU64(&o.id) || !r.ReadU64(&o.object_class) || !r.ReadU64(&o.version) || !r.ReadU32LengthPrefixed(&olabel)) {
      return Malformed();
    }
    o.label.assign(olabel.begin(), olabel.end());
    h.objects.push_back(std::move(o));
  }
  std::span<const uint8_t> spki;
  if (!r.ReadU32(&h.audit_key_no) || !r.ReadU32LengthPrefixed(&spki) || !r.empty()) return Malformed();
  h.audit_spki.assign(spki.begin(), spki.end());
  return h;
}

// Parsed: the archive split into its parts; the signature checked.
struct Parsed {
  Header header;
  Bytes aad;  // magic | version | header (the payload's AAD)
  std::span<const uint8_t> ciphertext;
};

Result<Parsed> ParseArchive(std::span<const uint8_t> archive) {
  ByteReader r(archive);
  std::span<const uint8_t> magic, header, ct, sig;
  uint8_t version = 0;
  uint64_t ct_len = 0;
  if (!r.ReadBytes(4, &magic) || !std::equal(magic.begin(), magic.end(), kMagic)) {
    return Status(Reason::kEncryptedDataInvalid, "not a certvault backup archive");
  }
  if (!r.ReadU8(&version) || version != kVersion) {
    return Status(Reason::kEncryptedDataInvalid, "unsupported backup archive version");
  }
  if (!r.ReadU32LengthPrefixed(&header) || !r.ReadU64(&ct_len) || ct_len > r.remaining() ||
      !r.ReadBytes(ct_len, &ct)) {
    return Malformed();
  }
  const size_t signed_len = archive.size() - r.remaining();
  if (!r.ReadU32LengthPrefixed(&sig) || !r.empty()) return Malformed();
  Parsed p;
  CV_ASSIGN_OR_RETURN(p.header, DecodeHeader(header));
  Bytes msg(Str(kSignLabel).begin(), Str(kSignLabel).end());
  msg.insert(msg.end(), archive.begin(), archive.begin() + signed_len);
  if (!audit::VerifyAuditSignature(p.header.audit_spki, msg, sig)) {
    return Status(Reason::kEncryptedDataInvalid, "the archive signature does not verify (tampered)");
  }
  p.aad.assign(archive.begin(), archive.begin() + 5);
  p.aad.insert(p.aad.end(), header.begin(), header.end());
  p.ciphertext = ct;
  return p;
}

Result<std::vector<ShareEntry>> SplitBackupKey(const SecretBytes& bk, const QuorumConfig& config, const Header& h) {
  CV_ASSIGN_OR_RETURN(std::vector<Share> shares, SplitSecret(bk, config.k, config.n));
  std::vector<ShareEntry> out;
  for (size_t i = 0; i < shares.size(); ++i) {
    const CustodianEntry& c = config.custodians[i];
    Bytes aad = internal::ShareAad(kShareLabel, h.token_id, h.archive_id, h.quorum_id, h.epoch, shares[i].x);
    CV_ASSIGN_OR_RETURN(Bytes sealed, SealToKey(c.public_key, kShareLabel, aad, shares[i].y.Bytes(SecretAccess::Get())));
    out.push_back({shares[i].x, c.public_key, c.name, std::move(sealed)});
  }
  return out;
}

}  // namespace

Result<Bytes> CreateBackup(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                           const QuorumConfig& config, BackupSummary* out_summary) {
  CV_ASSIGN_OR_RETURN(TokenDump dump, ReadTokenDump(store, token, token_key));
  if (dump.audit_keys.empty()) return FailedPreconditionError("the token has no audit key to sign the archive");
  CV_ASSIGN_OR_RETURN(auto signer, audit::AuditSigner::Open(dump.audit_keys.back(), token_key));
  Header h;
  h.archive_id = Bytes(16);
  CV_RETURN_IF_ERROR(crypto::RandomBytes(h.archive_id));
  h.created_ms = static_cast<uint64_t>(internal::NowMs());
  h.token_id = token;
  h.label = dump.token.label;
  h.serial = dump.token.serial;
  h.quorum_id = config.quorum_id;
  h.epoch = config.epoch;
  h.k = config.k;
  h.n = config.n;
  for (const storage::ObjectRow& o : dump.objects) h.objects.push_back({o.object_id, o.object_class, o.version, o.label});
  h.audit_key_no = dump.audit_keys.back().key_no;
  h.audit_spki = dump.audit_keys.back().public_key;
  CV_ASSIGN_OR_RETURN(SecretBytes bk, crypto::NewRandomSecret(crypto::kAeadKeySize));
  CV_ASSIGN_OR_RETURN(h.shares, SplitBackupKey(bk, config, h));
  Bytes archive(Str(kMagic).begin(), Str(kMagic).end());
  ByteWriter<Bytes> w(&archive);
  w.WriteU8(kVersion);
  Bytes header = EncodeHeader(h);
  w.WriteU32LengthPrefixed(header);
  Bytes aad(archive.begin(), archive.begin() + 5);
  aad.insert(aad.end(), header.begin(), header.end());
  CV_ASSIGN_OR_RETURN(SecureVector ct, crypto::AeadSeal(bk, aad, EncodeTokenDump(dump)));
  w.WriteU64(ct.size());
  w.WriteBytes(ct);
  Bytes msg(Str(kSignLabel).begin(), Str(kSignLabel).end());
  msg.insert(msg.end(), archive.begin(), archive.end());
  CV_ASSIGN_OR_RETURN(Bytes sig, signer->Sign(msg));
  w.WriteU32LengthPrefixed(sig);
  *out_summary = {token, h.label, h.serial, h.objects.size(), archive.size()};
  CV_RETURN_IF_ERROR(RecordEvent(store, token, &token_key, "so", "backup", "ok",
                                 "archive=" + HexOf(h.archive_id) + " objects=" + std::to_string(h.objects.size())));
  return archive;
}

Result<ArchiveInfo> InspectArchive(std::span<const uint8_t> archive) {
  CV_ASSIGN_OR_RETURN(Parsed p, ParseArchive(archive));
  ArchiveInfo info;
  info.summary = {p.header.token_id, p.header.label, p.header.serial, p.header.objects.size(), archive.size()};
  info.k = p.header.k;
  info.n = p.header.n;
  for (const ShareEntry& s : p.header.shares) info.custodians.push_back(s.name);
  return info;
}

namespace {

Result<SecretBytes> RecoverBackupKey(const Header& h, const std::vector<Custodian*>& custodians) {
  std::vector<Share> shares;
  for (Custodian* c : custodians) {
    auto it = std::find_if(h.shares.begin(), h.shares.end(),
                           [&](const ShareEntry& s) { return s.custodian_pub == c->public_key(); });
    if (it == h.shares.end()) return PermissionDeniedError(c->name() + " is not a custodian of this archive");
    if (std::any_of(shares.begin(), shares.end(), [&](const Share& s) { return s.x == it->x; })) continue;
    Bytes aad = internal::ShareAad(kShareLabel, h.token_id, h.archive_id, h.quorum_id, h.epoch, it->x);
    Result<SecretBytes> y = c->Unseal(kShareLabel, aad, it->sealed);
    if (!y.ok()) return Status(Reason::kEncryptedDataInvalid, "the share of " + c->name() + " does not open (tampered)");
    shares.push_back({it->x, std::move(*y)});
    c->Record("custodian_restore_share", "ok", "archive=" + HexOf(h.archive_id));
  }
  if (shares.size() < h.k) {
    return PermissionDeniedError(std::to_string(shares.size()) + " of " + std::to_string(h.k) + " custodians");
  }
  shares.resize(h.k);
  return CombineShares(shares);
}

// CheckAgainstManifest: the payload is the token the signed header describes.
Status CheckAgainstManifest(const Header& h, const TokenDump& d) {
  if (d.token.token_id != h.token_id || d.token.serial != h.serial || d.objects.size() != h.objects.size()) {
    return Status(Reason::kEncryptedDataInvalid, "the payload does not match the manifest");
  }
  for (size_t i = 0; i < d.objects.size(); ++i) {
    const ObjectEntry& m = h.objects[i];
    const storage::ObjectRow& o = d.objects[i];
    if (o.object_id != m.id || o.object_class != m.object_class || o.version != m.version || o.label != m.label) {
      return Status(Reason::kEncryptedDataInvalid, "the payload does not match the manifest");
    }
  }
  // The signing key is the token's own: its private half opens with the token key.
  for (const storage::AuditKeyRow& k : d.audit_keys) {
    if (k.key_no == h.audit_key_no && k.public_key == h.audit_spki) {
      if (!audit::AuditSigner::Open(k, d.token_key).ok()) break;
      return OkStatus();
    }
  }
  return Status(Reason::kEncryptedDataInvalid, "the archive is not signed by the token's own audit key");
}

// CheckSlotFree: no token in slot `token`, and no event log left there by
// an earlier (zeroized) token, whose chain the restored log cannot join.
Status CheckSlotFree(storage::Store& store, storage::TokenId token) {
  if (store.GetToken(token).ok()) {
    return AlreadyExistsError("the vault already has token " + std::to_string(token) +
                              " (never overwritten by restore)");
  }
  if (store.LastEvent(token).ok()) {
    return AlreadyExistsError("slot " + std::to_string(token) +
                              " of this vault still holds the event log of an earlier token; restore into a new vault");
  }
  return OkStatus();
}

// AuthorizeOverwrite: the token to be replaced exists and its quorum
// approved the restore. The replaced log's head goes into the restore
// event's `detail`: the restored log is the archive's, the rows after it go.
Status AuthorizeOverwrite(storage::Store& store, storage::TokenId token, const RestoreOptions& options,
                          std::string* detail) {
  if (!store.GetToken(token).ok()) {
    return NotFoundError("the vault has no token " + std::to_string(token) + " to overwrite; drop --overwrite");
  }
  if (!options.authorize) return PermissionDeniedError("overwriting a token needs its quorum's approval");
  CV_RETURN_IF_ERROR(options.authorize());
  *detail += " overwrote token " + std::to_string(token);
  if (Result<storage::EventRow> last = store.LastEvent(token); last.ok()) {
    *detail += " (replaced log head seq " + std::to_string(last->seq) + " hash " + HexOf(last->hash) + ")";
  }
  return OkStatus();
}

}  // namespace

Result<BackupSummary> RestoreBackup(storage::Store& store, std::span<const uint8_t> archive,
                                    const std::vector<Custodian*>& custodians, const RestoreOptions& options) {
  CV_ASSIGN_OR_RETURN(Parsed p, ParseArchive(archive));
  CV_ASSIGN_OR_RETURN(SecretBytes bk, RecoverBackupKey(p.header, custodians));
  Result<SecureVector> payload = crypto::AeadOpen(bk, p.aad, p.ciphertext);
  if (!payload.ok()) {
    return Status(Reason::kEncryptedDataInvalid, "the archive does not decrypt with the custodians' backup key");
  }
  CV_ASSIGN_OR_RETURN(TokenDump dump, DecodeTokenDump(*payload));
  CV_RETURN_IF_ERROR(CheckAgainstManifest(p.header, dump));
  std::string detail = "archive=" + HexOf(p.header.archive_id) + " objects=" + std::to_string(dump.objects.size());
  if (options.overwrite) CV_RETURN_IF_ERROR(AuthorizeOverwrite(store, dump.token.token_id, options, &detail));
  // One transaction: a kill -9 at any point leaves either nothing or all of
  // it (with --overwrite: the old token or the new one, never a mixture);
  // the slot is checked inside it, because CreateToken replaces a token.
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    if (options.overwrite) {
      CV_RETURN_IF_ERROR(store.PurgeToken(dump.token.token_id));
    } else {
      CV_RETURN_IF_ERROR(CheckSlotFree(store, dump.token.token_id));
    }
    CV_RETURN_IF_ERROR(WriteTokenDump(store, dump));
    return RecordEvent(store, dump.token.token_id, &dump.token_key, "so", "restore", "ok", detail);
  }));
  return BackupSummary{dump.token.token_id, dump.token.label, dump.token.serial, dump.objects.size(), archive.size()};
}

}  // namespace certvault::quorum
