// sign_path_instructions: C_SignInit + C_Sign (ECDSA P-256, token key, cached)
// in a loop, for callgrind to count the instructions of one signature
// (bench/sign_path_instructions.sh). Instruction counts do not depend on the
// machine's load, so they resolve changes of a few percent that timing on a
// shared 2-core VM cannot.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define CK_PTR *
#define CK_DECLARE_FUNCTION(rv, name) rv name
#define CK_DECLARE_FUNCTION_POINTER(rv, name) rv (*name)
#define CK_CALLBACK_FUNCTION(rv, name) rv (*name)
#ifndef NULL_PTR
#define NULL_PTR 0
#endif
#include "third_party/pkcs11/pkcs11.h"
static CK_FUNCTION_LIST_PTR f;
#define CK(x) do { CK_RV r = (x); if (r != CKR_OK) { fprintf(stderr, "%s: 0x%lx\n", #x, r); exit(1); } } while (0)
__attribute__((noinline)) void SignLoop(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, int n) {
  CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
  unsigned char data[32] = {1}, sig[128];
  for (int i = 0; i < n; i++) {
    CK_ULONG len = sizeof(sig);
    CK(f->C_SignInit(s, &m, k));
    CK(f->C_Sign(s, data, 32, sig, &len));
  }
}
int main(int argc, char** argv) {
  void* h = dlopen(argv[1], RTLD_NOW);
  if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  CK_RV (*gfl)(CK_FUNCTION_LIST_PTR_PTR) = dlsym(h, "C_GetFunctionList");
  CK(gfl(&f));
  CK(f->C_Initialize(NULL));
  CK_SLOT_ID slots[8]; CK_ULONG ns = 8;
  CK(f->C_GetSlotList(CK_TRUE, slots, &ns));
  CK_SESSION_HANDLE s;
  CK(f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
  CK(f->C_Login(s, CKU_USER, (unsigned char*)"userpin1", 8));
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY; CK_BBOOL t = CK_TRUE;
  CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_SIGN, &t, 1}};
  CK(f->C_FindObjectsInit(s, tmpl, 2));
  CK_OBJECT_HANDLE k; CK_ULONG nk = 0;
  CK(f->C_FindObjects(s, &k, 1, &nk));
  CK(f->C_FindObjectsFinal(s));
  SignLoop(s, k, 50);   // warm the key cache
  SignLoop(s, k, atoi(argv[2]));
  CK(f->C_Finalize(NULL));
  return 0;
}
