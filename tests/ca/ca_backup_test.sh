#!/usr/bin/env bash
# certvault-ca backup / restore (issue 16, docs/formats/backup.md "CA
# instance archive"): a CA whose token has a 2-of-3 quorum is backed up
# (token archive under the quorum + SQLite online-backup snapshot + files),
# then moves on. Restored onto a new vault and directory, it continues the
# CRL sequence (its next cRLNumber is above every number the backup knew,
# and with --crl-floor above the CRL published after the backup),
# its CRL lists the revocation made before the backup, and a certificate it
# issues verifies with `openssl verify -crl_check` against the old CA
# certificates. The backup's database restored next to the live token
# (without the token data of the backup) is refused by the issue 12
# high-water check. With CA_DB=postgres (ctest ca_backup_postgres) the
# database is a PostgreSQL one on a private server: the snapshot is pg_dump's
# and each restore loads it into a new, empty database (--database), which
# restore refuses to do into a database that is not empty.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
[[ -n "${CLI:-}" ]] || skip "needs the certvault CLI (CLI)"
is_softhsm && skip "certvault's quorum only"
setup_env
printf '[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n' >"$WORK/conf.toml"
export CERTVAULT_CONF="$WORK/conf.toml"   # low Argon2id cost for every token here
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
ca init 2>/dev/null || fail "init"

cv() { timeout "$T" "$CLI" "$@"; }
custodians=()
for c in cA cB cC; do
  cv --vault "$WORK/$c" init --label "$c" --so-pin "$SO_PIN" --pin "pin-of-$c" >/dev/null || fail "custodian $c"
  (umask 077; printf 'pin-of-%s\n' "$c" >"$WORK/$c.pin")
  custodians+=(--custodian "$WORK/$c" --custodian-pin-file "$WORK/$c.pin")
done
cv quorum init --token "$TOKEN_LABEL" --k 2 "${custodians[@]}" --so-pin "$SO_PIN" >/dev/null || fail "quorum init"
approved() {  # approved OP: an operation OP approved by cA and cB
  local id
  id=$(cv quorum request --token "$TOKEN_LABEL" --op "$1" --so-pin "$SO_PIN") || fail "request $1"
  for c in cA cB; do cv quorum approve --op "$id" --custodian "$WORK/$c" --pin "pin-of-$c" >/dev/null || fail "approve"; done
  printf '%s' "$id"
}
pg_new_db() {  # pg_new_db NAME: a new, empty database on the private server; prints its --database value
  timeout "$T" "${PG_RUN[@]}" "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U postgres "$1" || fail "createdb $1"
  printf 'host=%s port=%s dbname=%s user=postgres' "$PG_DIR" "$PG_PORT" "$1"
}
restore_to() {  # restore_to DIR [DB NAME]: certvault-ca restore of the backup into DIR (and a new database)
  local db=()
  if [[ "$CA_DB" == postgres ]]; then db=(--database "$(pg_new_db "$2")"); fi
  timeout "$T" "$CA_BIN" --dir "$1" restore "$WORK/ca.cvca" "${db[@]}"
}
crl_number() { grep -o "full CRL number [0-9]*" "$1" | grep -o "[0-9]*$"; }

new_csr d1 ec d1 "DNS:d1.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue d1"
S1=$(serial_of "$WORK/d1.pem")
ca revoke "$S1" --reason keyCompromise 2>/dev/null || fail "revoke d1"
ca crl 2>"$WORK/crl1.err" || fail "crl #1"
N1=$(crl_number "$WORK/crl1.err")

log "backup: the token under the quorum, then the instance"
cv backup --token "$TOKEN_LABEL" --out "$WORK/token.cvbk" --op "$(approved backup)" --so-pin "$SO_PIN" >/dev/null \
  || fail "certvault backup"
ca backup --out "$WORK/ca.cvca" --token-archive "$WORK/token.cvbk" 2>/dev/null || fail "certvault-ca backup"
expect_failure "backup over an existing file" ca backup --out "$WORK/ca.cvca" --token-archive "$WORK/token.cvbk"

log "the CA moves on after the backup"
new_csr d2 ec d2 "DNS:d2.devices.example.com"
ca issue --profile device --csr "$WORK/d2.csr" --out "$WORK/d2.pem" 2>/dev/null || fail "issue d2"
ca revoke "$(serial_of "$WORK/d2.pem")" --reason keyCompromise 2>/dev/null || fail "revoke d2"
ca crl 2>"$WORK/crl2.err" || fail "crl #2"
N2=$(crl_number "$WORK/crl2.err")   # published after the backup: the restored instance cannot know it

log "the backup's database next to the live token: refused by the high-water check"
OLD="$WORK/old-db"
restore_to "$OLD" ca_old 2>/dev/null || fail "restore into $OLD"
cp "$CA_DIR/pin.txt" "$OLD/pin.txt"
expect_failure "crl on an older database with the live token" \
  timeout "$T" "$CA_BIN" --dir "$OLD" --actor interop-test crl
expect_contains "$WORK/expect_failure.out" "after-restore|older backup" "older database: wrong refusal"

log "a tampered or truncated backup is refused and writes nothing"
head -c 2000 "$WORK/ca.cvca" >"$WORK/short.cvca"
expect_failure "restore of a truncated backup" timeout "$T" "$CA_BIN" --dir "$WORK/short" restore "$WORK/short.cvca"
[[ ! -e "$WORK/short/ca.toml" ]] || fail "a truncated backup wrote files"
cp "$WORK/ca.cvca" "$WORK/flipped.cvca"
printf '\xff' | dd of="$WORK/flipped.cvca" bs=1 seek=3000 conv=notrunc status=none
expect_failure "restore of a tampered backup" timeout "$T" "$CA_BIN" --dir "$WORK/flipped" restore "$WORK/flipped.cvca"
[[ ! -e "$WORK/flipped/ca.toml" ]] || fail "a tampered backup wrote files"

log "restore onto a new vault and directory"
NEW="$WORK/new-ca"
restore_to "$NEW" ca_new 2>/dev/null || fail "certvault-ca restore"
expect_failure "restore into a non-empty directory" timeout "$T" "$CA_BIN" --dir "$NEW" restore "$WORK/ca.cvca"
if [[ "$CA_DB" == postgres ]]; then
  grep -q "dbname=ca_new" "$NEW/ca.toml" || fail "the restored ca.toml does not name the new database"
  expect_failure "restore into a database that is not empty" timeout "$T" "$CA_BIN" --dir "$WORK/again" \
    restore "$WORK/ca.cvca" --database "host=$PG_DIR port=$PG_PORT dbname=ca_new user=postgres"
  expect_contains "$WORK/expect_failure.out" "not empty" "restore into a used database: unclear error"
  [[ ! -e "$WORK/again/ca.toml" ]] || fail "a refused restore wrote files"
  expect_failure "a PostgreSQL backup without --database" timeout "$T" "$CA_BIN" --dir "$WORK/nodb" \
    restore "$WORK/ca.cvca"
fi
cp "$CA_DIR/pin.txt" "$NEW/pin.txt"
export CERTVAULT_HOME="$WORK/vault2"
cv --vault "$CERTVAULT_HOME" restore "$NEW/token.cvbk" --custodian "$WORK/cB" --custodian-pin-file "$WORK/cB.pin" \
  --custodian "$WORK/cC" --custodian-pin-file "$WORK/cC.pin" >/dev/null || fail "certvault restore of the token"
timeout "$T" "$CA_BIN" --dir "$NEW" --actor interop-test crl --crl-floor "$N2" 2>"$WORK/crl3.err" \
  || { cat "$WORK/crl3.err" >&2; fail "crl on the restored CA"; }
N3=$(crl_number "$WORK/crl3.err")
((N3 > N2 && N2 > N1)) || fail "CRL numbers $N1, $N2 (published), $N3 (restored): not increasing"
openssl crl -inform DER -in "$NEW/crl/full.crl" -noout -text | grep -qi "$S1" || fail "the restored CRL lacks d1"
new_csr d3 ec d3 "DNS:d3.devices.example.com"
timeout "$T" "$CA_BIN" --dir "$NEW" --actor interop-test issue --profile device --csr "$WORK/d3.csr" \
  --out "$WORK/d3.pem" 2>/dev/null || fail "issue with the restored keys"
openssl crl -inform DER -in "$NEW/crl/full.crl" -out "$WORK/crl3.pem"
openssl verify -crl_check -CAfile "$CA_DIR/root.pem" -untrusted "$CA_DIR/issuing.pem" -CRLfile "$WORK/crl3.pem" \
  "$WORK/d3.pem" >"$WORK/v.out" 2>&1 || { cat "$WORK/v.out" >&2; fail "d3 does not verify against the old CA"; }
expect_failure "d1 verifies although revoked" openssl verify -crl_check -CAfile "$CA_DIR/root.pem" \
  -untrusted "$CA_DIR/issuing.pem" -CRLfile "$WORK/crl3.pem" "$WORK/d1.pem"
