#!/usr/bin/env bash
# Unmodified services with their TLS keys in the vault, given as key-reference
# files (certvault export-keyref) and loaded through OPENSSL_CONF:
#  - nginx (Debian nginx-light), master + 2 workers running as an unprivileged
#    user: the workers re-open the vault after fork(); curl fetches a page;
#  - nginx again with a vault the workers cannot open: the error log names
#    the vault and the permission problem;
#  - mosquitto with its server key in the vault, mosquitto_pub/mosquitto_sub
#    over mutual TLS with their client key in the vault too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/provider_lib.sh"
need_tool nginx curl mosquitto mosquitto_pub mosquitto_sub
provider_setup
cd "$WORK"

keygen web ec:p256
keygen broker ec:p256
keygen mqttc ec:p256
for k in web broker mqttc; do
  selfsigned "$k"
  timeout "$T" "$CLI" export-keyref --key "$k" --out "$k.ref" || fail "export-keyref $k"
  grep -q -- "-----BEGIN CERTVAULT KEY-----" "$k.ref" || fail "export-keyref wrote no key reference"
done
if grep -q "$USER_PIN" ./*.ref; then fail "a key reference contains the PIN"; fi

# The service user needs the vault (read-write: PIN retry counters, SQLite WAL)
# and the PIN file (its own, mode 600: group or other bits are refused; the
# master reads it as root); $WORK is the test's temp dir. See docs/design/provider.md.
SVC_USER=nobody
SVC_GROUP=$(id -gn "$SVC_USER")
chmod 711 "$WORK"
chown -R "$SVC_USER:$SVC_GROUP" "$CERTVAULT_HOME"
chown "$SVC_USER:$SVC_GROUP" "$WORK/pin" && chmod 600 "$WORK/pin"

# --- nginx: master + workers as $SVC_USER ---
write_nginx_conf() {
  local conf=$1 port=$2 dir=$3 extra=${4:-}
  mkdir -p "$dir"
  cat >"$conf" <<NGINX
daemon off;
master_process on;
worker_processes 2;
user $SVC_USER $SVC_GROUP;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $WORK/web.crt;
    ssl_certificate_key $WORK/web.ref;
    ssl_protocols TLSv1.2 TLSv1.3;
    $extra
    location / { return 200 "served with a vault key\n"; }
  }
}
NGINX
}

# stop_nginx DIR: stops the nginx whose pid file is in DIR and waits until it
# (with its workers, which the master waits for) is gone, so that nothing
# holds the vault open: its SQLite -wal file would vanish under a chown -R.
stop_nginx() {
  local pid
  pid=$(cat "$1/nginx.pid")
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  fail "nginx ($1) did not stop"
}

NGX_PORT=$(free_port)
write_nginx_conf nginx.conf "$NGX_PORT" "$WORK/ngx"
timeout "$T" nginx -t -c "$WORK/nginx.conf" -e "$WORK/ngx/error.log" >ngx-t.log 2>&1 || { cat ngx-t.log >&2; fail "nginx -t"; }
timeout "$T" nginx -c "$WORK/nginx.conf" -e "$WORK/ngx/error.log" >ngx.log 2>&1 &
BG_PIDS+=($!)
wait_for_line "$WORK/ngx/error.log" "start worker process" 10 || { cat ngx.log ngx/error.log >&2; fail "nginx did not start"; }
for i in 1 2 3 4 5 6; do
  for proto in --tlsv1.3 --tlsv1.2; do
    out=$(timeout "$T" curl -sS --fail --cacert web.crt "$proto" "https://127.0.0.1:$NGX_PORT/" 2>curl.log) \
      || { cat curl.log ngx/error.log >&2; fail "curl through nginx ($proto, request $i)"; }
    [[ "$out" == "served with a vault key" ]] || fail "unexpected nginx response: $out"
  done
done
ps -o user= -p "$(pgrep -P "$(cat ngx/nginx.pid)" | head -1)" | grep -q "$SVC_USER" || fail "nginx workers do not run as $SVC_USER"
stop_nginx ngx
log "nginx: 12 HTTPS requests (TLS 1.3 and 1.2) served by workers running as $SVC_USER"

# --- nginx whose workers cannot open the vault ---
# Embedded: the vault directory is closed to the service user; daemon mode:
# certvaultd's socket is.
if [[ -n "${CERTVAULT_SOCKET:-}" ]]; then
  chmod 600 "$CERTVAULT_SOCKET"
  VAULT_SHOWN="certvaultd $CERTVAULT_SOCKET"
else
  chown -R root:root "$CERTVAULT_HOME"
  chmod 700 "$CERTVAULT_HOME"
  VAULT_SHOWN="$CERTVAULT_HOME"
fi
NGX2_PORT=$(free_port)
write_nginx_conf nginx2.conf "$NGX2_PORT" "$WORK/ngx2"
timeout "$T" nginx -c "$WORK/nginx2.conf" -e "$WORK/ngx2/error.log" >ngx2.log 2>&1 &
BG_PIDS+=($!)
wait_for_line "$WORK/ngx2/error.log" "start worker process" 10 || { cat ngx2.log ngx2/error.log >&2; fail "nginx 2 did not start"; }
expect_failure "TLS with a worker that cannot open the vault" \
  timeout "$T" curl -sS --fail --cacert web.crt "https://127.0.0.1:$NGX2_PORT/"
wait_for_line ngx2/error.log "cannot open the vault at $VAULT_SHOWN" 5 || { cat ngx2/error.log >&2; fail "the worker's error does not name the vault"; }
expect_contains ngx2/error.log "read and write access" "the worker's error names the needed access"
stop_nginx ngx2
chown -R "$SVC_USER:$SVC_GROUP" "$CERTVAULT_HOME"
[[ -n "${CERTVAULT_SOCKET:-}" ]] && chmod 666 "$CERTVAULT_SOCKET"
log "nginx: a worker that cannot open the vault logs why"

# --- nginx with the PIN from its own ssl_password_file (the passphrase callback), no pin-file ---
write_openssl_cnf nopin.cnf "$BACKEND_LINE"
NGX3_PORT=$(free_port)
write_nginx_conf nginx3.conf "$NGX3_PORT" "$WORK/ngx3" "ssl_password_file $WORK/pin;"
OPENSSL_CONF="$WORK/nopin.cnf" timeout "$T" nginx -c "$WORK/nginx3.conf" -e "$WORK/ngx3/error.log" >ngx3.log 2>&1 &
BG_PIDS+=($!)
wait_for_line "$WORK/ngx3/error.log" "start worker process" 10 || { cat ngx3.log ngx3/error.log >&2; fail "nginx 3 did not start"; }
out=$(timeout "$T" curl -sS --fail --cacert web.crt "https://127.0.0.1:$NGX3_PORT/" 2>curl.log) \
  || { cat curl.log ngx3/error.log >&2; fail "curl through nginx with ssl_password_file"; }
[[ "$out" == "served with a vault key" ]] || fail "unexpected nginx response: $out"
stop_nginx ngx3
log "nginx: PIN from ssl_password_file through the passphrase callback"

# --- mosquitto, mutual TLS, all keys in the vault ---
# mosquitto drops to its service user before it loads the key: that user reads the vault.
MQ_PORT=$(free_port)
mkdir -p mq && chown "$SVC_USER:$SVC_GROUP" mq
cat >mosquitto.conf <<MQ
user $SVC_USER
per_listener_settings true
listener $MQ_PORT 127.0.0.1
certfile $WORK/broker.crt
keyfile $WORK/broker.ref
cafile $WORK/mqttc.crt
require_certificate true
use_identity_as_username true
allow_anonymous true
log_dest file $WORK/mq/mosquitto.log
log_type all
MQ
timeout "$T" mosquitto -c mosquitto.conf >mq.out 2>&1 &
BG_PIDS+=($!)
wait_for_line mq/mosquitto.log "Opening ipv4 listen socket on port $MQ_PORT" 10 || { cat mq.out mq/mosquitto.log >&2; fail "mosquitto did not start"; }
sleep 0.3
mq_tls=(-h 127.0.0.1 -p "$MQ_PORT" --cafile broker.crt --cert mqttc.crt --key mqttc.ref --insecure)
timeout "$T" mosquitto_sub "${mq_tls[@]}" -t plant/line1 -C 1 -W 20 >sub.out 2>sub.err &
SUB_PID=$!
BG_PIDS+=($SUB_PID)
wait_for_line mq/mosquitto.log "Received SUBSCRIBE" 10 || { cat sub.err mq/mosquitto.log >&2; fail "mosquitto_sub did not subscribe over mutual TLS"; }
timeout "$T" mosquitto_pub "${mq_tls[@]}" -t plant/line1 -m "telemetry 42" 2>pub.err || { cat pub.err mq/mosquitto.log >&2; fail "mosquitto_pub"; }
wait "$SUB_PID" || { cat sub.err >&2; fail "mosquitto_sub"; }
[[ "$(cat sub.out)" == "telemetry 42" ]] || fail "mosquitto_sub received '$(cat sub.out)'"
expect_contains mq/mosquitto.log "as mqttc\\.test|u'mqttc\\.test'|mqttc\\.test" "broker authenticated the vault client certificate"
log "mosquitto: pub/sub over mutual TLS, broker and client keys in the vault"
