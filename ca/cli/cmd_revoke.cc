// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca revoke / crl.
#include <sys/stat.h>

#include <cstdio>
#include <set>
#include <ctime>

#include "ca/cli/cli.h"
#include "ca/crl/crl_service.h"
#include "ca/issuance/serial.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {
namespace {

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

Result<int64_t> ParseTime(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  ossl::UniquePtr<ASN1_STRING> t(ASN1_TIME_new());
  struct tm tm_v;
  if (t == nullptr || ASN1_TIME_set_string(t.get(), text.c_str()) != 1 || ASN1_TIME_to_tm(t.get(), &tm_v) != 1) {
    return InvalidArgumentError("time must be seconds since the epoch or YYYYMMDDHHMMSSZ");
  }
  return static_cast<int64_t>(timegm(&tm_v));
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
  auto inst = Open(args, true);  // a change: the token login is the credential
  if (!inst.ok()) return Fail(inst.status());
  CaInstance& ca = **inst;
  Status st = ca.db().CheckIntegrity();
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  // RFC 5280 §5.3.2: the invalidity date is when the key is known or
  // suspected to have been compromised: it cannot lie in the future.
  if (st.ok() && invalidity > now) st = InvalidArgumentError("the invalidity date lies in the future");
  if (st.ok()) st = ca.db().Revoke(ca.Name(CaRole::kIssuing), revs, now, Actor(args));
  if (st.ok()) st = ca.RecordRevocations(ca.Name(CaRole::kIssuing));
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "revoked %zu certificate(s)\n", revs.size());
  return 0;
}

namespace {

std::string CrlPath(const Args& args, CaInstance& inst, bool delta, uint32_t partition, uint32_t partitions) {
  if (args.Has("out")) return args.Get("out");
  std::string name = std::string(delta ? "delta" : "full") + (partitions > 1 ? "-p" + std::to_string(partition) : "") +
                     ".crl";
  return inst.config().dir + "/crl/" + name;
}

Status WriteCrl(const Args& args, CaInstance& inst, const CrlRecord& rec, uint32_t partitions) {
  std::string out = CrlPath(args, inst, rec.delta, rec.partition, partitions);
  if (args.Has("pem")) {
    CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("X509 CRL", rec.der));
    return WriteFile(out, pem);
  }
  return WriteFile(out, AsStringView(rec.der));
}

}  // namespace

int CmdCrl(Args& args) {
  std::string which_ca = args.Get("ca", "issuing");
  if (which_ca != "issuing" && which_ca != "root") return Usage("crl: --ca is issuing or root");
  if (args.Has("after-restore") && args.Has("delta")) return Usage("crl: --after-restore starts with a full CRL");
  auto inst = Open(args, true);
  if (!inst.ok()) return Fail(inst.status());
  if (args.Has("after-restore")) {
    Status st = (*inst)->AcceptRestoredDatabase(Actor(args));
    if (!st.ok()) return Fail(st);
  }
  Status ready = (*inst)->PrepareToSign();
  if (!ready.ok()) return Fail(ready);
  const CaConfig& cfg = (*inst)->config();
  CaRole role = which_ca == "root" ? CaRole::kRoot : CaRole::kIssuing;
  auto cert = (*inst)->Cert(role);
  if (!cert.ok()) return Fail(cert.status());
  auto key = (*inst)->Key(role);
  if (!key.ok()) return Fail(key.status());
  uint32_t parts = role == CaRole::kIssuing ? cfg.crl_partitions : 1;
  std::vector<uint32_t> which;
  if (args.Has("all-partitions")) {
    for (uint32_t p = 0; p < parts; ++p) which.push_back(p);
  } else {
    which.push_back(static_cast<uint32_t>(std::stoul(args.Get("partition", "0"))));
  }
  if (which.size() > 1 && args.Has("out")) return Usage("crl: --out names one file; --all-partitions writes DIR/crl/");
  bool delta = args.Has("delta");
  if (!args.Has("out")) mkdir((cfg.dir + "/crl").c_str(), 0755);
  for (uint32_t p : which) {
    if (p >= parts) return Usage("crl: --partition must be below crl_partitions");
    Status writable = CheckWritable(CrlPath(args, **inst, delta, p, parts));  // before anything is signed
    if (!writable.ok()) return Fail(writable);
  }
  for (uint32_t p : which) {
    CrlRequest req{(*inst)->Name(role), *cert, delta, p, parts,
                   delta ? cfg.delta_next_update_hours : cfg.crl_next_update_hours, cfg.crl_url, cfg.delta_crl_url, 0,
                   [&](int64_t number) { return (*inst)->CheckCrlNumber((*inst)->Name(role), p, number); }};
    auto rec = GenerateCrl((*inst)->db(), **key, req, Actor(args));
    if (!rec.ok()) return Fail(rec.status());
    Status st = (*inst)->RecordCrl(*rec);
    if (st.ok()) st = WriteCrl(args, **inst, *rec, parts);
    if (!st.ok()) return Fail(st);
    std::fprintf(stderr, "%s CRL number %lld (partition %u), %zu bytes\n", delta ? "delta" : "full",
                 static_cast<long long>(rec->number), p, rec->der.size());  // NOLINT(runtime/int)
  }
  return 0;
}

}  // namespace certvault::ca::cli
