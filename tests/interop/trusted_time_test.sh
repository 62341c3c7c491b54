#!/usr/bin/env bash
# Trusted time (issue 17; docs/config.md "Trusted time") through pkcs11-tool,
# in-process and (CV_BACKEND=daemon) through certvaultd, whose clock is the
# one that counts:
#   - a clock an hour behind the vault's latest trusted time (faketime -1h)
#     gets CKR_DEVICE_ERROR at C_Login (the CLI: "untrusted clock: ..."),
#     and signing works again with the right clock;
#   - with time_source pointing to an SNTP server on 127.0.0.1 an hour ahead,
#     CKR_DEVICE_ERROR; with one that agrees, signatures verify.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool openssl faketime
setup_env
DAEMON=0
[[ "${CV_BACKEND:-embedded}" == daemon ]] && DAEMON=1
LIBFAKETIME=""
if ((DAEMON)); then
  LIBFAKETIME=$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$' || true)
  [[ -f "$LIBFAKETIME" ]] || skip "libfaketime.so.1 not found"
fi

# configure [EXTRA LINE]: the vault settings (and certvaultd's, restarted
# under $FAKE when in daemon mode).
FAKE=""
configure() {
  printf '[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n%s\n' "${1:-}" >"$WORK/tt.conf"
  if ((DAEMON)); then
    if [[ -n "${DAEMON_PID:-}" ]]; then
      kill "$DAEMON_PID" 2>/dev/null || true
      wait "$DAEMON_PID" 2>/dev/null || true
    fi
    printf '[daemon]\n' >>"$WORK/tt.conf"
    rm -f "$CERTVAULT_SOCKET" "$WORK/certvaultd.log"
    # libfaketime preloaded directly, not through faketime(1), which forks:
    # DAEMON_PID must be certvaultd itself, or the kill above and the
    # cleanup would leave it running.
    if [[ -n "$FAKE" ]]; then
      env LD_PRELOAD="$LIBFAKETIME" FAKETIME="$FAKE" "$CERTVAULTD" --config "$WORK/tt.conf" \
        --socket "$CERTVAULT_SOCKET" >"$WORK/certvaultd.log" 2>&1 &
    else
      "$CERTVAULTD" --config "$WORK/tt.conf" --socket "$CERTVAULT_SOCKET" >"$WORK/certvaultd.log" 2>&1 &
    fi
    DAEMON_PID=$!
    BG_PIDS+=("$DAEMON_PID")
    wait_for_line "$WORK/certvaultd.log" serving 30 || { cat "$WORK/certvaultd.log" >&2; fail "certvaultd start"; }
    local deadline=$((SECONDS + 30))
    until [[ -S "$CERTVAULT_SOCKET" ]]; do
      ((SECONDS < deadline)) || fail "certvaultd has no socket"
      sleep 0.05
    done
  else
    export CERTVAULT_CONF="$WORK/tt.conf"
  fi
}
# client ARGS...: pkcs11-tool, under $FAKE in embedded mode.
client() { timeout "$T" ${FAKE:+"$FAKE_TIME" "$FAKE"} pkcs11-tool --module "$MODULE" "$@"; }
sign() {
  client --token-label "$TOKEN_LABEL" --login --pin "$USER_PIN" --sign --id 02 -m ECDSA -i "$WORK/digest" \
    -o "$WORK/sig" >"$WORK/sign.out" 2>&1
}
refused() {
  sign && fail "$1: signed"
  grep -q "CKR_DEVICE_ERROR" "$WORK/sign.out" || { cat "$WORK/sign.out" >&2; fail "$1: not CKR_DEVICE_ERROR"; }
  log "refused: $1"
}

configure
init_token
p11_user --keypairgen --key-type EC:prime256v1 --id 02 --label ec-key --usage-sign >/dev/null || fail "keygen"
p11_user --read-object --type pubkey --id 02 -o "$WORK/pub.der" >/dev/null || fail "read pubkey"
openssl dgst -sha256 -binary -out "$WORK/digest" /etc/hostname
sign || { cat "$WORK/sign.out" >&2; fail "sign with the right clock"; }

FAKE="-1h"
configure
refused "a clock an hour behind the latest trusted time"
if [[ -n "${CLI:-}" ]]; then
  # The CLI names the clock (through certvaultd too).
  timeout "$T" ${FAKE:+"$FAKE_TIME" "$FAKE"} "$CLI" list --token "$TOKEN_LABEL" --login --pin "$USER_PIN" \
    >"$WORK/cli.out" 2>&1 && fail "the CLI logged in under a clock behind the latest trusted time"
  expect_contains "$WORK/cli.out" "untrusted clock: .* behind the latest trusted time" "the CLI's message"
  log "refused: the CLI, with a message naming the clock"
fi
FAKE=""
configure
sign || { cat "$WORK/sign.out" >&2; fail "sign after the clock is fixed"; }

AHEAD=$(free_port)
sntp_server "$AHEAD" 3600
configure "time_source = ntp://127.0.0.1:$AHEAD"
refused "a time source an hour ahead"
AGREES=$(free_port)
sntp_server "$AGREES" 0
configure "time_source = ntp://127.0.0.1:$AGREES"
sign || { cat "$WORK/sign.out" >&2; fail "sign with a time source that agrees"; }
# The signature is raw r||s (CKM_ECDSA): check it with openssl as DER.
"$PY" - "$WORK/sig" "$WORK/sig.der" <<'PYEOF'
import sys
raw = open(sys.argv[1], "rb").read()
def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80: b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b
body = der_int(raw[:32]) + der_int(raw[32:])
open(sys.argv[2], "wb").write(b"\x30" + bytes([len(body)]) + body)
PYEOF
openssl pkeyutl -verify -pubin -keyform DER -inkey "$WORK/pub.der" -in "$WORK/digest" -sigfile "$WORK/sig.der" \
  >/dev/null || fail "the signature made under a trusted clock does not verify"
log "time source: an hour away is refused, an agreeing one signs"
