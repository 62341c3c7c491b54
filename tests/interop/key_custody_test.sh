#!/usr/bin/env bash
# Interop: quorum-protected keys (issue 16, docs/design/quorum.md
# "Quorum-protected keys"). A key created under an approved create-key
# operation (2 of 3 custodians) cannot be deleted by pkcs11-tool
# (CKR_ACTION_PROHIBITED); one custodian's approval of destroy-key is not
# enough; two are, through `certvault delete --op ID`. In daemon mode the
# creation (keygen --op), the refusals and the destruction (delete --op, IPC
# op DestroyProtectedObjects) go through certvaultd, which checks the
# approvals, and so do the approvals (`quorum approve`: the custodian's share
# is sealed in the CLI, certvaultd checks and stores it, IPC ops 87/88);
# quorum init and request open vault.db in their own process, so they refuse
# while certvaultd answers on the CLI's socket; run here without it (as an
# operator would with the vault's file, docs/design/quorum.md "Daemon mode").
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool
[[ -n "${CLI:-}" ]] || skip "needs the certvault CLI (CLI)"
is_softhsm && skip "certvault's quorum only"
setup_env
printf '[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n' >"$WORK/conf.toml"
export CERTVAULT_CONF="$WORK/conf.toml"   # low Argon2id cost for every token here
init_token

cv() { timeout "$T" "$CLI" "$@"; }
# quorum init and request run in embedded mode only: they open the vault themselves.
cv_embedded() { timeout "$T" env -u CERTVAULT_SOCKET "$CLI" "$@"; }
custodians=()
for c in cA cB cC; do
  cv_embedded --vault "$WORK/$c" init --label "$c" --so-pin "$SO_PIN" --pin "pin-of-$c" >/dev/null || fail "custodian $c"
  (umask 077; printf 'pin-of-%s\n' "$c" >"$WORK/$c.pin")
  custodians+=(--custodian "$WORK/$c" --custodian-pin-file "$WORK/$c.pin")
done
cv_embedded quorum init --token "$TOKEN_LABEL" --k 2 "${custodians[@]}" --so-pin "$SO_PIN" >/dev/null || fail "quorum init"
request() { cv_embedded quorum request --token "$TOKEN_LABEL" --op "$1" --so-pin "$SO_PIN"; }
approve() { cv quorum approve --op "$1" --custodian "$WORK/$2" --pin "pin-of-$2" >/dev/null || fail "approve by $2"; }

log "create-key approved by cA and cC: certvault keygen --op makes a protected key"
id=$(request create-key)
approve "$id" cA
approve "$id" cC
cv keygen --label ca-root --type ec:p256 --id c0ffee --op "$id" --pin "$USER_PIN" >/dev/null || fail "keygen --op"

log "pkcs11-tool --delete-object is refused"
expect_failure "pkcs11-tool --delete-object of a protected key" \
  p11_user --delete-object --type privkey --id c0ffee
# OpenSC prints CKR_ACTION_PROHIBITED (v2.40) by number.
expect_contains "$WORK/expect_failure.out" "CKR_ACTION_PROHIBITED|\(0x1b\)" "pkcs11-tool did not report CKR_ACTION_PROHIBITED"
p11_user --list-objects --type privkey >"$WORK/list.out" 2>&1 || fail "pkcs11-tool --list-objects"
expect_contains "$WORK/list.out" "ca-root" "the protected key is gone after a refused delete"

log "destroy-key: one approval is refused, two delete the key"
id=$(request destroy-key)
approve "$id" cB
expect_failure "delete --op with 1 of 2 approvals" \
  cv delete --object ca-root --type all --op "$id" --pin "$USER_PIN"
expect_contains "$WORK/expect_failure.out" "1 of 2 approvals" "k-1 approvals: wrong error"
approve "$id" cA
cv delete --object ca-root --type all --op "$id" --pin "$USER_PIN" >"$WORK/delete.out" || fail "delete --op"
p11_user --list-objects >"$WORK/list.out" 2>&1 || fail "pkcs11-tool --list-objects"
if grep -q "ca-root" "$WORK/list.out"; then cat "$WORK/list.out" >&2; fail "the key survived an approved delete"; fi
if [[ -n "${CERTVAULT_SOCKET:-}" ]]; then
  log "daemon mode: the approvals went through certvaultd"
  cv_embedded --vault "$WORK/cA" audit --token cA >"$WORK/cA.audit" 2>&1 || fail "audit of custodian cA"
  expect_contains "$WORK/cA.audit" "through certvaultd" "custodian cA's approval did not go through certvaultd"
  expect_failure "approval of an unknown operation through certvaultd" \
    cv quorum approve --op 00000000000000000000000000000000 --custodian "$WORK/cA" --pin "pin-of-cA"
  expect_contains "$WORK/expect_failure.out" "no pending quorum operation" "unknown operation: unclear error"
  log "daemon mode: a quorum verb that would open vault.db refuses while certvaultd runs"
  expect_failure "quorum request next to a running certvaultd" \
    cv quorum request --token "$TOKEN_LABEL" --op backup --so-pin "$SO_PIN"
  expect_contains "$WORK/expect_failure.out" "owns this vault" "quorum request next to certvaultd: unclear refusal"
fi

if command -v sqlite3 >/dev/null; then
  log "quorum record and policy pin deleted from vault.db: key generation is refused, not run unguarded"
  timeout "$T" sqlite3 -cmd ".timeout 10000" "$CERTVAULT_HOME/vault.db" "DELETE FROM meta WHERE key LIKE 'quorum/%'" ||
    fail "sqlite3 edit"
  expect_failure "keygen on a token whose quorum record was deleted" \
    cv keygen --label after-edit --type ec:p256 --pin "$USER_PIN"
  expect_contains "$WORK/expect_failure.out" "policy pin is missing from vault.db" "keygen after the edit: unclear refusal"
fi
