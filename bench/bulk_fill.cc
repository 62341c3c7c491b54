// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "bench/bulk_fill.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "src/base/status_macros.h"
#include "src/core/object.h"
#include "src/core/policy.h"
#include "src/storage/store.h"

namespace certvault::bench {
namespace {

constexpr size_t kRowsPerTransaction = 5000;

Result<storage::ObjectRow> DataObjectRow(uint64_t token_id, const std::string& label) {
  std::array<uint8_t, 32> value{};
  std::memcpy(value.data(), label.data(), std::min(label.size(), value.size()));
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_DATA);
  tmpl.SetBool(CKA_TOKEN, true);
  tmpl.SetBool(CKA_PRIVATE, false);
  tmpl.SetString(CKA_LABEL, label);
  tmpl.Set(CKA_VALUE, value);
  core::Object obj;
  CV_ASSIGN_OR_RETURN(obj.attrs, policy::ApplyTemplate(CKO_DATA, 0, tmpl, policy::Origin::kCreate,
                                                       policy::kCkUnavailableInformation));
  CV_ASSIGN_OR_RETURN(obj.id, core::NewObjectId());
  obj.token = token_id;
  obj.token_object = true;
  obj.attrs.SetString(policy::kCkaUniqueId, std::to_string(obj.id));
  return core::ToRow(obj, nullptr);  // public data objects: stored unauthenticated
}

}  // namespace

Status BulkFillDataObjects(const std::string& vault_dir, uint64_t token_id, const std::string& prefix, size_t first,
                           size_t count) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                      storage::OpenStore(vault_dir + "/vault.db", storage::StoreOptions{}));
  for (size_t done = 0; done < count;) {
    std::vector<storage::ObjectRow> rows;
    for (size_t n = std::min(kRowsPerTransaction, count - done); n > 0; --n, ++done) {
      CV_ASSIGN_OR_RETURN(storage::ObjectRow row, DataObjectRow(token_id, prefix + "-" + std::to_string(first + done)));
      rows.push_back(std::move(row));
    }
    CV_RETURN_IF_ERROR(store->InsertObjects(rows));
  }
  return OkStatus();
}

Status BulkFillInChild(const std::string& vault_dir, uint64_t token_id, const std::string& prefix, size_t first,
                       size_t count) {
  pid_t pid = ::fork();
  if (pid < 0) return InternalError("fork failed");
  if (pid == 0) _exit(BulkFillDataObjects(vault_dir, token_id, prefix, first, count).ok() ? 0 : 1);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return InternalError("bulk fill failed");
  }
  return OkStatus();
}

}  // namespace certvault::bench
