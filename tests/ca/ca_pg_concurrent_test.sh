#!/usr/bin/env bash
# Two certvault-ca processes issue at the same time against one PostgreSQL
# database (the same CA, keys in one token): every certificate is stored,
# every serial is unique, every certificate verifies, and the audit table
# has one issue event per certificate.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl pkcs11-tool
setup_env
CA_DB=postgres
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
ca init || fail "init failed"
N=${CA_CONCURRENT_N:-100}
for p in a b; do
  mkdir -p "$WORK/in-$p" "$WORK/out-$p"
  # One key, many CSRs (different subjects): keeps the test fast.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/$p.key" 2>/dev/null
  for i in $(seq 1 "$N"); do
    openssl req -new -key "$WORK/$p.key" -subj "/CN=$p-$i" -out "$WORK/in-$p/$i.csr" 2>/dev/null
  done
done
log "two processes issue $N certificates each, at once"
# Small chunks: many transactions from each process interleave (and each
# process commits one chunk while it signs the next).
ca issue --profile device --batch "$WORK/in-a" --out-dir "$WORK/out-a" --chunk 16 2>"$WORK/a.log" & pa=$!
ca issue --profile device --batch "$WORK/in-b" --out-dir "$WORK/out-b" --chunk 16 2>"$WORK/b.log" & pb=$!
wait $pa || { cat "$WORK/a.log"; fail "process a failed"; }
wait $pb || { cat "$WORK/b.log"; fail "process b failed"; }
expect_contains "$WORK/a.log" "issued $N, refused 0" "process a did not issue everything"
expect_contains "$WORK/b.log" "issued $N, refused 0" "process b did not issue everything"
ca list --limit 100000 >"$WORK/list.txt"
stored=$(grep -c ' device ' "$WORK/list.txt")
[[ $stored -eq $((2 * N)) ]] || fail "database holds $stored device certificates, want $((2 * N))"
unique=$(awk '{print $1}' "$WORK/list.txt" | sort -u | wc -l)
[[ $unique -eq $(wc -l <"$WORK/list.txt") ]] || fail "duplicate serials in the database"
files=$(cat "$WORK"/out-a/*.pem "$WORK"/out-b/*.pem | grep -c "BEGIN CERTIFICATE")
[[ $files -eq $((2 * N)) ]] || fail "$files certificates written, want $((2 * N))"
for f in "$WORK"/out-a/*.pem "$WORK"/out-b/*.pem; do serial_of "$f"; done | sort -u >"$WORK/serials.txt"
[[ $(wc -l <"$WORK/serials.txt") -eq $((2 * N)) ]] || fail "duplicate serials among issued certificates"
cat "$CA_DIR/chain.pem" >"$WORK/chain.pem"
timeout "$T" openssl verify -CAfile "$WORK/chain.pem" "$WORK"/out-a/1.pem "$WORK"/out-b/"$N".pem >/dev/null \
  || fail "issued certificates do not verify"
ca audit --limit 100000 >"$WORK/audit.txt"
[[ $(grep -c ' issue factory-issuing .* profile=device ' "$WORK/audit.txt") -eq $((2 * N)) ]] || fail "audit events missing"
log "$((2 * N)) certificates from two processes, all serials unique"
