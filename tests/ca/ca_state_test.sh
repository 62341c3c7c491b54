#!/usr/bin/env bash
# certvault-ca state that must never go backwards (issue 12 §1), changes
# that need the token credential (§4), outputs and arguments (§5):
#   - only init creates a database: a missing, empty or foreign one is
#     refused by every other command and never replaced; ca.db is 0600;
#   - a database restored from an older backup is refused (the token keeps
#     the last CRL number and revocation mark) until `crl --after-restore`,
#     and CRL numbers keep increasing after it;
#   - a damaged database stops signing (PRAGMA quick_check);
#   - clock sanity: a clock before the CA's notBefore (faketime 1990) or
#     before the last signature, or away from an SNTP time_source, signs
#     nothing;
#   - revoke/crl/issue need the token PIN; list/show/audit do not;
#   - issue never truncates --out or leaves empty files, checks --out-dir
#     before signing and names every committed serial;
#   - argument errors are usage errors (exit 2); --help exits 0.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool sqlite3 faketime
setup_env
# The clock checks below are the CA's own: the token's vault (certvault)
# would refuse a clock behind its latest trusted time first (its test is
# tests/interop/trusted_time_test.sh), so its tolerance is lifted here.
if ! is_softhsm; then
  printf '[vault]\nclock_backward_tolerance_s = 4000000000\n' >"$WORK/vault.conf"
  export CERTVAULT_CONF="$WORK/vault.conf"
fi
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"

# refused WHAT PATTERN ARGS...: certvault-ca fails with PATTERN in its output.
refused() {
  local what=$1 pattern=$2
  shift 2
  expect_failure "$what" ca "$@"
  expect_contains "$WORK/expect_failure.out" "$pattern" "$what: unclear error"
  log "refused: $what"
}
# exit_code WANT WHAT ARGS...: certvault-ca exits with WANT.
exit_code() {
  local want=$1 what=$2 rc=0
  shift 2
  ca "$@" >"$WORK/rc.out" 2>&1 || rc=$?
  [[ $rc -eq $want ]] || { cat "$WORK/rc.out" >&2; fail "$what: exit $rc, want $want"; }
  log "exit $want: $what"
}
count() { ca list --limit 100000 | wc -l; }

# §1: no database before init; commands other than init do not create one.
for cmd in "list" "crl" "revoke 01" "audit"; do
  # shellcheck disable=SC2086
  refused "$cmd without a database" "no CA database" $cmd
done
[[ ! -e "$CA_DIR/ca.db" ]] || fail "a command other than init created ca.db"
ca init || fail "init failed"
[[ $(stat -c %a "$CA_DIR/ca.db") == 600 ]] || fail "ca.db is not 0600: $(stat -c %a "$CA_DIR/ca.db")"

new_csr d1 ec d1 "DNS:d1.devices.example.com"
new_csr d2 ec d2 "DNS:d2.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>"$WORK/issue.err" || fail "issue d1"
S1=$(serial_of "$WORK/d1.pem" | tr 'A-F' 'a-f')
grep -qi "issued $S1" "$WORK/issue.err" || fail "issue does not name the serial it committed"
ca issue --profile device --csr "$WORK/d2.csr" --out "$WORK/d2.pem" 2>/dev/null || fail "issue d2"
S2=$(serial_of "$WORK/d2.pem")
ca crl 2>/dev/null || fail "crl #1"
sqlite3 "$CA_DIR/ca.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$CA_DIR/ca.db" "$WORK/backup.db"
ca revoke "$S1" --reason keyCompromise 2>/dev/null || fail "revoke"
ca crl 2>/dev/null || fail "crl #2"

# A missing, empty or foreign database is refused, not replaced.
mv "$CA_DIR/ca.db" "$WORK/live.db"
rm -f "$CA_DIR/ca.db-wal" "$CA_DIR/ca.db-shm"
refused "crl on a missing database" "no CA database" crl
refused "ocsp serve on a missing database" "no CA database" ocsp serve --port 0
[[ ! -e "$CA_DIR/ca.db" ]] || fail "crl created a database"
: >"$CA_DIR/ca.db"
refused "crl on an empty database" "is empty" crl
refused "issue on an empty database" "is empty" issue --profile device --csr "$WORK/d2.csr"
[[ ! -s "$CA_DIR/ca.db" ]] || fail "an empty database was filled"
rm -f "$CA_DIR/ca.db"*
sqlite3 "$CA_DIR/ca.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
refused "crl on a foreign database" "not a certvault-ca database" crl
rm -f "$CA_DIR/ca.db"*

# Restored from the older backup: the token knows CRL #2 and revocation #1.
cp "$WORK/backup.db" "$CA_DIR/ca.db"
refused "crl on a restored database" "after-restore" crl
refused "ocsp serve on a restored database" "older backup" ocsp serve --port 0
refused "issue on a restored database" "older backup" issue --profile device --csr "$WORK/d2.csr"
# The operator re-enters the lost revocation, then continues numbering.
ca revoke "$S1" --reason keyCompromise 2>/dev/null || fail "re-entering the revocation"
ca crl --after-restore 2>"$WORK/crl.err" || { cat "$WORK/crl.err"; fail "crl --after-restore"; }
grep -q "full CRL number 3 " "$WORK/crl.err" || fail "CRL number after restore: $(cat "$WORK/crl.err")"
openssl crl -inform DER -in "$CA_DIR/crl/full.crl" -noout -text | grep -qi "$S1" \
  || fail "the CRL after restore lacks the re-entered revocation"
ca audit | grep -q "after-restore" || fail "after-restore is not audited"
log "restored database: refused, then CRL numbering continued at 3"

# A database of another CA (another [ca] name) is refused.
cp "$CA_DIR/ca.toml" "$WORK/ca.toml.orig"
sed -i 's/^name = "factory"/name = "other"/' "$CA_DIR/ca.toml"
refused "a database of another CA" "belongs to CA 'factory'" list
cp "$WORK/ca.toml.orig" "$CA_DIR/ca.toml"

# A damaged database stops signing (b-tree page 2 overwritten).
sqlite3 "$CA_DIR/ca.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$CA_DIR/ca.db" "$WORK/good.db"
"$PY" - "$CA_DIR/ca.db" <<'PYEOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[4096] ^= 0xff
open(p, "wb").write(bytes(b))
PYEOF
refused "crl on a damaged database" "damaged" crl
cp "$WORK/good.db" "$CA_DIR/ca.db"

# Clock sanity.
expect_failure "crl at 1990" "$FAKE_TIME" '@1990-01-01 00:00:00' "$CA_BIN" --dir "$CA_DIR" crl
expect_contains "$WORK/expect_failure.out" "before the notBefore" "crl at 1990: unclear error"
expect_failure "issue at 1990" "$FAKE_TIME" '@1990-01-01 00:00:00' "$CA_BIN" --dir "$CA_DIR" issue --profile device \
  --csr "$WORK/d2.csr"
ca audit --limit 20 >"$WORK/clock_audit.out" 2>&1 || fail "audit after the clock refusals"
expect_contains "$WORK/clock_audit.out" "clock-refused factory-issuing .*issue .*before the notBefore" \
  "a refusal for the clock is not audited"
ca crl 2>/dev/null || fail "crl with the right clock"
"$FAKE_TIME" '+2d' "$CA_BIN" --dir "$CA_DIR" crl 2>/dev/null || fail "crl two days ahead"
refused "crl before the last signature" "before this CA's last signature" crl
log "clock: 1990 and a clock behind the last signature are refused"
# An SNTP time source one hour ahead of the local clock (and the recorded
# signature two days ahead) refuses; run the rest two days ahead, with a
# source that agrees.
NTP_PORT=$(free_port)
sntp_server "$NTP_PORT" 3600
printf 'time_source = "ntp://127.0.0.1:%s"\n' "$NTP_PORT" >"$WORK/ts.toml"
sed -i "/^\[ca\]/r $WORK/ts.toml" "$CA_DIR/ca.toml"
expect_failure "crl with a skewed time source" "$FAKE_TIME" '+2d' "$CA_BIN" --dir "$CA_DIR" crl
expect_contains "$WORK/expect_failure.out" "away from ntp://" "skewed time source: unclear error"
"$FAKE_TIME" '+1h' "$CA_BIN" --dir "$CA_DIR" list >/dev/null || fail "list must not need the clock"
NTP2_PORT=$(free_port)
sntp_server "$NTP2_PORT" 172800
sed -i "s/ntp:\/\/127.0.0.1:$NTP_PORT/ntp:\/\/127.0.0.1:$NTP2_PORT/" "$CA_DIR/ca.toml"
"$FAKE_TIME" '+2d' "$CA_BIN" --dir "$CA_DIR" crl 2>/dev/null || fail "crl with a time source that agrees"
# ocsp serve whose clock leaves the source while it runs (libfaketime
# rereads its spec from a file): OCSP gets tryLater and the spell is
# audited once as clock-refused.
LIBFAKETIME=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
echo "+2d" >"$WORK/clock"
SERVE_PORT=$(free_port)
timeout "$T" env FAKETIME_TIMESTAMP_FILE="$WORK/clock" FAKETIME_NO_CACHE=1 LD_PRELOAD="$LIBFAKETIME" \
  "$CA_BIN" --dir "$CA_DIR" --actor interop-test ocsp serve --port "$SERVE_PORT" >"$WORK/serve.log" 2>&1 &
SERVE=$!
BG_PIDS+=("$SERVE")
wait_for_line "$WORK/serve.log" "listening on" 60 || { cat "$WORK/serve.log" >&2; fail "ocsp serve did not start"; }
echo "+3d" >"$WORK/clock"
wait_for_line "$WORK/serve.log" "away from ntp://" 60 || { cat "$WORK/serve.log" >&2; fail "serve did not notice the clock"; }
"$FAKE_TIME" '+2d' openssl ocsp -url "http://127.0.0.1:$SERVE_PORT/" -issuer "$CA_DIR/issuing.pem" -serial "0x$S2" \
  -no_nonce >"$WORK/trylater.out" 2>&1 || true
expect_contains "$WORK/trylater.out" "trylater" "OCSP under a bad clock is not tryLater"
sleep 1.5  # more failing checks: still one audit record
kill "$SERVE"
wait "$SERVE" || true
"$FAKE_TIME" '+2d' "$CA_BIN" --dir "$CA_DIR" audit --limit 20 >"$WORK/serve_audit.out" 2>&1 || fail "audit"
[[ $(grep -c "clock-refused factory-issuing .*serve .*away from ntp://" "$WORK/serve_audit.out") == 1 ]] \
  || { cat "$WORK/serve_audit.out" >&2; fail "serve's clock refusal is not audited once"; }
cp "$WORK/ca.toml.orig" "$CA_DIR/ca.toml"
log "time source: a clock 10+ s away is refused"
# From here on, the CA's clock is two days ahead (its last signature is).
ca() { timeout "$T" "$FAKE_TIME" '+2d' "$CA_BIN" --dir "$CA_DIR" --actor interop-test "$@"; }

# §4: changes need the token PIN; reads do not.
printf '999999\n' >"$WORK/wrong-pin.txt"
chmod 600 "$WORK/wrong-pin.txt"
refused "revoke with a wrong PIN" "PIN" revoke "$S2" --pin-file "$WORK/wrong-pin.txt"
refused "crl with a wrong PIN" "PIN" crl --pin-file "$WORK/wrong-pin.txt"
mv "$CA_DIR/pin.txt" "$WORK/pin.saved"
refused "revoke without the PIN file" "[Pp][Ii][Nn]" revoke "$S2"
ca list >/dev/null || fail "list needs no PIN"
ca show "$S2" >/dev/null || fail "show needs no PIN"
ca audit >/dev/null || fail "audit needs no PIN"
mv "$WORK/pin.saved" "$CA_DIR/pin.txt"
ca show "$S2" | grep -q "status: valid" || fail "a refused revoke changed the certificate"

# §5: outputs.
BASE=$(count)
echo "keep me" >"$WORK/keep.pem"
new_csr evil ec evil "DNS:evil.example.org"
expect_failure "refused CSR with --out" ca issue --profile device --csr "$WORK/evil.csr" --out "$WORK/keep.pem"
[[ "$(cat "$WORK/keep.pem")" == "keep me" ]] || fail "a refused CSR truncated --out"
mkdir -p "$WORK/batch" "$WORK/outdir"
cp "$WORK/evil.csr" "$WORK/batch/evil.csr"
new_csr b1 ec b1 "DNS:b1.devices.example.com"
cp "$WORK/b1.csr" "$WORK/batch/b1.csr"
exit_code 3 "a mixed batch" issue --profile device --batch "$WORK/batch" --out-dir "$WORK/outdir"
[[ -s "$WORK/outdir/b1.pem" && ! -e "$WORK/outdir/evil.pem" ]] || fail "a refused CSR left a file: $(ls "$WORK/outdir")"
grep -q "^issued [0-9a-f]* b1.csr" "$WORK/rc.out" || fail "batch does not name the committed serial"
BASE=$(count)
refused "--out-dir that does not exist" "no directory" issue --profile device --batch "$WORK/batch" \
  --out-dir /nonexistent/out
[[ $(count) -eq $BASE ]] || fail "certificates were committed for an unwritable --out-dir"
[[ -z "$(ls "$WORK" | grep '\.tmp\.')" ]] || fail "temporary files left behind"
log "outputs: checked before signing, never truncated or empty"

# §5: arguments.
exit_code 2 "non-numeric --limit" list --limit abc
exit_code 2 "--port 70000" ocsp serve --port 70000
exit_code 2 "--crl-interval abc" ocsp serve --port 0 --crl-interval abc
exit_code 2 "unknown option" list --bogus
exit_code 2 "a serial twice in one revoke" revoke "$S2" "$S2"
exit_code 2 "no command"
exit_code 0 "--help" --help
exit_code 0 "issue --help" issue --help
grep -q -- "--profile" "$WORK/rc.out" || fail "issue --help does not describe --profile"
ca show "$S2" | grep -q "status: valid" || fail "the repeated-serial revoke changed something"
log PASS
