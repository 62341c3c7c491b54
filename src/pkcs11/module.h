// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Module: the library state behind C_Initialize / C_Finalize.
//
// Lifecycle (PKCS#11 v3.0 §5.4): C_Initialize validates CK_C_INITIALIZE_ARGS
// and opens the backend; C_Finalize drops it. Every other call reads the state
// with one atomic load and no lock: §5.4 makes C_Finalize while other threads
// are in calls undefined, and the hot path (C_SignInit + C_Sign from many
// threads) must not serialize on a module-wide lock.
//
// Fork: a pthread_atfork child handler moves the child to a new generation;
// state from another generation is the parent's. In a child process the
// module behaves as not initialized: calls return
// CKR_CRYPTOKI_NOT_INITIALIZED, C_Initialize succeeds and opens a fresh
// backend, and the parent's sessions are invalid. The parent's backend is
// deliberately leaked in the child (closing its files or database handles
// there could disturb the parent). The same handlers keep the init lock
// consistent across fork.
//
// Unload: nothing here has a static destructor. If the application never calls
// C_Finalize (or dlclose()s the module first), the backend is leaked on
// purpose: destroying it from an exit handler could race with OpenSSL's own
// cleanup.
#ifndef CERTVAULT_PKCS11_MODULE_H_
#define CERTVAULT_PKCS11_MODULE_H_

#include <memory>

#include "src/base/result.h"
#include "src/base/status.h"
#include "src/core/backend.h"
#include "src/pkcs11/pkcs11_v3.h"

namespace certvault::pkcs11 {

// OpenBackendFromEnvironment: the one backend factory of the module:
// certvault::OpenBackend (src/ipc/open_backend.h) with default options: the
// certvaultd client when CERTVAULT_SOCKET (or the config file's [daemon]
// socket) is set, else the embedded backend (which honours CERTVAULT_HOME).
// Defined in backend_factory.cc, linked only into the shared module (tests
// link their own).
Result<std::unique_ptr<Backend>> OpenBackendFromEnvironment();

// ValidateInitArgs: PKCS#11 §5.4 C_Initialize argument rules. NULL is fine.
// CKR_ARGUMENTS_BAD: pReserved not NULL, or only some mutex callbacks given.
// CKR_CANT_LOCK: all callbacks given without CKF_OS_LOCKING_OK (the module
// can only use native locks). CKF_LIBRARY_CANT_CREATE_OS_THREADS is fine: the
// module creates no threads.
CK_RV ValidateInitArgs(const CK_C_INITIALIZE_ARGS* args);

// InitializeModule: C_Initialize. CKR_CRYPTOKI_ALREADY_INITIALIZED if already
// initialized in this process; the backend's error if it cannot be opened.
// Returns a CK_RV because CKR_CANT_LOCK has no Reason.
CK_RV InitializeModule(CK_VOID_PTR pInitArgs);

// FinalizeModule: C_Finalize. kArgumentsBad if pReserved is not NULL,
// kNotInitialized if not initialized (in this process).
Status FinalizeModule(CK_VOID_PTR pReserved);

// IsInitialized: C_Initialize succeeded in this process and no C_Finalize since.
bool IsInitialized();

// CurrentBackend: the backend; kNotInitialized if none. Thread-safe, lock-free.
// Valid until C_Finalize (which the application must not race with calls).
Result<Backend*> CurrentBackend();

}  // namespace certvault::pkcs11

#endif  // CERTVAULT_PKCS11_MODULE_H_
