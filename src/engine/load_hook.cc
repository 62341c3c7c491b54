// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/engine/load_hook.h"

#include <atomic>

namespace certvault::engine {
namespace {

// Tests set the hook before the calls that use it; the argument is published
// first, so a caller that sees a hook sees its argument.
std::atomic<LoadKeyHook> g_fn{nullptr};
std::atomic<void*> g_arg{nullptr};

}  // namespace

void SetLoadKeyHookForTesting(LoadKeyHook hook, void* arg) {
  g_arg.store(arg, std::memory_order_release);
  g_fn.store(hook, std::memory_order_release);
}

void RunLoadKeyHook() {
  LoadKeyHook fn = g_fn.load(std::memory_order_acquire);
  if (fn != nullptr) fn(g_arg.load(std::memory_order_acquire));
}

}  // namespace certvault::engine
