// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/crl/crl_service.h"

#include "ca/crl/crl_builder.h"
#include "src/base/status_macros.h"

namespace certvault::ca {

Result<CrlRecord> GenerateCrl(CertDb& db, CaKey& key, const CrlRequest& req, const std::string& actor) {
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
  // Read the high-water mark first: revocations committed meanwhile have a
  // larger id and go into the next CRL, never missed by a delta.
  CV_ASSIGN_OR_RETURN(rec.max_revocation_id, db.MaxRevocationId(req.ca));
  CV_ASSIGN_OR_RETURN(std::vector<RevokedEntry> entries,
                      db.Revoked(req.ca, after, now, req.partition, req.partitions));
  while (!entries.empty() && entries.back().id > rec.max_revocation_id) entries.pop_back();
  // RFC 5280 §5.2.5: each partition's CRLs (full and delta alike) carry the
  // partition's distribution point, which its certificates' CRL DP names.
  std::string dp = req.partitions > 1 ? PartitionUrl(req.crl_url, req.partition, req.partitions) : "";
  std::string freshest = PartitionUrl(req.delta_crl_url, req.partition, req.partitions);
  return db.StoreCrl(std::move(rec), actor, [&](CrlRecord& r) -> Result<Bytes> {
    CrlSpec spec{req.issuer, r.number, r.delta, r.base_number, static_cast<time_t>(r.this_update),
                 static_cast<time_t>(r.next_update), dp, freshest, entries};
    return BuildCrl(spec, key);
  });
}

}  // namespace certvault::ca
