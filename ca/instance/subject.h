// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SplitSubject: "/CN=Factory CA/O=Example" (the -subj form; "\/" escapes a
// slash) into attribute entries. kInvalidArgument when malformed.
#ifndef CERTVAULT_CA_INSTANCE_SUBJECT_H_
#define CERTVAULT_CA_INSTANCE_SUBJECT_H_

#include <string_view>
#include <vector>

#include "ca/profile/profile.h"

namespace certvault::ca {

Result<std::vector<SubjectEntry>> SplitSubject(std::string_view subject);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_INSTANCE_SUBJECT_H_
