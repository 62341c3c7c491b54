// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/crl/crl_service.h"

#include "ca/crl/crl_builder.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

Result<CrlRecord> GenerateCrl(CertDb& db, CaKey& key, const CrlRequest& req, const AuditActor& actor) {
  time_t now = req.now != 0 ? req.now : std::time(nullptr);
  CrlRecord rec;
  rec.ca = req.ca;
  rec.delta = req.delta;
  rec.partition = req.partition;
  rec.this_update = now;
  rec.next_update = now + static_cast<time_t>(req.next_update_hours) * 3600;
  int64_t after = 0;
  if (req.delta) {
    Result<CrlRecord> base = db.LatestCrl(req.ca, false, req.partition);
    if (!base.ok()) return FailedPreconditionError("a delta CRL needs a full CRL first (certvault-ca crl)");
    rec.base_number = base->number;
    after = base->max_revocation_id;
  }
  // One snapshot: every revocation up to the high-water mark is in it;
  // later ones have larger ids and go into the next CRL.
  CV_ASSIGN_OR_RETURN(std::vector<RevokedEntry> entries,
                      db.RevokedForCrl(req.ca, after, now, req.partition, req.partitions, &rec.max_revocation_id));
  // RFC 5280 §5.2.5: each partition's CRLs (full and delta alike) carry the
  // partition's distribution point, which its certificates' CRL DP names.
  std::string dp = req.partitions > 1 ? PartitionUrl(req.crl_url, req.partition, req.partitions) : "";
  std::string freshest = PartitionUrl(req.delta_crl_url, req.partition, req.partitions);
  return db.StoreCrl(std::move(rec), actor, [&](CrlRecord& r) -> Result<Bytes> {
    if (req.before_sign) CV_RETURN_IF_ERROR(req.before_sign(r.number));
    CrlSpec spec{req.issuer, r.number, r.delta, r.base_number, static_cast<time_t>(r.this_update),
                 static_cast<time_t>(r.next_update), dp, freshest, entries};
    return BuildCrl(spec, key);
  });
}

}  // namespace certvault::ca
