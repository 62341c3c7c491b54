// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/subject.h"

#include "src/base/status_macros.h"
#include "src/crypto/x509_build.h"

namespace certvault::ca {

Result<std::vector<SubjectEntry>> SplitSubject(std::string_view subject) {
  CV_ASSIGN_OR_RETURN(std::vector<x509::SubjectPart> parts, x509::SplitSubject(subject));
  std::vector<SubjectEntry> out;
  out.reserve(parts.size());
  for (x509::SubjectPart& p : parts) out.push_back({std::move(p.field), std::move(p.value)});
  return out;
}

}  // namespace certvault::ca
