// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/subject.h"

namespace certvault::ca {

Result<std::vector<SubjectEntry>> SplitSubject(std::string_view subject) {
  if (subject.size() < 2 || subject[0] != '/') return InvalidArgumentError("subject must look like /CN=name/O=org");
  std::vector<SubjectEntry> out;
  std::string part;
  for (size_t i = 1; i <= subject.size(); ++i) {
    if (i < subject.size() && subject[i] == '\\' && i + 1 < subject.size()) {
      part += subject[++i];
      continue;
    }
    if (i < subject.size() && subject[i] != '/') {
      part += subject[i];
      continue;
    }
    size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) {
      return InvalidArgumentError("subject component must be NAME=value");
    }
    out.push_back({part.substr(0, eq), part.substr(eq + 1)});
    part.clear();
  }
  return out;
}

}  // namespace certvault::ca
