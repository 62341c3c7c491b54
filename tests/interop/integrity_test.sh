#!/usr/bin/env bash
# Offline edits of $CERTVAULT_HOME/vault.db (issue 11 §1, docs/formats/integrity.md)
# against the real module and CLI, in embedded and daemon mode:
#  1. swapped label/id columns between two keys: `certvault csr --key A` refuses
#     (clear error naming the object, exit 4) instead of signing with key B;
#     `certvault list` names both refused keys and still lists the others;
#  2. CKA_SENSITIVE/CKA_EXTRACTABLE flipped in a key's record: pkcs11-tool gets
#     CKR_DEVICE_ERROR for the key, another key still signs;
#  3. the token row edited (capacity): C_Login fails with CKR_DEVICE_ERROR;
#  4. then the integrity state removed too, so the token looks legacy (the
#     downgrade): C_Login still fails with CKR_DEVICE_ERROR, the CLI names it.
# certvault only (SoftHSM2 has no such store): skipped for another module.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool sqlite3
[[ -x "$PY" ]] || skip "$PY is not installed"
setup_env
is_softhsm && skip "certvault store edits only"
[[ -n "${CLI:-}" && -x "$CLI" ]] || skip "CLI (certvault) not given"
init_token
DB="$CERTVAULT_HOME/vault.db"
sql() { timeout "$T" sqlite3 -cmd ".timeout 10000" "$DB" "$@"; }
cv() { timeout "$T" "$CLI" "$@"; }
for k in A B C; do
  cv keygen --token "$TOKEN_LABEL" --label "$k" --type ec:p256 --pin "$USER_PIN" >/dev/null || fail "keygen $k"
done
cv csr --key A --subject /CN=a --pin "$USER_PIN" --out "$WORK/a.csr" || fail "csr before the edit"
priv() { sql "SELECT object_id FROM objects WHERE class = 3 AND label = CAST('$1' AS BLOB)"; }
A=$(priv A) B=$(priv B)
[[ -n "$A" && -n "$B" ]] || fail "private key rows not found"

log "1. label/id columns swapped between A and B"
idA=$(sql "SELECT hex(ckid) FROM objects WHERE object_id = $A")
idB=$(sql "SELECT hex(ckid) FROM objects WHERE object_id = $B")
sql "UPDATE objects SET label = CAST('B' AS BLOB), ckid = X'$idB' WHERE object_id = $A;
     UPDATE objects SET label = CAST('A' AS BLOB), ckid = X'$idA' WHERE object_id = $B"
rc=0
cv csr --key A --subject /CN=a --pin "$USER_PIN" --out "$WORK/swapped.csr" >"$WORK/csr.out" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || { cat "$WORK/csr.out" >&2; fail "csr --key A signed after the label swap"; }
[[ $rc -lt 124 ]] || fail "csr crashed or hung (exit $rc)"
expect_contains "$WORK/csr.out" "object $B .*integrity check" "csr error does not name the refused object"
[[ $rc -eq 4 ]] || fail "csr exit code $rc, expected 4 (vault error)"
log "csr refused: $(head -1 "$WORK/csr.out")"
[[ ! -s "$WORK/swapped.csr" ]] || fail "a CSR was written"

rc=0
cv list --login --pin "$USER_PIN" >"$WORK/list.out" 2>"$WORK/list.err" || rc=$?
[[ $rc -eq 4 ]] || { cat "$WORK/list.out" "$WORK/list.err" >&2; fail "list exit code $rc, expected 4"; }
expect_contains "$WORK/list.err" "object $A .*integrity check" "list does not name a refused object"
expect_contains "$WORK/list.out" "private \(ec\)  label=C" "list stopped at the refused objects"

log "2. CKA_SENSITIVE/CKA_EXTRACTABLE flipped in C's record (MAC kept)"
C=$(priv C)
"$PY" - "$DB" "$C" <<'PYEOF' || fail "record edit"
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1], timeout=10); oid = int(sys.argv[2])
rec = db.execute("SELECT record FROM objects WHERE object_id = ?", (oid,)).fetchone()[0]
assert rec[:4] == b"CVR\x02", rec[:4]
head = 5 + rec[4]                     # magic, version, mac_len, mac
out, pos = bytearray(rec[:head + 4]), head + 4
for _ in range(struct.unpack(">I", rec[head:head + 4])[0]):
    typ, flags, n = struct.unpack(">QBI", rec[pos:pos + 13])
    val = rec[pos + 13:pos + 13 + n]
    if typ == 0x103: val = b"\x00"    # CKA_SENSITIVE
    if typ == 0x162: val = b"\x01"    # CKA_EXTRACTABLE
    out += struct.pack(">QBI", typ, flags, len(val)) + val
    pos += 13 + n
db.execute("UPDATE objects SET record = ? WHERE object_id = ?", (bytes(out), oid)); db.commit()
PYEOF
printf 'data to sign' >"$WORK/data"
rc=0
# pkcs11-tool selects the signing key by --id (it ignores --label here).
idof() { sql "SELECT hex(ckid) FROM objects WHERE object_id = $1"; }
p11_user --sign --mechanism ECDSA-SHA256 --id "$(idof "$C")" --input-file "$WORK/data" --output-file "$WORK/c.sig" \
  >"$WORK/sign.out" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -lt 124 ]] || { cat "$WORK/sign.out" >&2; fail "C signed after its record was edited (exit $rc)"; }
expect_contains "$WORK/sign.out" "CKR_DEVICE_ERROR" "the edited key did not fail with CKR_DEVICE_ERROR"
if "$PY" -c "import PyKCS11" 2>/dev/null; then
  # C_GetAttributeValue(CKA_VALUE) of the edited key: refused, never the key.
  timeout "$T" "$PY" - "$MODULE" "$TOKEN_LABEL" "$USER_PIN" <<'PYEOF' || fail "the edited key's CKA_VALUE was not refused with CKR_DEVICE_ERROR"
import sys, PyKCS11
lib = PyKCS11.PyKCS11Lib(); lib.load(sys.argv[1])
slot = next(s for s in lib.getSlotList(tokenPresent=True) if lib.getTokenInfo(s).label.strip() == sys.argv[2])
session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
session.login(sys.argv[3])
key = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_LABEL, "C")])[0]
try:
    session.getAttributeValue(key, [PyKCS11.CKA_VALUE])
except PyKCS11.PyKCS11Error as e:
    sys.exit(0 if e.value == PyKCS11.CKR_DEVICE_ERROR else 1)
sys.exit(1)
PYEOF
fi
# Untouched keys keep working (a fresh key, so that no column of it was edited).
cv keygen --token "$TOKEN_LABEL" --label D --type ec:p256 --pin "$USER_PIN" >/dev/null || fail "keygen D"
p11_user --sign --mechanism ECDSA-SHA256 --id "$(idof "$(priv D)")" --input-file "$WORK/data" --output-file "$WORK/d.sig" \
  >"$WORK/d.out" 2>&1 || { cat "$WORK/d.out" >&2; fail "an untouched key no longer signs"; }

log "3. token row edited"
sql "UPDATE tokens SET capacity = 1"
rc=0
p11_user --list-objects >"$WORK/login.out" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -lt 124 ]] || { cat "$WORK/login.out" >&2; fail "login succeeded on an edited token row"; }
expect_contains "$WORK/login.out" "CKR_DEVICE_ERROR" "login on an edited token row did not fail with CKR_DEVICE_ERROR"

log "4. integrity state removed as well (downgrade: the token would be trusted again)"
sql "UPDATE tokens SET integrity = x''"
rc=0
p11_user --list-objects >"$WORK/downgrade.out" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -lt 124 ]] || { cat "$WORK/downgrade.out" >&2; fail "login succeeded after the state was removed"; }
expect_contains "$WORK/downgrade.out" "CKR_DEVICE_ERROR" "login after the state was removed did not fail with CKR_DEVICE_ERROR"
rc=0
cv list --login --pin "$USER_PIN" >"$WORK/downgrade-list.out" 2>&1 || rc=$?
[[ $rc -eq 4 ]] || { cat "$WORK/downgrade-list.out" >&2; fail "list exit code $rc after the state was removed, expected 4"; }
expect_contains "$WORK/downgrade-list.out" "integrity state was removed" "the CLI does not say the state was removed"
[[ "$(sql "SELECT length(integrity) FROM tokens WHERE label = '$TOKEN_LABEL'")" == 0 ]] || fail "a state was written again"
