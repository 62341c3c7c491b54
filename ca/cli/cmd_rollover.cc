// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca rollover [--issuing | --root]: a new key generation
// (CaInstance::Rollover, docs/design/ca.md "Key rollover").
#include <cstdio>

#include "ca/cli/cli.h"
#include "ca/cli/quorum_check.h"

namespace certvault::ca::cli {

int CmdRollover(Args& args) {
  if (args.Has("issuing") && args.Has("root")) return Usage("rollover: --issuing or --root, not both");
  bool root = args.Has("root");
  auto inst = OpenForSigning(args);  // a wrong PIN is refused here, before any key is made
  if (!inst.ok()) return Fail(inst.status());
  if (args.Has("quorum-op")) (*inst)->SetQuorumOp(args.Get("quorum-op"));
  Status st = CheckQuorumOp((*inst)->config(), args, "rollover");  // issue 16: the new keys under the quorum too
  if (st.ok()) st = (*inst)->Rollover(root, Actor(args));
  if (!st.ok()) return Fail(st);
  CaInstance& ca = **inst;
  std::string issuing = ca.CertPath(CaRole::kIssuing);
  std::fprintf(stderr, "issuing CA generation %u: %s (key %s), chain.pem updated\n", ca.Generation(CaRole::kIssuing),
               issuing.c_str(), ca.Name(CaRole::kIssuing).c_str());
  if (root) {
    std::string base = ca.config().dir + "/root" + GenerationSuffix(ca.Generation(CaRole::kRoot));
    std::fprintf(stderr, "root generation %u: %s.pem, links %s-old-with-new.pem and %s-new-with-old.pem\n",
                 ca.Generation(CaRole::kRoot), base.c_str(), base.c_str(), base.c_str());
  }
  std::fprintf(stderr, "older generations issue nothing more; they keep signing CRLs and OCSP for their certificates\n");
  return 0;
}

}  // namespace certvault::ca::cli
