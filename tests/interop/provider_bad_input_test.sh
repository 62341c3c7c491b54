#!/usr/bin/env bash
# The certvault provider with bad input: an unknown key, a malformed URI, a
# wrong PIN (the vault's retry counter moves; the right PIN still works), no
# PIN at all, a key reference to a deleted key, a corrupt key-reference file.
# Each gives a clear OpenSSL error and no crash; OpenSSL keeps working for
# software keys in the same process (python3's ssl module on the system
# libssl: SSL_CTX_use_PrivateKey_file, then a TLS handshake in memory).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/provider_lib.sh"
provider_setup
cd "$WORK"
[[ -x "$PY" ]] || skip "$PY is not installed"

keygen web ec:p256
keygen gone ec:p256
selfsigned web
selfsigned gone
timeout "$T" "$CLI" export-keyref --key web --out web.ref || fail "export-keyref web"
timeout "$T" "$CLI" export-keyref --key gone --out gone.ref || fail "export-keyref gone"

# openssl_error WHAT PATTERN CMD...: CMD fails (not by a signal) and says PATTERN.
openssl_error() {
  local what=$1 pattern=$2
  shift 2
  expect_failure "$what" "$@"
  expect_contains "$WORK/expect_failure.out" "$pattern" "$what: error message"
  log "$what -> $(grep -Eo -- "$pattern" "$WORK/expect_failure.out" | head -1)"
}

openssl_error "unknown key" "no such key in the vault" \
  pv req -new -x509 -key "certvault:object=nosuch;type=private" -subj /CN=x -out x.crt
openssl_error "unknown token" "no token in the vault matches" \
  pv pkeyutl -sign -inkey "certvault:token=nosuch;object=web;type=private" -in /dev/null
openssl_error "malformed URI" "malformed certvault key URI" \
  pv req -new -x509 -key "certvault:object=web;bogus=1" -subj /CN=x -out x.crt
openssl_error "URI with a library attribute" "malformed certvault key URI" \
  pv req -new -x509 -key "certvault:object=web;slot-id=7;type=private" -subj /CN=x -out x.crt

# Wrong PIN: a clear error, the retry counter moves, nothing is cached.
printf 'wrong-pin-000\n' >wrong.pin
chmod 600 wrong.pin  # PIN files open to others are refused
write_openssl_cnf wrong.cnf "pin-file = $WORK/wrong.pin" "$BACKEND_LINE"
openssl_error "wrong PIN" "incorrect PIN" \
  env OPENSSL_CONF=wrong.cnf timeout "$T" openssl req -new -x509 -key "$(key_uri web)" -subj /CN=x -out x.crt
timeout "$T" "$CLI" info --token "$TOKEN_LABEL" >info.txt || fail "certvault info"
expect_contains info.txt "count-low|count_low|COUNT_LOW" "the vault counted the wrong PIN"
pv req -new -x509 -key "$(key_uri web)" -subj /CN=x -out x.crt || fail "the right PIN no longer works"
log "right PIN still accepted after a wrong one"

# No PIN anywhere (no pin-file, no terminal for the prompt).
write_openssl_cnf nopin.cnf "$BACKEND_LINE"
openssl_error "no PIN" "PIN is required|incorrect PIN" \
  env OPENSSL_CONF=nopin.cnf timeout "$T" openssl req -new -x509 -key "$(key_uri web)" -subj /CN=x -out x.crt -passin pass:
write_openssl_cnf env.cnf "pin-env = CV_TEST_PIN" "$BACKEND_LINE"
openssl_error "pin-env not set" "CV_TEST_PIN" \
  env -u CV_TEST_PIN OPENSSL_CONF=env.cnf timeout "$T" openssl req -new -x509 -key "$(key_uri web)" -subj /CN=x -out x.crt
CV_TEST_PIN="$USER_PIN" OPENSSL_CONF=env.cnf timeout "$T" openssl req -new -x509 -key "$(key_uri web)" -subj /CN=x -out x.crt \
  || fail "PIN from pin-env"
log "PIN from pin-env"
OPENSSL_CONF=nopin.cnf timeout "$T" openssl req -new -x509 -key "$(key_uri web)?pin-source=file:$WORK/pin" -subj /CN=x \
  -out x.crt || fail "PIN from the URI's pin-source"
openssl_error "pin-source file missing" "cannot read the PIN file" \
  env OPENSSL_CONF=nopin.cnf timeout "$T" openssl req -new -x509 -key "$(key_uri web)?pin-source=file:$WORK/absent" \
  -subj /CN=x -out x.crt
log "PIN from the URI's pin-source"

# Key references: deleted key, corrupt files.
timeout "$T" "$CLI" delete --object gone --pin "$USER_PIN" >/dev/null || fail "delete gone"
printf -- '-----BEGIN CERTVAULT KEY-----\nnot*base64\n-----END CERTVAULT KEY-----\n' >corrupt.ref
head -c 40 web.ref >truncated.ref
sed 's/^Y2Vy/Y2Vz/' web.ref >wrong-scheme.ref
plain req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout soft.key -x509 -subj /CN=soft \
  -out soft.crt 2>/dev/null
"$PY" - "$WORK" >py.out 2>&1 <<'PY' || { cat py.out >&2; fail "python ssl checks"; }
import ssl, sys
work = sys.argv[1]
def load(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(f"{work}/{cert}", f"{work}/{key}")
        return ctx, "ok"
    except ssl.SSLError as e:
        return None, str(e)
# python reports only the last error of the queue; the messages are checked with nginx -t below.
for cert, key in [("gone.crt", "gone.ref"), ("web.crt", "corrupt.ref"), ("web.crt", "wrong-scheme.ref"),
                  ("web.crt", "truncated.ref")]:
    ctx, msg = load(cert, key)
    assert ctx is None, f"{key} loaded"
    print(f"{key}: refused: {msg}")
# The same process: a vault key via its reference, and a software key, both serve TLS.
for cert, key in [("web.crt", "web.ref"), ("soft.crt", "soft.key")]:
    server, msg = load(cert, key)
    assert server is not None, f"{key}: {msg}"
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(f"{work}/{cert}")
    client.check_hostname = False
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = client.wrap_bio(c_in, c_out, server_side=False)
    s = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side in (c, s):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    assert c.version() is not None, f"{key}: no handshake"
    print(f"{key}: TLS handshake {c.version()} ok in the same process")
PY
cat py.out >&2
log "key references: deleted key and corrupt files refused; vault and software keys both work afterwards"

# The whole error queue, as a service logs it (nginx -t loads the key with PEM_read_bio_PrivateKey).
if command -v nginx >/dev/null 2>&1; then
  for case in "gone.crt gone.ref no such key in the vault" "web.crt corrupt.ref corrupt certvault key-reference file" \
              "web.crt wrong-scheme.ref corrupt certvault key-reference file"; do
    read -r cert key want <<<"$case"
    printf 'pid %s/ngx.pid;\nerror_log stderr;\nevents {}\nhttp { server { listen 127.0.0.1:%s ssl;\n' "$WORK" "$(free_port)" >ngx.conf
    printf 'ssl_certificate %s/%s; ssl_certificate_key %s/%s; } }\n' "$WORK" "$cert" "$WORK" "$key" >>ngx.conf
    openssl_error "nginx -t with $key" "$want" timeout "$T" nginx -t -c "$WORK/ngx.conf"
  done
else
  log "nginx not installed: error texts of key references not checked"
fi

# The retry counter is the vault's: a token allowing 3 tries locks after 3 wrong PINs
# given through the provider, and then refuses the right PIN too. (Embedded only:
# pin_max_tries is the vault process's setting, certvaultd's own in daemon mode.)
if [[ -n "${CERTVAULT_SOCKET:-}" ]]; then
  log "daemon mode: PIN lockout is certvaultd's configuration; not repeated here"
  exit 0
fi
printf '[vault]\npin_max_tries = 3\n' >lock.conf
export CERTVAULT_CONF="$WORK/lock.conf"
timeout "$T" "$CLI" init --label lockme --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null || fail "init lockme"
timeout "$T" "$CLI" keygen --token lockme --label lk --type ec:p256 --pin "$USER_PIN" >/dev/null || fail "keygen lk"
lock_uri="certvault:token=lockme;object=lk;type=private"
for i in 1 2; do
  openssl_error "wrong PIN $i/3" "incorrect PIN" \
    env OPENSSL_CONF=wrong.cnf timeout "$T" openssl req -new -x509 -key "$lock_uri" -subj /CN=x -out x.crt
done
openssl_error "wrong PIN 3/3" "PIN locked|now locked" \
  env OPENSSL_CONF=wrong.cnf timeout "$T" openssl req -new -x509 -key "$lock_uri" -subj /CN=x -out x.crt
openssl_error "right PIN on a locked token" "PIN locked" pv req -new -x509 -key "$lock_uri" -subj /CN=x -out x.crt
pv req -new -x509 -key "$(key_uri web)" -subj /CN=x -out x.crt || fail "the other token is unaffected"
