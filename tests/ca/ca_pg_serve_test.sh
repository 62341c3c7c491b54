#!/usr/bin/env bash
# Two `certvault-ca serve` processes (A and B, each with its own instance
# directory and ports) on ONE PostgreSQL database, the same CA and token
# (issue 13, "Two serve processes on one PostgreSQL database"):
#   - concurrent EST simpleenroll (curl, bootstrap client certificate) and CMP
#     p10cr (openssl cmp) against both: every client gets its certificate,
#     serials unique, all in the database, nothing lost;
#   - one CRL sequence: both serve scheduled CRLs (--crl-interval 1) numbered
#     from the database's one counter: distinct CRLs seen on either server
#     have strictly increasing cRLNumbers;
#   - a one-time enrollment code used on A is refused on B; one code sent to
#     both at once issues once;
#   - kill -9 of A during 200 concurrent enrollments (175 EST over mutual TLS
#     from one certvault-est-load process, 25 CMP p10cr from openssl cmp; 25 +
#     25 by curl and openssl when EST_LOAD is not built): every certificate a
#     client received is in the database; the restarted A answers; a CMP request
#     whose answer arrived before the kill, sent again (same transactionID)
#     to A and to B, returns the same certificate and issues nothing.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl xxd
setup_env
CA_DB=postgres
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
[[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set (certvault.so)"
is_softhsm && skip "the TLS server key is used through certvault's provider: needs a certvault token"
CA_DIR="$WORK/ca-a"
ca_setup "$CA_DIR"
HTTPS_A="$(free_port)" HTTPS_B="$(free_port)" HTTP_B="$(free_port)"
boot_ca boot-ca
boot_cert terminal terminal-1 "$WORK/boot-ca"
cat >>"$CA_DIR/ca.toml" <<TOML

[server]
https_port = $HTTPS_A
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
client_anchors = ["$WORK/boot-ca.pem"]
enroll_code_profiles = ["device"]
default_profile = "device"
access_log = "access.log"

[[server.authorize]]
issuer = "/CN=Bootstrap CA/O=Maker"
subject = "/CN=terminal-1"
profiles = ["device"]
TOML
ca init 2>/dev/null || fail "init"
ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
# B: a copy of A's instance directory (certificates, PIN file, ca.toml) on other ports.
CA_DIR_B="$WORK/ca-b"
cp -a "$CA_DIR" "$CA_DIR_B"
rm -f "$CA_DIR_B/access.log"
sed -i -e "s/^https_port = .*/https_port = $HTTPS_B/" -e "s/^http_port = .*/http_port = $HTTP_B/" "$CA_DIR_B/ca.toml"

# serve_start NAME DIR: `serve` in the background (not under `timeout`: the
# kill -9 must hit the server itself); its PID in SERVE_PID_<NAME>.
serve_start() {
  local name=$1 dir=$2
  "$CA_BIN" --dir "$dir" --actor interop-test serve --crl-interval 1 >"$WORK/serve-$name.log" 2>&1 &
  BG_PIDS+=($!)
  printf -v "SERVE_PID_$name" '%s' "$!"
  wait_for_line "$WORK/serve-$name.log" "https listening on" 30 || { cat "$WORK/serve-$name.log"; fail "serve $name did not start"; }
}
serve_start A "$CA_DIR"
serve_start B "$CA_DIR_B"
declare -A HTTPS=([A]=$HTTPS_A [B]=$HTTPS_B) HTTP=([A]=$OCSP_PORT [B]=$HTTP_B)

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/dev.key" 2>/dev/null || fail "key"
# csr NAME: a CSR for NAME.devices.example.com (one key: keeps the test fast).
csr() {
  openssl req -new -key "$WORK/dev.key" -subj "/CN=$1.devices.example.com" -out "$WORK/$1.csr" 2>/dev/null || fail "csr $1"
}
# est_enroll SRV NAME: simpleenroll with the bootstrap certificate; $WORK/NAME.pem on success.
est_enroll() {
  openssl req -in "$WORK/$2.csr" -outform DER | openssl base64 >"$WORK/$2.b64"
  timeout "$T" curl -s --fail --cacert "$CA_DIR/root.pem" --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" \
    -H 'Content-Type: application/pkcs10' --data-binary @"$WORK/$2.b64" -o "$WORK/$2.p7" \
    "https://127.0.0.1:${HTTPS[$1]}/.well-known/est/simpleenroll" 2>/dev/null || return 1
  openssl base64 -d -A -in "$WORK/$2.p7" | openssl pkcs7 -inform DER -print_certs -out "$WORK/$2.pem" 2>/dev/null
}
# cmp_enroll SRV NAME: p10cr protected by the bootstrap certificate; the request in NAME-req.der.
cmp_enroll() {
  timeout "$T" openssl cmp -server "127.0.0.1:${HTTP[$1]}" -path .well-known/cmp/p/device -cmd p10cr \
    -trusted "$CA_DIR/root.pem" -untrusted "$CA_DIR/chain.pem" -cert "$WORK/terminal.pem" -key "$WORK/terminal.key" \
    -extracerts "$WORK/boot-ca.pem" -recipient "/CN=Factory Issuing CA 1/O=Example/C=JP" -implicit_confirm \
    -csr "$WORK/$2.csr" -reqout "$WORK/$2-req.der" -certout "$WORK/$2.pem.tmp" >"$WORK/$2.log" 2>&1 || return 1
  mv "$WORK/$2.pem.tmp" "$WORK/$2.pem"
}
count_issued() { ca list --limit 100000 2>/dev/null | grep -c ' device ' || true; }
db_serials() { ca list --limit 100000 2>/dev/null | awk '$0 ~ / device / {print tolower($1)}' | sort; }
pem_serial() { serial_of "$1" | tr 'A-F' 'a-f'; }

# 1. Concurrent EST and CMP enrollments against both servers.
names=()
for i in $(seq 1 6); do
  for srv in A B; do names+=("est-$srv-$i" "cmp-$srv-$i"); done
done
for n in "${names[@]}"; do csr "$n"; done
before=$(count_issued)
pids=()
for n in "${names[@]}"; do
  IFS=- read -r proto srv _ <<<"$n"
  if [[ $proto == est ]]; then est_enroll "$srv" "$n" & else cmp_enroll "$srv" "$n" & fi
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "an enrollment failed"; done
for n in "${names[@]}"; do
  openssl verify -CAfile "$CA_DIR/chain.pem" "$WORK/$n.pem" >/dev/null 2>&1 || fail "$n: no valid certificate"
  pem_serial "$WORK/$n.pem"
done | sort >"$WORK/got.txt"
[[ $(sort -u "$WORK/got.txt" | wc -l) -eq ${#names[@]} ]] || fail "duplicate serials among the answers"
[[ $(($(count_issued) - before)) -eq ${#names[@]} ]] || fail "the database holds $(($(count_issued) - before)) new certificates, want ${#names[@]}"
db_serials >"$WORK/db.txt"
[[ -z $(comm -23 "$WORK/got.txt" "$WORK/db.txt") ]] || fail "a certificate a client received is not in the database"
[[ $(uniq -d "$WORK/db.txt" | wc -l) -eq 0 ]] || fail "duplicate serials in the database"
log "${#names[@]} concurrent EST and CMP enrollments on two servers: all stored, serials unique"

# 2. One-time enrollment codes are shared: used on A, refused on B.
code_of() { ca enroll-code --profile device >"$WORK/code.txt" 2>/dev/null || fail "enroll-code"
  printf '%s:%s' "$(sed -n 's/^id: //p' "$WORK/code.txt")" "$(sed -n 's/^password: //p' "$WORK/code.txt")"; }
est_code() {  # SRV NAME CREDS: prints the HTTP status
  openssl req -in "$WORK/$2.csr" -outform DER | openssl base64 >"$WORK/$2.b64"
  timeout "$T" curl -s --cacert "$CA_DIR/root.pem" -u "$3" -H 'Content-Type: application/pkcs10' \
    --data-binary @"$WORK/$2.b64" -o "$WORK/$2.p7" -w '%{http_code}' "https://127.0.0.1:${HTTPS[$1]}/.well-known/est/simpleenroll"
}
csr code-a; csr code-b
creds=$(code_of)
[[ $(est_code A code-a "$creds") == 200 ]] || fail "an enrollment code was refused on A"
got=$(est_code B code-b "$creds")
[[ $got == 403 ]] || fail "a code used on A: HTTP $got on B, want 403 (used)"
creds=$(code_of)
before=$(count_issued)
pids=()
for s in A B; do csr "race-$s"; (est_code "$s" "race-$s" "$creds" >"$WORK/race-$s.code") & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
[[ $(cat "$WORK/race-A.code" "$WORK/race-B.code" | grep -c 200) -eq 1 ]] || fail "one code sent to both servers: $(cat "$WORK"/race-*.code)"
[[ $(($(count_issued) - before)) -eq 1 ]] || fail "one code issued $(($(count_issued) - before)) certificates"
log "an enrollment code used on A is refused on B; sent to both at once, it issues once"

# 3. One CRL sequence: both servers sign scheduled CRLs, numbered by the
# database's one counter. A server may serve an older CRL for up to a poll
# (1 s) after the other stored a newer one, so: on each server the numbers
# never go down, one number is always one and the same CRL on both, and a
# higher number never has an older thisUpdate.
crl_field() { openssl crl -inform DER -in "$1" -noout "$2" 2>/dev/null | cut -d= -f2; }
declare -A by_num=() at_num=() last=([A]=-1 [B]=-1)
deadline=$((SECONDS + T))
while ((${#by_num[@]} < 3 && SECONDS < deadline)); do
  for s in A B; do
    curl -s -o "$WORK/crl.der" "http://127.0.0.1:${HTTP[$s]}/crl/full.crl" || continue
    sum=$(sha256sum <"$WORK/crl.der" | cut -c1-64)
    num=$(($(crl_field "$WORK/crl.der" -crlnumber)))
    ((num >= last[$s])) || fail "server $s served CRL number $num after ${last[$s]}"
    last[$s]=$num
    [[ -z ${by_num[$num]:-} || ${by_num[$num]} == "$sum" ]] || fail "two different CRLs with number $num"
    by_num[$num]=$sum
    at_num[$num]=$(date -d "$(crl_field "$WORK/crl.der" -lastupdate)" +%s)
  done
  sleep 0.3
done
((${#by_num[@]} >= 3)) || fail "only ${#by_num[@]} distinct CRLs seen"
prev=0
for num in $(printf '%s\n' "${!by_num[@]}" | sort -n); do
  ((at_num[$num] >= prev)) || fail "CRL $num is older than a CRL with a lower number"
  prev=${at_num[$num]}
done
log "CRLs from both servers form one sequence (${#by_num[@]} distinct, numbers up to ${last[A]}/${last[B]})"

# 4. kill -9 of A during 200 concurrent enrollments: 175 EST from one load process (one thread and one
# mutual-TLS connection each, so all in flight at once; cheap: no process per request) and 25 CMP.
n_est=25
[[ -n "${EST_LOAD:-}" && -x "$EST_LOAD" ]] && n_est=175
names=()
for i in $(seq 1 25); do names+=("k-cmp-$i"); done
((n_est == 25)) && for i in $(seq 1 25); do names+=("k-est-$i"); done
for n in "${names[@]}"; do csr "$n"; done
pids=()
: >"$WORK/k-serials.txt"
if ((n_est == 175)); then
  "$EST_LOAD" --port "$HTTPS_A" --cacert "$CA_DIR/root.pem" --cert "$WORK/terminal.pem" --key "$WORK/terminal.key" \
    --path /.well-known/est/device/simpleenroll --requests 175 --connections 175 --new-connection --prefix k-load- \
    --serials "$WORK/k-serials.txt" >"$WORK/k-load.out" 2>&1 &
  pids+=($!)
fi
for n in "${names[@]}"; do
  IFS=- read -r _ proto _ <<<"$n"
  if [[ $proto == est ]]; then est_enroll A "$n" & else cmp_enroll A "$n" & fi
  pids+=($!)
done
# Kill once some answers arrived (whatever the machine's speed), others in flight.
answered() { echo $(($(ls "$WORK"/k-*.pem 2>/dev/null | wc -l) + $(wc -l <"$WORK/k-serials.txt"))); }
deadline=$((SECONDS + T))
until (($(answered) >= 10)) || ((SECONDS >= deadline)); do sleep 0.05; done
kill -9 "$SERVE_PID_A"
for p in "${pids[@]}"; do wait "$p" || true; done
received=0
db_serials >"$WORK/db.txt"
for n in "${names[@]}"; do
  [[ -s "$WORK/$n.pem" ]] || continue
  received=$((received + 1))
  grep -qx "$(pem_serial "$WORK/$n.pem")" "$WORK/db.txt" || fail "$n: a certificate a client received is not in the database"
done
while read -r serial; do
  received=$((received + 1))
  grep -qx "$(tr 'A-F' 'a-f' <<<"$serial" | sed 's/^0*//')" <(sed 's/^0*//' "$WORK/db.txt") \
    || fail "EST load: certificate $serial reached the client and is not in the database"
done <"$WORK/k-serials.txt"
((n_est == 25)) && log "EST_LOAD not built: 50 concurrent enrollments instead of 200"
((received >= 5)) || fail "only $received certificates before the kill"
log "kill -9 during $((${#names[@]} + (n_est == 175 ? 175 : 0))) concurrent enrollments: all $received certificates that reached a client are in the database"
start=$(date +%s%N)
serve_start A "$CA_DIR"
ms=$((($(date +%s%N) - start) / 1000000))
# Ready for enrollments once /healthz says ok (its first clock check ran).
deadline=$((SECONDS + T))
until [[ $(curl -s "http://127.0.0.1:$OCSP_PORT/healthz") == ok* ]]; do
  ((SECONDS < deadline)) || { curl -s "http://127.0.0.1:$OCSP_PORT/healthz"; cat "$WORK/serve-A.log"; fail "the restarted server does not answer /healthz"; }
  sleep 0.05
done
ready=$((($(date +%s%N) - start) / 1000000))
log "A restarted: listening after ${ms} ms, healthy after ${ready} ms (start-up runs the power-on self-tests)"
# A CMP retry with the same transactionID (the saved request) on the restarted A and on B.
retry=""
for n in "${names[@]}"; do [[ $n == k-cmp-* && -s "$WORK/$n.pem" && -s "$WORK/$n-req.der" ]] && { retry=$n; break; }; done
[[ -n $retry ]] || fail "no CMP answer arrived before the kill"
before=$(count_issued)
openssl x509 -in "$WORK/$retry.pem" -outform DER | xxd -p | tr -d '\n' >"$WORK/retry.hex"
for s in A B; do
  code=$(curl -s -o "$WORK/again-$s.der" -w '%{http_code}' -H 'Content-Type: application/pkixcmp' \
    --data-binary @"$WORK/$retry-req.der" "http://127.0.0.1:${HTTP[$s]}/.well-known/cmp/p/device")
  [[ $code == 200 ]] || fail "CMP retry on $s: HTTP $code"
  xxd -p "$WORK/again-$s.der" | tr -d '\n' | grep -qF "$(cat "$WORK/retry.hex")" || fail "CMP retry on $s: not the same certificate"
done
[[ $(count_issued) == "$before" ]] || fail "a CMP retry issued a second certificate"
log "a CMP retry (same transactionID) on the restarted A and on B returns the same certificate, issues nothing"
