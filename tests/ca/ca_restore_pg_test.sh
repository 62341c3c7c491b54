#!/usr/bin/env bash
# A CA whose PostgreSQL database is restored from an older backup (issue 12
# §1; the SQLite variant is in ca_state_test.sh). The instance is made by the
# guided set-up (`init --database postgresql://...`) on a private server.
#   - an empty database (dropped and re-created) is refused, never refilled;
#   - after pg_restore of a dump taken before a revocation and a CRL, crl,
#     issue and ocsp serve are refused (the token keeps the last CRL number
#     and revocation mark) naming the fix;
#   - the operator re-enters the lost revocation and runs crl --after-restore:
#     numbering continues above the token's (3), the CRL lists the
#     revocation, the step is audited.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ "$CA_DB" == postgres ]] || fail "run with CA_DB=postgres"
ca_init_flags "$WORK/ca" 2>/dev/null
grep -q '^url = "postgresql://' "$CA_DIR/ca.toml" || fail "ca.toml does not name the PostgreSQL database"
[[ ! -e "$CA_DIR/ca.db" ]] || fail "a PostgreSQL instance created ca.db"
pg() {  # pg TOOL ARGS...: a PostgreSQL client program on the private server, as its user
  local tool=$1
  shift
  timeout "$T" "${PG_RUN[@]}" "$PG_BIN/$tool" -h "$PG_DIR" -p "$PG_PORT" -U postgres "$@"
}
refused() {  # refused WHAT PATTERN ARGS...
  local what=$1 pattern=$2
  shift 2
  expect_failure "$what" ca "$@"
  expect_contains "$WORK/expect_failure.out" "$pattern" "$what: unclear error"
  log "refused: $what"
}

new_csr d1 ec d1 "DNS:d1.devices.example.com"
new_csr d2 ec d2 "DNS:d2.devices.example.com"
ca issue --profile device --csr "$WORK/d1.csr" --out "$WORK/d1.pem" 2>/dev/null || fail "issue d1"
ca issue --profile device --csr "$WORK/d2.csr" --out "$WORK/d2.pem" 2>/dev/null || fail "issue d2"
S1=$(serial_of "$WORK/d1.pem")
ca crl 2>/dev/null || fail "crl #1"
pg pg_dump -Fc ca >"$WORK/backup.dump" || fail "pg_dump"
ca revoke "$S1" --reason keyCompromise 2>/dev/null || fail "revoke"
ca crl 2>/dev/null || fail "crl #2"

# The database emptied (dropped and created again): refused, left empty.
pg dropdb ca || fail "dropdb"
pg createdb ca || fail "createdb"
refused "crl on an empty database" "empty|no CA database" crl
refused "issue on an empty database" "empty|no CA database" issue --profile device --csr "$WORK/d2.csr"
[[ -z "$(pg psql -d ca -Atc '\dt')" ]] || fail "a command filled the empty database"

# Restored from the backup taken before the revocation and CRL #2.
pg pg_restore -d ca <"$WORK/backup.dump" || fail "pg_restore"
refused "crl on a restored database" "after-restore" crl
refused "ocsp serve on a restored database" "older backup" ocsp serve --port 0
refused "issue on a restored database" "older backup" issue --profile device --csr "$WORK/d2.csr"
ca revoke "$S1" --reason keyCompromise 2>/dev/null || fail "re-entering the revocation"
ca crl --after-restore 2>"$WORK/crl.err" || { cat "$WORK/crl.err"; fail "crl --after-restore"; }
grep -q "full CRL number 3 " "$WORK/crl.err" || fail "CRL number after restore: $(cat "$WORK/crl.err")"
openssl crl -inform DER -in "$CA_DIR/crl/full.crl" -noout -text | grep -qi "$S1" \
  || fail "the CRL after restore lacks the re-entered revocation"
ca crl 2>"$WORK/crl.err" || fail "crl after the restore"
grep -q "full CRL number 4 " "$WORK/crl.err" || fail "CRL numbering does not continue: $(cat "$WORK/crl.err")"
ca audit | grep -q "after-restore" || fail "after-restore is not audited"
ca issue --profile device --csr "$WORK/d2.csr" --out "$WORK/d2b.pem" 2>/dev/null || fail "issue after the restore"
log "restored PostgreSQL database: refused, then CRL numbering continued at 3"
log PASS
