// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca revoke / crl.
#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <set>
#include <ctime>

#include "ca/cli/cli.h"
#include "ca/crl/crl_service.h"
#include "ca/issuance/serial.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {

// RFC 5280 §5.3.1 CRLReason names (7 is unused; removeFromCRL only in deltas).
Result<int> ParseReason(const std::string& name) {
  static const char* kNames[] = {"unspecified",          "keyCompromise", "cACompromise",       "affiliationChanged",
                                 "superseded",           "cessationOfOperation", "certificateHold", "",
                                 "removeFromCRL",        "privilegeWithdrawn",   "aACompromise"};
  // certificateHold (6) is refused: a hold could never be released (there
  // is no removeFromCRL path), so it would be a revocation by another name.
  if (name == "certificateHold") {
    return InvalidArgumentError("certificateHold is not supported (a hold cannot be released); revoke with a final "
                                "reason");
  }
  for (int i = 0; i < 11; ++i) {
    if (i != 6 && i != 7 && i != 8 && name == kNames[i]) return i;
  }
  return InvalidArgumentError("unknown revocation reason '" + name +
                              "' (unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
                              "cessationOfOperation, privilegeWithdrawn, aACompromise)");
}

namespace {

Result<int64_t> ParseTime(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  ossl::UniquePtr<ASN1_STRING> t(ASN1_TIME_new());
  struct tm tm_v;
  if (t == nullptr || ASN1_TIME_set_string(t.get(), text.c_str()) != 1 || ASN1_TIME_to_tm(t.get(), &tm_v) != 1) {
    return InvalidArgumentError("time must be seconds since the epoch or YYYYMMDDHHMMSSZ");
  }
  return static_cast<int64_t>(timegm(&tm_v));
}

// IssuerOf: the key generation of `role` whose CA issued `serial`, newest
// first; the current one when none did (Revoke then names the serial
// unknown). No lookup while there is only one generation.
std::string IssuerOf(CaInstance& ca, CaRole role, const std::string& serial) {
  for (uint32_t gen = ca.Generation(role); gen > 1; --gen) {
    if (ca.db().FindBySerial(ca.NameOf(role, gen), serial).ok()) return ca.NameOf(role, gen);
  }
  return ca.NameOf(role, 1);
}

}  // namespace

int CmdRevoke(Args& args) {
  if (args.positional.empty()) return Usage("revoke: give one or more serials");
  auto reason = ParseReason(args.Get("reason", "unspecified"));
  if (!reason.ok()) return Usage(std::string(reason.status().message()));
  int64_t invalidity = 0;
  if (args.Has("invalidity-date")) {
    auto t = ParseTime(args.Get("invalidity-date"));
    if (!t.ok()) return Usage(std::string(t.status().message()));
    invalidity = *t;
  }
  std::vector<Revocation> revs;
  std::set<std::string> seen;
  for (const std::string& s : args.positional) {
    auto serial = NormalizeSerialHex(s);
    if (!serial.ok()) return Usage(std::string(serial.status().message()));
    if (!seen.insert(*serial).second) return Usage("revoke: serial " + *serial + " is given twice");
    revs.push_back({*serial, *reason, invalidity});
  }
  std::string which_ca = args.Get("ca", "issuing");
  if (which_ca != "issuing" && which_ca != "root") return Usage("revoke: --ca is issuing or root");
  auto inst = Open(args, true);  // a change: the token login is the credential
  if (!inst.ok()) return Fail(inst.status());
  CaInstance& ca = **inst;
  CaRole role = which_ca == "root" ? CaRole::kRoot : CaRole::kIssuing;
  Status st = ca.db().CheckIntegrity();
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  // RFC 5280 §5.3.2: the invalidity date is when the key is known or
  // suspected to have been compromised: it cannot lie in the future.
  if (st.ok() && invalidity > now) st = InvalidArgumentError("the invalidity date lies in the future");
  // After a rollover a serial may come from a retired key generation: each
  // generation's revocations go to its own CRLs (one batch per generation).
  std::map<std::string, std::vector<Revocation>> by_ca;
  for (Revocation& r : revs) {
    if (st.ok()) by_ca[IssuerOf(ca, role, r.serial)].push_back(std::move(r));
  }
  for (const auto& [ca_name, batch] : by_ca) {
    if (st.ok()) st = ca.db().Revoke(ca_name, batch, now, ActorOf(args));
    if (st.ok()) st = ca.RecordRevocations(ca_name);
  }
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "revoked %zu certificate(s)\n", revs.size());
  return 0;
}

namespace {

// CrlPath: --out, else DIR/crl/full.crl, delta.crl, full-pN.crl, ... or
// root.crl for the root's CRL (ARL); a key generation N > 1 adds "-gN"
// after the kind (full-g2.crl, full-g2-p3.crl, root-g2.crl).
std::string CrlPath(const Args& args, CaInstance& inst, bool root, bool delta, uint32_t partition,
                    uint32_t partitions, uint32_t gen) {
  if (args.Has("out")) return args.Get("out");
  std::string name = root ? "root" + GenerationSuffix(gen) + ".crl"
                          : std::string(delta ? "delta" : "full") + GenerationSuffix(gen) +
                                (partitions > 1 ? "-p" + std::to_string(partition) : "") + ".crl";
  return inst.config().dir + "/crl/" + name;
}

Status WriteCrl(const Args& args, CaInstance& inst, const CrlRecord& rec, uint32_t partitions, bool root,
                uint32_t gen) {
  std::string out = CrlPath(args, inst, root, rec.delta, rec.partition, partitions, gen);
  if (args.Has("pem")) {
    CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("X509 CRL", rec.der));
    return WriteFile(out, pem);
  }
  return WriteFile(out, AsStringView(rec.der));
}

}  // namespace

namespace {

// Partitions: the partitions to sign (--partition N or --all-partitions).
std::vector<uint32_t> Partitions(const Args& args, uint32_t parts) {
  std::vector<uint32_t> which;
  if (args.Has("all-partitions")) {
    for (uint32_t p = 0; p < parts; ++p) which.push_back(p);
  } else {
    which.push_back(static_cast<uint32_t>(std::stoul(args.Get("partition", "0"))));  // range-checked by the parser
  }
  return which;
}

// SignCrls: one CRL per partition of key generation `gen` of `role`, each
// checked against the token's CRL numbers before it is signed, recorded and
// written after.
int SignCrls(const Args& args, CaInstance& inst, CaRole role, uint32_t gen, const std::vector<uint32_t>& which,
             uint32_t parts) {
  const CaConfig& cfg = inst.config();
  auto cert = inst.CertOf(role, gen);
  if (!cert.ok()) return Fail(cert.status());
  auto key = inst.KeyOf(role, gen);
  if (!key.ok()) return Fail(key.status());
  bool root = role == CaRole::kRoot, delta = args.Has("delta");
  std::string ca = inst.NameOf(role, gen);
  for (uint32_t p : which) {
    // The root's ARL names no partition and no delta CRL.
    CrlRequest req{ca, *cert, delta, p, parts,
                   delta ? cfg.delta_next_update_hours : cfg.crl_next_update_hours,
                   root ? "" : inst.CrlUrlOf(role, gen), root ? "" : inst.DeltaCrlUrlOf(gen), 0,
                   [&](int64_t number) { return inst.CheckCrlNumber(ca, p, number); }};
    auto rec = GenerateCrl(inst.db(), **key, req, ActorOf(args));
    if (!rec.ok()) return Fail(rec.status());
    Status st = inst.RecordCrl(*rec);
    if (st.ok()) st = WriteCrl(args, inst, *rec, parts, root, gen);
    if (!st.ok()) return Fail(st);
    std::fprintf(stderr, "%s CRL number %lld (partition %u%s), %zu bytes\n", root ? "root" : delta ? "delta" : "full",
                 static_cast<long long>(rec->number), p,  // NOLINT(runtime/int)
                 gen == inst.Generation(role) ? "" : (", retired generation " + std::to_string(gen)).c_str(),
                 rec->der.size());
  }
  return 0;
}

// Generations: the key generations `crl` signs for: the current one, and
// without --out also every retired one whose certificate has not expired
// (it still answers for what it issued).
std::vector<uint32_t> Generations(const Args& args, CaInstance& inst, CaRole role) {
  std::vector<uint32_t> gens;
  if (!args.Has("out")) gens = inst.LiveRetired(role, static_cast<int64_t>(std::time(nullptr)));
  gens.push_back(inst.Generation(role));
  return gens;
}

// Retiring: retirement (docs/design/ca.md, "Retirement"): a full run (no
// --out, no --delta, every partition) also signs the last CRL of each
// retired generation whose certificate has expired; CmdCrl then destroys
// its keys. Empty for any other run.
Result<std::vector<uint32_t>> Retiring(const Args& args, CaInstance& inst, CaRole role, bool every_partition,
                                       int64_t now) {
  if (args.Has("out") || args.Has("delta") || !every_partition) return std::vector<uint32_t>();
  return inst.ExpiredWithKeys(role, now);
}

}  // namespace

int CmdCrl(Args& args) {
  std::string which_ca = args.Get("ca", "issuing");
  if (which_ca != "issuing" && which_ca != "root") return Usage("crl: --ca is issuing or root");
  if (args.Has("after-restore") && args.Has("delta")) return Usage("crl: --after-restore starts with a full CRL");
  bool root = which_ca == "root";
  if (root && (args.Has("delta") || args.Has("partition") || args.Has("all-partitions"))) {
    return Usage("crl: the root signs one full CRL (its ARL): no --delta or partitions");
  }
  auto inst = Open(args, true);
  if (!inst.ok()) return Fail(inst.status());
  Status st = args.Has("after-restore") ? (*inst)->AcceptRestoredDatabase(ActorOf(args)) : OkStatus();
  if (st.ok() && args.Has("crl-floor")) st = (*inst)->RaiseCrlFloor(std::stoll(args.Get("crl-floor")), ActorOf(args));
  if (st.ok()) st = (*inst)->PrepareToSign();
  if (!st.ok()) return Fail(st);
  const CaConfig& cfg = (*inst)->config();
  uint32_t parts = root ? 1 : cfg.crl_partitions;
  std::vector<uint32_t> which = Partitions(args, parts);
  if (which.size() > 1 && args.Has("out")) return Usage("crl: --out names one file; --all-partitions writes DIR/crl/");
  if (!args.Has("out")) mkdir((cfg.dir + "/crl").c_str(), 0755);
  CaRole role = root ? CaRole::kRoot : CaRole::kIssuing;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::vector<uint32_t> gens = Generations(args, **inst, role);
  auto retiring = Retiring(args, **inst, role, which.size() == parts, now);
  if (!retiring.ok()) return Fail(retiring.status());
  gens.insert(gens.begin(), retiring->begin(), retiring->end());
  for (uint32_t p : which) {
    if (p >= parts) return Usage("crl: --partition must be below crl_partitions");
    // Every output is checked before anything is signed.
    for (uint32_t gen : gens) {
      Status writable = CheckWritable(CrlPath(args, **inst, root, args.Has("delta"), p, parts, gen));
      if (!writable.ok()) return Fail(writable);
    }
  }
  for (uint32_t gen : gens) {
    if (int rc = SignCrls(args, **inst, role, gen, which, parts); rc != 0) return rc;
  }
  for (uint32_t gen : *retiring) {
    Status retired = (*inst)->RetireGeneration(role, gen, now, ActorOf(args));
    if (retired.code() == StatusCode::kPermissionDenied) {  // quorum-protected: the CRLs stand, the keys wait
      std::fprintf(stderr, "generation %u has expired but keeps its keys: %s\n", gen, std::string(retired.message()).c_str());
      continue;
    }
    if (!retired.ok()) return Fail(retired);
    std::fprintf(stderr, "retired generation %u: its certificate has expired, its keys are destroyed\n", gen);
  }
  return 0;
}

}  // namespace certvault::ca::cli
