#!/usr/bin/env bash
# Interop: PyKCS11 (python3-pykcs11, run with /usr/bin/python3) against $MODULE:
# EC P-256 and RSA-2048 key generation, sign, verify (in the token and with
# python3-cryptography), bit-flipped signatures refused, CKA_VALUE /
# CKA_PRIVATE_EXPONENT of sensitive keys refused with CKR_ATTRIBUTE_SENSITIVE,
# private objects hidden after logout, a 5 MiB single-part C_Sign/C_Verify (in
# parts through certvaultd). See p11_client.py `basic`.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool
need_python_module PyKCS11
setup_env
init_token
timeout "$T" "$PY" "$INTEROP_DIR/p11_client.py" basic --module "$MODULE" --token "$TOKEN_LABEL" \
  --pin "$USER_PIN" || fail "PyKCS11 basic checks (exit $?)"
