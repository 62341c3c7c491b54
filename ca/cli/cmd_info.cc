// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca install-issuing / list / show / profiles / audit.
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

}  // namespace

int CmdInstallIssuing(Args& args) {
  auto inst = OpenForSigning(args);
  if (!inst.ok()) return Fail(inst.status());
  Status st = (*inst)->InstallIssuing(args.Get("cert"), args.Get("root"), ActorOf(args));
  return st.ok() ? 0 : Fail(st);
}

int CmdList(Args& args) {
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  CaRole role = args.Get("ca", "issuing") == "root" ? CaRole::kRoot : CaRole::kIssuing;
  auto list = (*inst)->db().List((*inst)->Name(role), args.Get("subject"), std::stoul(args.Get("limit", "100")));
  if (!list.ok()) return Fail(list.status());
  for (const CertRecord& r : *list) {
    std::printf("%s %s %s %s %s\n", r.serial.c_str(), r.revoked ? "revoked" : "valid", Date(r.not_after).c_str(),
                r.profile.c_str(), r.subject.c_str());
  }
  return 0;
}

int CmdShow(Args& args) {
  if (args.positional.size() != 1) return Usage("show: give one serial");
  auto serial = NormalizeSerialHex(args.positional[0]);
  if (!serial.ok()) return Fail(serial.status());
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  CaRole role = args.Get("ca", "issuing") == "root" ? CaRole::kRoot : CaRole::kIssuing;
  auto rec = (*inst)->db().FindBySerial((*inst)->Name(role), *serial);
  if (!rec.ok()) return Fail(rec.status());
  if (args.Has("pem")) {
    auto pem = x509::PemEncode("CERTIFICATE", rec->der);
    if (!pem.ok()) return Fail(pem.status());
    std::fwrite(pem->data(), 1, pem->size(), stdout);
    return 0;
  }
  std::printf("serial: %s\nsubject: %s\nprofile: %s\nnot_before: %s\nnot_after: %s\nstatus: %s\n", rec->serial.c_str(),
              rec->subject.c_str(), rec->profile.c_str(), Date(rec->not_before).c_str(), Date(rec->not_after).c_str(),
              rec->revoked ? "revoked" : "valid");
  if (rec->revoked) std::printf("revoked_at: %s\nreason: %d\n", Date(rec->revoked_at).c_str(), rec->reason);
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
