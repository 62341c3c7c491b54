# Helpers for the provider interop scripts (sourced after lib.sh).
#
#   PROVIDER=<path to certvault.so>   required
#   CLI=<path to certvault>            required (tokens and keys are made with it)
# provider_setup: setup_env, a token with keys made by the CLI, and
# $WORK/openssl.cnf activating the default and certvault providers with the PIN
# in a pin-file. `pv ARGS` runs openssl with that configuration; `plain ARGS`
# runs openssl without any configuration (no provider) to verify results.

provider_setup() {
  [[ -n "${PROVIDER:-}" && -f "$PROVIDER" ]] || fail "PROVIDER is not set or missing (path to certvault.so)"
  [[ -n "${CLI:-}" && -x "$CLI" ]] || fail "CLI is not set or missing (path to certvault)"
  need_tool openssl
  # Daemon mode: service users (nginx and mosquitto drop to nobody) reach
  # certvaultd through its socket instead of reading the vault.
  local svc_uid
  svc_uid=$(id -u nobody)
  CV_DAEMON_SETTINGS="${CV_DAEMON_SETTINGS:-}
allowed_uids = $(id -u), $svc_uid
socket_mode = 0666"
  setup_env
  PROVIDER="$(cd "$(dirname "$PROVIDER")" && pwd)/$(basename "$PROVIDER")"
  CLI="$(cd "$(dirname "$CLI")" && pwd)/$(basename "$CLI")"
  timeout "$T" "$CLI" init --label "$TOKEN_LABEL" --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null \
    || fail "certvault init failed"
  printf '%s\n' "$USER_PIN" >"$WORK/pin"
  chmod 600 "$WORK/pin"
  # The vault is named in the configuration: services (nginx) clear the
  # environment of their workers.
  BACKEND_LINE="vault = $CERTVAULT_HOME"  # the vault, or certvaultd in daemon mode
  [[ -n "${CERTVAULT_SOCKET:-}" ]] && BACKEND_LINE="socket = $CERTVAULT_SOCKET"
  write_openssl_cnf "$WORK/openssl.cnf" "pin-file = $WORK/pin" "$BACKEND_LINE"
  export OPENSSL_CONF="$WORK/openssl.cnf"
}

# write_openssl_cnf FILE EXTRA_LINE...: a configuration that activates both providers.
write_openssl_cnf() {
  local file=$1
  shift
  {
    printf 'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n'
    printf '[provider_sect]\ndefault = default_sect\ncertvault = certvault_sect\n'
    printf '[default_sect]\nactivate = 1\n[certvault_sect]\nmodule = %s\nactivate = 1\n' "$PROVIDER"
    printf '%s\n' "$@"
  } >"$file"
}

# keygen LABEL TYPE: a key pair in the vault.
keygen() { timeout "$T" "$CLI" keygen --label "$1" --type "$2" --pin "$USER_PIN" >/dev/null || fail "keygen $1 $2"; }

pv() { timeout "$T" openssl "$@"; }
plain() { OPENSSL_CONF=/dev/null timeout "$T" openssl "$@"; }

key_uri() { printf 'certvault:token=%s;object=%s;type=private' "$TOKEN_LABEL" "$1"; }

# selfsigned LABEL: $WORK/LABEL.crt signed in the vault through the provider.
selfsigned() {
  pv req -new -x509 -key "$(key_uri "$1")" -subj "/CN=$1.test" -days 2 -out "$WORK/$1.crt" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:TRUE" >"$WORK/req.log" 2>&1 \
    || { cat "$WORK/req.log" >&2; fail "openssl req -x509 with the vault key $1"; }
  plain verify -CAfile "$WORK/$1.crt" "$WORK/$1.crt" >/dev/null || fail "plain openssl does not verify $1.crt"
}

# start_s_server LOG ARGS...: openssl s_server (through the provider) on a free
# port, one connection, in -www mode (which does not read stdin); sets SRV_PORT.
start_s_server() {
  local log=$1
  shift
  SRV_PORT=$(free_port)
  timeout "$T" openssl s_server -accept "127.0.0.1:$SRV_PORT" -naccept 1 -www "$@" </dev/null >"$log" 2>&1 &
  BG_PIDS+=($!)
  wait_for_line "$log" "ACCEPT" 10 || { cat "$log" >&2; fail "s_server did not start"; }
}
