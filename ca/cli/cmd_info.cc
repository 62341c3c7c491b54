// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca install-issuing / list / show / profiles / audit.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "ca/cli/cli.h"
#include "ca/issuance/serial.h"

namespace certvault::ca::cli {
namespace {

std::string Date(int64_t t) {
  char buf[32];
  time_t tt = static_cast<time_t>(t);
  struct tm tm_v;
  gmtime_r(&tt, &tm_v);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_v);
  return buf;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "-" : out;
}

// Generations: the key generations of `role` that list/show search,
// newest first: the one `--generation N` names, else every one (a
// certificate issued before a rollover stays the CA's record after it).
Result<std::vector<uint32_t>> Generations(const Args& args, CaInstance& inst, CaRole role) {
  const uint32_t current = inst.Generation(role);
  std::vector<uint32_t> gens;
  if (args.Has("generation")) {
    const std::string text = args.Get("generation");
    bool digits = !text.empty() && text.size() <= 4 && text.find_first_not_of("0123456789") == std::string::npos;
    uint32_t gen = digits ? static_cast<uint32_t>(std::stoul(text)) : 0;
    if (gen < 1 || gen > current) {
      return InvalidArgumentError("--generation must be 1.." + std::to_string(current) + " (the current one)");
    }
    gens.push_back(gen);
    return gens;
  }
  for (uint32_t gen = current; gen >= 1; --gen) gens.push_back(gen);
  return gens;
}

CaRole RoleOf(const Args& args) { return args.Get("ca", "issuing") == "root" ? CaRole::kRoot : CaRole::kIssuing; }

// FindInGenerations: the record of `serial` and the generation that issued
// it, searching `gens` in order; kNotFound naming the serial otherwise.
Result<std::pair<CertRecord, uint32_t>> FindInGenerations(CaInstance& inst, CaRole role,
                                                          const std::vector<uint32_t>& gens,
                                                          const std::string& serial) {
  for (uint32_t gen : gens) {
    Result<CertRecord> rec = inst.db().FindBySerial(inst.NameOf(role, gen), serial);
    if (rec.ok()) return std::make_pair(std::move(*rec), gen);
    if (rec.status().code() != StatusCode::kNotFound) return rec.status();
  }
  return NotFoundError("no certificate with serial " + serial + " was issued by this CA");
}

}  // namespace

int CmdInstallIssuing(Args& args) {
  auto inst = OpenForSigning(args);
  if (!inst.ok()) return Fail(inst.status());
  Status st = (*inst)->InstallIssuing(args.Get("cert"), args.Get("root"), ActorOf(args));
  return st.ok() ? 0 : Fail(st);
}

// list: one line per certificate, "SERIAL STATUS NOT_AFTER PROFILE gN
// SUBJECT", generation by generation from the current one (docs/design/ca.md,
// "Key rollover"); --limit counts across them.
int CmdList(Args& args) {
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  CaRole role = RoleOf(args);
  auto gens = Generations(args, **inst, role);
  if (!gens.ok()) return Usage(std::string(gens.status().message()));
  size_t left = std::stoul(args.Get("limit", "100"));
  for (uint32_t gen : *gens) {
    if (left == 0) break;
    auto list = (*inst)->db().List((*inst)->NameOf(role, gen), args.Get("subject"), left);
    if (!list.ok()) return Fail(list.status());
    left -= std::min(left, list->size());
    for (const CertRecord& r : *list) {
      std::printf("%s %s %s %s g%u %s\n", r.serial.c_str(), r.revoked ? "revoked" : "valid", Date(r.not_after).c_str(),
                  r.profile.c_str(), gen, r.subject.c_str());
    }
  }
  return 0;
}

// show: the certificate with this serial, whichever generation issued it.
int CmdShow(Args& args) {
  if (args.positional.size() != 1) return Usage("show: give one serial");
  auto serial = NormalizeSerialHex(args.positional[0]);
  if (!serial.ok()) return Fail(serial.status());
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  CaRole role = RoleOf(args);
  auto gens = Generations(args, **inst, role);
  if (!gens.ok()) return Usage(std::string(gens.status().message()));
  auto found = FindInGenerations(**inst, role, *gens, *serial);
  if (!found.ok()) return Fail(found.status());
  const CertRecord& rec = found->first;
  const uint32_t gen = found->second;
  if (args.Has("pem")) {
    auto pem = x509::PemEncode("CERTIFICATE", rec.der);
    if (!pem.ok()) return Fail(pem.status());
    std::fwrite(pem->data(), 1, pem->size(), stdout);
    return 0;
  }
  std::printf("serial: %s\nsubject: %s\nprofile: %s\nnot_before: %s\nnot_after: %s\nstatus: %s\n", rec.serial.c_str(),
              rec.subject.c_str(), rec.profile.c_str(), Date(rec.not_before).c_str(), Date(rec.not_after).c_str(),
              rec.revoked ? "revoked" : "valid");
  if (rec.revoked) std::printf("revoked_at: %s\nreason: %d\n", Date(rec.revoked_at).c_str(), rec.reason);
  std::printf("generation: %u%s\nissuer: %s\n", gen, gen == (*inst)->Generation(role) ? " (current)" : " (retired)",
              (*inst)->NameOf(role, gen).c_str());
  return 0;
}

int CmdProfiles(Args& args) {
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  for (const auto& [name, p] : (*inst)->config().profiles) {
    std::printf("%s: %sdays=%u key_usage=%s eku=%s san_types=%s keys=%s policies=%s\n", name.c_str(),
                p.internal ? "internal (the CA's OCSP signer) " : "", p.days,
                Join(p.key_usage).c_str(), Join(p.extended_key_usage).c_str(), Join(p.san_types).c_str(),
                Join(p.key_algorithms).c_str(), Join(p.policies).c_str());
  }
  return 0;
}

int CmdAudit(Args& args) {
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  auto events = (*inst)->db().ListAudit(std::stoul(args.Get("limit", "50")));
  if (!events.ok()) return Fail(events.status());
  for (const AuditEvent& e : *events) {
    std::printf("%s %s %s %s %s %s\n", Date(e.at).c_str(), e.actor.c_str(), e.action.c_str(), e.ca.c_str(),
                e.object.c_str(), e.detail.c_str());
  }
  return 0;
}

}  // namespace certvault::ca::cli
