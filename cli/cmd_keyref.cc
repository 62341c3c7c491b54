// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// export-keyref: writes a key-reference file (docs/formats/keyref.md) naming a
// vault private key, for programs that take a key file and load it through
// the certvault OpenSSL provider. The file holds neither key material nor a
// PIN, so no login is needed: the key is found through its public key.
#include "cli/command_context.h"
#include "cli/vault.h"
#include "src/base/status_macros.h"
#include "src/provider/keyref.h"

namespace certvault::cli {

Status CmdExportKeyref(Context& ctx) {
  CV_ASSIGN_OR_RETURN(ObjectSelector sel,
                      MakeSelector(ctx.args->Get("key"), ctx.args->Get("id"), ctx.args->Get("token")));
  sel.object_class = CKO_PUBLIC_KEY;  // the public half names the pair without a login
  CV_ASSIGN_OR_RETURN(OpenedToken t, OpenToken(ctx, sel.token, false, false, UserType::kUser, &sel));
  CV_ASSIGN_OR_RETURN(ObjectInfo info, FindOne(t.session, sel, "key"));
  Pkcs11Uri uri = ObjectUri(t.token, info);
  uri.type = CKO_PRIVATE_KEY;
  provider::KeyRef ref{FormatUriWithScheme(uri, kVaultScheme)};
  std::string file = provider::FormatKeyRef(ref);
  CV_RETURN_IF_ERROR(provider::ParseKeyRef(file).status());  // what we write, the provider reads
  return WriteOutput(ctx, AsSpan(file));
}

}  // namespace certvault::cli
