# Shared helpers for the certvault-ca end-to-end tests (sourced after
# tests/interop/lib.sh). Contract:
#   CA_BIN=<path to certvault-ca>   required
#   MODULE=<PKCS#11 module>         certvault's libcertvault-pkcs11.so or SoftHSM2
#   CA_DB=sqlite|postgres           database backend (default sqlite)
#   CA_KEY_ALG, CA_SIG_ALG          ca.toml key_algorithm / signature_algorithm (optional)
# A PostgreSQL server, when used, runs from a private temp dir on a private
# port with its unix socket in that dir, as an unprivileged user, and is
# stopped by the EXIT trap.

CA_DB="${CA_DB:-sqlite}"
[[ -n "${CA_BIN:-}" && -x "$CA_BIN" ]] || fail "CA_BIN is not set (path to certvault-ca)"

PG_DIR=""
PG_RUN=()
pg_stop() {
  if [[ -n "$PG_DIR" && -f "$PG_DIR/data/postmaster.pid" ]]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  [[ -n "$PG_DIR" ]] && rm -rf "$PG_DIR"
  return 0
}

ca_cleanup() {
  local rc=$?
  set +e  # under errexit a failing step here would skip cleanup
  pg_stop
  cleanup "$rc"
}

# pg_start: initdb + pg_ctl start; sets PG_CONN (a libpq connection string).
pg_start() {
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [[ -n "$PG_BIN" && -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || skip "PostgreSQL server binaries are not installed"
  PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cv-pg.XXXXXX")"
  chmod 755 "$PG_DIR"
  if [[ "$(id -u)" -eq 0 ]]; then
    # PostgreSQL refuses to run as root: use its own system user (or nobody).
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$PG_DIR"
    PG_RUN=(runuser -u "$user" --)
  fi
  PG_PORT="$(free_port)"
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; fail "initdb failed"; }
  timeout "$T" "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses='' -c fsync=on" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; fail "PostgreSQL did not start"; }
  timeout "$T" "${PG_RUN[@]}" "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U postgres ca \
    || fail "createdb failed"
  PG_CONN="host=$PG_DIR port=$PG_PORT dbname=ca user=postgres"
  log "PostgreSQL on port $PG_PORT (socket dir $PG_DIR)"
}

# ca_setup DIR: token + ca.toml in DIR for $MODULE and $CA_DB.
ca_setup() {
  local dir=$1
  mkdir -p "$dir"
  init_token
  printf '%s\n' "$USER_PIN" >"$dir/pin.txt"
  chmod 600 "$dir/pin.txt"
  local db="sqlite:ca.db"
  if [[ "$CA_DB" == postgres ]]; then
    [[ -n "${PG_CONN:-}" ]] || pg_start
    db="$PG_CONN"
  fi
  OCSP_PORT="${OCSP_PORT:-$(free_port)}"
  cat >"$dir/ca.toml" <<TOML
[ca]
name = "factory"
root_subject = "/CN=Factory Root CA/O=Example/C=JP"
issuing_subject = "/CN=Factory Issuing CA 1/O=Example/C=JP"
key_algorithm = "${CA_KEY_ALG:-ec-p256}"
signature_algorithm = "${CA_SIG_ALG:-}"
crl_url = "http://127.0.0.1:$OCSP_PORT/crl/full.crl"
ocsp_url = "http://127.0.0.1:$OCSP_PORT/"
permitted_names = ["DNS:.devices.example.com"]
max_csr_bytes = 8192

[token]
module = "$MODULE"
label = "$TOKEN_LABEL"
pin_file = "pin.txt"

[database]
url = "$db"

[profiles.device]
days = 365
key_usage = ["digitalSignature"]
extended_key_usage = ["clientAuth", "serverAuth"]
subject_allowed = ["CN", "serialNumber"]
subject_fixed = { O = "Example Devices" }
san_types = ["DNS"]
san_dns_suffixes = [".devices.example.com"]
key_algorithms = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072"]
policies = ["1.3.6.1.4.1.55555.1.1"]

[profiles.ec-only]
days = 30
key_usage = ["digitalSignature"]
subject_allowed = ["CN"]
san_types = ["DNS"]
key_algorithms = ["ec-p256"]
TOML
}

ca() { timeout "$T" "$CA_BIN" --dir "$CA_DIR" --actor interop-test "$@"; }
# ca_bg ARGS...: certvault-ca in the background, registered for cleanup. Not
# `ca ... &`: that backgrounds a subshell, and killing it would leave the
# server running.
ca_bg() {
  timeout "$T" "$CA_BIN" --dir "$CA_DIR" --actor interop-test "$@" &
  BG_PIDS+=($!)
}

# new_csr NAME KEYSPEC CN [SAN]: a CSR made by the openssl CLI.
new_csr() {
  local name=$1 keyspec=$2 cn=$3 san=${4:-}
  local args=(-new -newkey "$keyspec" -nodes -keyout "$WORK/$name.key" -subj "/CN=$cn" -out "$WORK/$name.csr")
  [[ "$keyspec" == ec ]] && args=(-new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$name.key" -subj "/CN=$cn" -out "$WORK/$name.csr")
  [[ -n "$san" ]] && args+=(-addext "subjectAltName=$san")
  timeout "$T" openssl req "${args[@]}" 2>/dev/null || fail "openssl req for $name failed"
}

serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

# ca_db_url: the --database value of `init` for $CA_DB. REQUIRES: pg_start
# ran for postgres (not from here: a $(...) subshell would lose its state).
ca_db_url() {
  if [[ "$CA_DB" == postgres ]]; then
    printf 'postgresql://postgres@/ca?host=%s&port=%s\n' "$PG_DIR" "$PG_PORT"
  else
    printf 'sqlite:ca.db\n'
  fi
}

# ca_init_flags DIR [INIT FLAGS...]: a token, a PIN file ($WORK/ca-pin.txt)
# and the guided set-up: `certvault-ca init` writing DIR/ca.toml from flags
# (shipped profiles device, server, ocsp) and creating the hierarchy. Sets
# CA_DIR and OCSP_PORT (ca.toml's URLs point at 127.0.0.1:$OCSP_PORT).
ca_init_flags() {
  local dir=$1
  shift
  init_token
  printf '%s\n' "$USER_PIN" >"$WORK/ca-pin.txt"
  chmod 600 "$WORK/ca-pin.txt"
  local db
  if [[ "$CA_DB" == postgres && -z "${PG_CONN:-}" ]]; then pg_start; fi
  db="$(ca_db_url)"
  OCSP_PORT="${OCSP_PORT:-$(free_port)}"
  CA_DIR="$dir"
  ca init --name factory --root-subject "/CN=Factory Root CA/O=Example/C=JP" \
    --issuing-subject "/CN=Factory Issuing CA 1/O=Example/C=JP" --key-algorithm "${CA_KEY_ALG:-ec-p256}" \
    --token-module "$MODULE" --token-label "$TOKEN_LABEL" --pin-file "$WORK/ca-pin.txt" --database "$db" \
    --url "http://127.0.0.1:$OCSP_PORT" --permitted-dns devices.example.com --permitted-dns example.net "$@" \
    || fail "certvault-ca init (guided set-up) failed"
}

# boot_ca NAME: a manufacturer's bootstrap CA outside certvault,
# $WORK/NAME.{pem,key}, subject "/CN=Bootstrap CA/O=Maker" (a rogue CA is
# one more with the same name and another key).
boot_ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$1.key" \
    -subj "/CN=Bootstrap CA/O=Maker" -days 30 -out "$WORK/$1.pem" 2>/dev/null || fail "bootstrap CA $1"
}

# boot_cert NAME CN CA_PREFIX: a TLS client certificate $WORK/NAME.{pem,key}
# for /CN=CN signed by CA_PREFIX.{pem,key} (its extensions stay in
# $WORK/ext.cnf for further certificates).
boot_cert() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$1.key" -subj "/CN=$2" \
    -out "$WORK/$1.csr" 2>/dev/null || fail "req $1"
  printf 'keyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' >"$WORK/ext.cnf"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 30 \
    -extfile "$WORK/ext.cnf" -out "$WORK/$1.pem" 2>/dev/null || fail "sign $1"
}

# serve_ca_setup DIR: ca_setup, then a [server] section (HTTPS on a free port
# in HTTPS_PORT, HTTP on OCSP_PORT, the TLS key through $PROVIDER, profile
# "device" for clients of the factory issuing CA), init and the server
# certificate for 127.0.0.1.
serve_ca_setup() {
  ca_setup "$1"
  HTTPS_PORT="$(free_port)"
  cat >>"$1/ca.toml" <<TOML

[server]
https_port = $HTTPS_PORT
http_port = $OCSP_PORT
provider_module = "$PROVIDER"
default_profile = "device"

[[server.authorize]]
issuer = "/CN=Factory Issuing CA 1/O=Example/C=JP"
profiles = ["device"]
TOML
  ca init 2>/dev/null || fail "init"
  ca server-cert --san IP:127.0.0.1 2>"$WORK/server-cert.log" || { cat "$WORK/server-cert.log"; fail "server-cert"; }
}
