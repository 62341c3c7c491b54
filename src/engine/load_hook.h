// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The load hook: a seam for the re-entrancy tests. LoadKey parses key material
// with OpenSSL; in an application that code could, before certvault had its
// own library context, run a provider that called the PKCS#11 module again
// from inside the module call. The hook stands for such a call: a test makes
// it call back into the backend from inside LoadKey, and checks that nothing
// deadlocks (src/core/reentry_test.cc). Production code never sets it.
#ifndef CERTVAULT_ENGINE_LOAD_HOOK_H_
#define CERTVAULT_ENGINE_LOAD_HOOK_H_

namespace certvault::engine {

using LoadKeyHook = void (*)(void* arg);

// SetLoadKeyHookForTesting: `hook(arg)` runs at the start of every LoadKey
// call, on the caller's thread; nullptr removes it. Thread-safe.
void SetLoadKeyHookForTesting(LoadKeyHook hook, void* arg);

// RunLoadKeyHook: calls the hook if one is set (LoadKey does).
void RunLoadKeyHook();

}  // namespace certvault::engine

#endif  // CERTVAULT_ENGINE_LOAD_HOOK_H_
