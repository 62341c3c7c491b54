#!/usr/bin/env python3
"""Validates certvault-ca output with python3-cryptography (Debian 12: 38.x).

usage: ca_validate.py CA_DIR FULL_CRL_PEM DELTA_CRL_PEM REVOKED_SERIAL_HEX LEAF.pem...
Parses every certificate and CRL, checks each signature against its issuer's
public key, the name chaining, the CA flags, and that the revoked serial is on
both CRLs while the other leaves are not on the full CRL.
"""
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def load_crl(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_crl(f.read())


def verify_sig(issuer, cert):
    pub = issuer.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    elif isinstance(pub, rsa.RSAPublicKey):
        pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    else:
        raise ValueError("unexpected issuer key type")
    if cert.issuer != issuer.subject:
        raise ValueError("issuer name does not chain: %s" % cert.subject.rfc4514_string())


def main():
    ca_dir, full_path, delta_path, revoked_hex = sys.argv[1:5]
    leaves = [load(p) for p in sys.argv[5:]]
    root, issuing, ocsp = (load("%s/%s.pem" % (ca_dir, n)) for n in ("root", "issuing", "ocsp"))
    verify_sig(root, root)
    verify_sig(root, issuing)
    verify_sig(issuing, ocsp)
    for cert, is_ca in ((root, True), (issuing, True), (ocsp, False)):
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca == is_ca, cert.subject
    eku = ocsp.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING in eku
    revoked = int(revoked_hex, 16)
    full, delta = load_crl(full_path), load_crl(delta_path)
    for crl in (full, delta):
        assert crl.is_signature_valid(issuing.public_key()), "CRL signature invalid"
        assert crl.issuer == issuing.subject
        assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number >= 1
        entry = crl.get_revoked_certificate_by_serial_number(revoked)
        assert entry is not None, "revoked serial missing from a CRL"
        assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator).critical
    for leaf in leaves:
        verify_sig(issuing, leaf)
        assert leaf.version == x509.Version.v3
        assert 0 < leaf.serial_number < 2 ** 159, "serial out of range"
        assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        if leaf.serial_number != revoked:
            assert full.get_revoked_certificate_by_serial_number(leaf.serial_number) is None
    print("validated %d leaves, 3 CA certificates and 2 CRLs" % len(leaves))


if __name__ == "__main__":
    main()
