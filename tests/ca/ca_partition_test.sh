#!/usr/bin/env bash
# Partitioned CRLs (crl_partitions = 4): every certificate's CRL DP names its
# partition's CRL, each partition CRL carries a matching critical
# issuingDistributionPoint, and `openssl verify -crl_check` with the partition
# CRL a certificate names accepts the unrevoked and rejects the revoked ones.
# Scheduled generation: `ocsp serve --crl-interval` writes and serves them.
source "$(dirname "$0")/../interop/lib.sh"
need_tool openssl curl pkcs11-tool
setup_env
source "$(dirname "$0")/ca_lib.sh"
trap ca_cleanup EXIT
CA_DIR="$WORK/ca"
ca_setup "$CA_DIR"
sed -i 's/^max_csr_bytes = 8192$/max_csr_bytes = 8192\ncrl_partitions = 4/' "$CA_DIR/ca.toml"
ca init || fail "init failed"
mkdir -p "$WORK/batch" "$WORK/out"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/k.pem" 2>/dev/null
for i in $(seq 1 16); do
  openssl req -new -key "$WORK/k.pem" -subj "/CN=p$i" -out "$WORK/batch/$i.csr" 2>/dev/null
done
ca issue --profile device --batch "$WORK/batch" --out-dir "$WORK/out" 2>"$WORK/issue.log" || { cat "$WORK/issue.log"; fail "batch failed"; }
# Revoke every other certificate.
revoked=()
for i in $(seq 1 2 16); do revoked+=("$(serial_of "$WORK/out/$i.pem")"); done
ca revoke "${revoked[@]}" --reason superseded || fail "revoke failed"
ca crl --all-partitions --pem || fail "partitioned CRLs failed"
for p in 0 1 2 3; do
  f="$CA_DIR/crl/full-p$p.crl"
  [[ -s "$f" ]] || fail "partition $p CRL missing"
  openssl crl -in "$f" -noout -text >"$WORK/p$p.txt" || fail "openssl crl cannot read partition $p"
  expect_contains "$WORK/p$p.txt" "Issuing Distribution Point: critical" "partition $p lacks its IDP"
  expect_contains "$WORK/p$p.txt" "full-p$p.crl" "partition $p IDP names the wrong URL"
done
seen_parts=()
for i in $(seq 1 16); do
  cert="$WORK/out/$i.pem"
  url=$(openssl x509 -in "$cert" -noout -ext crlDistributionPoints | sed -n 's/.*URI:\(.*\)$/\1/p')
  part=$(sed -n 's/.*full-p\([0-3]\)\.crl$/\1/p' <<<"$url")
  [[ -n "$part" ]] || fail "certificate $i names no partition CRL ($url)"
  seen_parts+=("$part")
  cat "$CA_DIR/chain.pem" "$CA_DIR/crl/full-p$part.crl" >"$WORK/bundle.pem"
  if ((i % 2 == 1)); then
    if timeout "$T" openssl verify -crl_check -CAfile "$WORK/bundle.pem" "$cert" >"$WORK/v.out" 2>&1; then
      fail "revoked certificate $i accepted with its partition CRL"
    fi
    expect_contains "$WORK/v.out" "certificate revoked" "certificate $i fails for another reason"
  else
    timeout "$T" openssl verify -crl_check -CAfile "$WORK/bundle.pem" "$cert" >/dev/null \
      || fail "unrevoked certificate $i rejected with its partition CRL"
  fi
done
[[ $(printf '%s\n' "${seen_parts[@]}" | sort -u | wc -l) -ge 2 ]] || fail "all certificates landed in one partition"

log "scheduled CRLs served over HTTP"
ca_bg ocsp serve --port "$OCSP_PORT" --crl-interval 1 >"$WORK/serve.log" 2>&1
wait_for_line "$WORK/serve.log" "listening on" 20 || { cat "$WORK/serve.log"; fail "server did not start"; }
deadline=$((SECONDS + 15))
until timeout "$T" curl -sf "http://127.0.0.1:$OCSP_PORT/crl/delta-p3.crl" -o "$WORK/d3.crl"; do
  ((SECONDS < deadline)) || fail "scheduled delta CRL for partition 3 not served"
  sleep 0.5
done
openssl crl -inform DER -in "$WORK/d3.crl" -noout -text >"$WORK/d3.txt" || fail "served delta CRL does not parse"
expect_contains "$WORK/d3.txt" "Delta CRL Indicator" "served delta lacks its indicator"
expect_contains "$WORK/d3.txt" "full-p3.crl" "served delta lacks the partition IDP"
log "partitioned CRLs verified"
