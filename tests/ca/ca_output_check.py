#!/usr/bin/env python3
"""The whole output of a certvault-ca instance, checked with python3-cryptography.

usage: ca_output_check.py CA_DIR OUT_DIR

CA_DIR is an instance made by the guided set-up (`certvault-ca init` with
flags): its ca.toml says what every certificate must look like. OUT_DIR holds
what ca_output_test.sh collected:
  ee/PROFILE-NAME.pem      end-entity certificates (profile = the file prefix)
  revoked.txt              the hex serial revoked (keyCompromise) after base/
  base/full*.pem           the full CRLs signed before that revocation
  crl/full*.pem, crl/delta*.pem, crl/root.pem   the CRLs after it, the root's ARL
  ocsp/NAME.der, ocsp/NAME.req, ocsp/NAME.cert  OCSP answers, their requests, the cert asked about
Checks: every signature against its issuer; the chain's names and key
identifiers; each CA certificate's constraints; every end-entity certificate's
extensions as its profile in ca.toml says (and the OCSP signer's as the
internal ocsp profile says); every CRL's signature, issuer, number (strictly
increasing in signing order), delta indicator (naming its base), freshestCRL,
issuing distribution point (partitioned CRLs) and entries; every OCSP
answer's signature, signer, CertID, status, reason, times and nonce.
"""
import datetime
import glob
import os
import sys
import tomllib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.utcnow()
EKU = {"clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH, "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
       "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING}
KU = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
      "key_cert_sign", "crl_sign"]
KU_NAMES = {"digitalSignature": "digital_signature", "nonRepudiation": "content_commitment",
            "keyEncipherment": "key_encipherment", "dataEncipherment": "data_encipherment",
            "keyAgreement": "key_agreement", "keyCertSign": "key_cert_sign", "cRLSign": "crl_sign"}
SHORT_NAMES = {NameOID.COMMON_NAME: "CN", NameOID.SERIAL_NUMBER: "serialNumber", NameOID.ORGANIZATION_NAME: "O",
               NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.COUNTRY_NAME: "C"}
checked = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    checked.append(what)


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def load_crl(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_crl(f.read())


def verify(pub, signature, data, hash_alg, what):
    if isinstance(pub, ec.EllipticCurvePublicKey):
        pub.verify(signature, data, ec.ECDSA(hash_alg))
    elif isinstance(pub, rsa.RSAPublicKey):
        pub.verify(signature, data, padding.PKCS1v15(), hash_alg)
    else:
        raise AssertionError("%s: unexpected key type" % what)
    checked.append("signature of " + what)


def ext(obj, cls):
    try:
        return obj.extensions.get_extension_for_class(cls)
    except x509.ExtensionNotFound:
        return None


def ski(cert):
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def check_chain_link(cert, issuer, what):
    verify(issuer.public_key(), cert.signature, cert.tbs_certificate_bytes, cert.signature_hash_algorithm, what)
    check(cert.issuer == issuer.subject, what + ": issuer name chains")
    check(cert.version == x509.Version.v3, what + ": v3")
    check(0 < cert.serial_number < 2 ** 159, what + ": serial positive, at most 20 octets")
    check(cert.not_valid_before <= NOW <= cert.not_valid_after, what + ": valid now")
    check(cert.not_valid_after <= issuer.not_valid_after, what + ": within the issuer's validity")
    expected_ski = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    check(ski(cert) == expected_ski, what + ": subjectKeyIdentifier is the key's hash")
    aki = ext(cert, x509.AuthorityKeyIdentifier)
    check(aki is not None and aki.value.key_identifier == ski(issuer), what + ": AKI names the issuer's key")
    bc = ext(cert, x509.BasicConstraints)
    check(bc is not None and bc.critical, what + ": basicConstraints critical")
    ku = ext(cert, x509.KeyUsage)
    check(ku is not None and ku.critical, what + ": keyUsage critical")
    names = [e.oid for e in cert.extensions]
    check(len(names) == len(set(names)), what + ": no repeated extension")


def key_usages(cert):
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    return {name for name in KU if getattr(ku, name)}


def crl_dp_urls(cert):
    dp = ext(cert, x509.CRLDistributionPoints)
    return [n.value for d in (dp.value if dp else []) for n in (d.full_name or [])]


def check_profile(cert, profile, cfg, what, from_csr=True):
    """The end-entity certificate is what its ca.toml profile says (from_csr:
    its subject and SANs came from a CSR, through the profile's rules)."""
    check(not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, what + ": not a CA")
    want_ku = {KU_NAMES[k] for k in profile.get("key_usage", ["digitalSignature"])}
    check(key_usages(cert) == want_ku, what + ": keyUsage is the profile's")
    eku = ext(cert, x509.ExtendedKeyUsage)
    want_eku = [EKU[e] for e in profile.get("extended_key_usage", [])]
    check(list(eku.value if eku else []) == want_eku, what + ": extendedKeyUsage is the profile's")
    days = min(profile.get("days", 365), cfg["ca"].get("issuing_days", 3650))
    lifetime = cert.not_valid_after - cert.not_valid_before
    capped = cert.not_valid_after == load_issuing().not_valid_after
    check(lifetime == datetime.timedelta(days=days) or capped, what + ": validity is the profile's days")
    if not from_csr:
        return
    allowed = set(profile.get("subject_allowed", ["CN"]))
    fixed = set(profile.get("subject_fixed", {}))
    for attr in cert.subject:
        short = SHORT_NAMES.get(attr.oid, attr.oid.dotted_string)
        check(short in allowed or short in fixed, "%s: subject attribute %s allowed" % (what, short))
    san = ext(cert, x509.SubjectAlternativeName)
    if profile.get("require_san", False):
        check(san is not None, what + ": has the subjectAltName the profile requires")
    types = {x509.DNSName: "DNS", x509.IPAddress: "IP", x509.RFC822Name: "email",
             x509.UniformResourceIdentifier: "URI"}
    permitted = [n[4:] for n in cfg["ca"].get("permitted_names", []) if n.startswith("DNS:")]
    for name in (san.value if san else []):
        check(types[type(name)] in profile.get("san_types", ["DNS"]), what + ": SAN type allowed")
        if isinstance(name, x509.DNSName) and permitted:
            ok = any(name.value == p or name.value.endswith("." + p) for p in permitted)
            check(ok, what + ": SAN %s inside the issuing CA's nameConstraints" % name.value)
    check(len(san.value if san else []) <= profile.get("max_sans", 8), what + ": at most max_sans SANs")


def check_revocation_pointers(cert, cfg, what, parts):
    urls = crl_dp_urls(cert)
    check(len(urls) == 1, what + ": one CRL distribution point")
    if parts == 1:
        check(urls[0] == cfg["ca"]["crl_url"], what + ": CRL DP is crl_url")
    else:
        check(urls[0].startswith(cfg["ca"]["crl_url"][:-4] + "-p"), what + ": CRL DP names a partition")
    aia = ext(cert, x509.AuthorityInformationAccess)
    ocsp_urls = [d.access_location.value for d in (aia.value if aia else [])
                 if d.access_method == x509.oid.AuthorityInformationAccessOID.OCSP]
    check(ocsp_urls == [cfg["ca"]["ocsp_url"]], what + ": AIA OCSP is ocsp_url")


_issuing = []


def load_issuing():
    return _issuing[0]


def check_ca_certs(ca_dir, cfg):
    root, issuing, signer = (load_cert(os.path.join(ca_dir, n + ".pem")) for n in ("root", "issuing", "ocsp"))
    _issuing.append(issuing)
    check_chain_link(root, root, "root")
    check_chain_link(issuing, root, "issuing CA")
    check_chain_link(signer, issuing, "OCSP signer")
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints).value
    check(bc.ca and key_usages(root) == {"key_cert_sign", "crl_sign"}, "root: a CA with keyCertSign, cRLSign")
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    check(bc.ca and bc.path_length == cfg["ca"].get("issuing_path_len", 0), "issuing CA: a CA with its pathLen")
    check(key_usages(issuing) == {"key_cert_sign", "crl_sign"}, "issuing CA: keyCertSign, cRLSign")
    nc = ext(issuing, x509.NameConstraints)
    want = sorted(n[4:] for n in cfg["ca"]["permitted_names"])
    check(nc is not None and nc.critical, "issuing CA: nameConstraints critical")
    check(sorted(n.value for n in nc.value.permitted_subtrees) == want, "issuing CA: the permitted names of ca.toml")
    check(crl_dp_urls(issuing) == [cfg["ca"]["crl_url"][:-len("full.crl")] + "root.crl"], "issuing CA: CRL DP = ARL")
    check_profile(signer, cfg["profiles"]["ocsp"], cfg, "OCSP signer (profile ocsp)", from_csr=False)
    want_cn = issuing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value + " OCSP Responder"
    check(signer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == want_cn, "OCSP signer: its name")
    check(ext(signer, x509.OCSPNoCheck) is not None, "OCSP signer: id-pkix-ocsp-nocheck")
    aia = ext(signer, x509.AuthorityInformationAccess)
    check(aia is None, "OCSP signer: no AIA OCSP pointing at itself")
    parts = cfg["ca"].get("crl_partitions", 1)
    urls = crl_dp_urls(signer)
    if parts == 1:
        check(urls == [cfg["ca"]["crl_url"]], "OCSP signer: CRL DP is crl_url")
    else:
        prefix = cfg["ca"]["crl_url"][:-4] + "-p"
        check(len(urls) == 1 and urls[0].startswith(prefix), "OCSP signer: a partition CRL DP")
    return root, issuing, signer


def crl_number(crl):
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def check_crl(crl, issuer, what):
    check(crl.issuer == issuer.subject, what + ": issuer")
    check(crl.is_signature_valid(issuer.public_key()), what + ": signature")
    verify(issuer.public_key(), crl.signature, crl.tbs_certlist_bytes, crl.signature_hash_algorithm, what)
    check(crl.last_update <= NOW <= crl.next_update, what + ": thisUpdate <= now <= nextUpdate")
    aki = ext(crl, x509.AuthorityKeyIdentifier)
    check(aki is not None and aki.value.key_identifier == ski(issuer), what + ": AKI names the issuer's key")
    check(crl_number(crl) >= 1, what + ": cRLNumber")


def partition_of(path):
    base = os.path.basename(path)[:-4]
    return int(base.split("-p")[1]) if "-p" in base else None


def check_idp(crl, cfg, part, kind, what):
    idp = ext(crl, x509.IssuingDistributionPoint)
    if part is None:
        check(idp is None, what + ": a complete CRL has no issuingDistributionPoint")
        return
    url = cfg["ca"]["crl_url"][:-4] + "-p%d.crl" % part
    check(idp is not None and idp.critical, what + ": critical issuingDistributionPoint")
    check([n.value for n in idp.value.full_name] == [url], what + ": IDP names " + url)


def check_crls(out, cfg, issuing, root, revoked, ees):
    bases = {partition_of(p): load_crl(p) for p in glob.glob(os.path.join(out, "base", "full*.pem"))}
    fulls = {partition_of(p): load_crl(p) for p in glob.glob(os.path.join(out, "crl", "full*.pem"))}
    deltas = {partition_of(p): load_crl(p) for p in glob.glob(os.path.join(out, "crl", "delta*.pem"))}
    check(bases.keys() == fulls.keys() == deltas.keys() and fulls, "a base, delta and full CRL per partition")
    delta_url = cfg["ca"]["crl_url"][:-len("full.crl")] + "delta.crl"
    for part in fulls:
        tag = "" if part is None else " p%d" % part
        base, delta, full = bases[part], deltas[part], fulls[part]
        for crl, kind in ((base, "base full CRL"), (delta, "delta CRL"), (full, "full CRL")):
            check_crl(crl, issuing, kind + tag)
            check_idp(crl, cfg, part, kind, kind + tag)
        check(crl_number(base) < crl_number(delta) < crl_number(full), "CRL numbers increase" + tag)
        di = ext(delta, x509.DeltaCRLIndicator)
        check(di is not None and di.critical and di.value.crl_number == crl_number(base),
              "delta CRL%s: critical deltaCRLIndicator naming its base" % tag)
        check(ext(full, x509.DeltaCRLIndicator) is None, "full CRL%s: no deltaCRLIndicator" % tag)
        fresh = ext(full, x509.FreshestCRL)
        if part is None:
            urls = [n.value for d in fresh.value for n in d.full_name]
            check(urls == [delta_url], "full CRL: freshestCRL names delta_crl_url")
        check(len(base) == 0, "base CRL%s: empty before the revocation" % tag)
        holds = full.get_revoked_certificate_by_serial_number(revoked) is not None
        mine = part is None or any(u.endswith("-p%d.crl" % part) for u in ees[revoked])
        check(holds == mine, "full CRL%s lists the revoked serial iff it is its partition's" % tag)
        check((delta.get_revoked_certificate_by_serial_number(revoked) is not None) == mine,
              "delta CRL%s lists the revocation iff in its partition" % tag)
        for crl in (full, delta):
            entry = crl.get_revoked_certificate_by_serial_number(revoked)
            if entry is not None:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
                check(reason == x509.ReasonFlags.key_compromise, "CRL%s entry: reason keyCompromise" % tag)
            others = [e.serial_number for e in crl if e.serial_number != revoked]
            check(not others, "CRL%s: nothing else revoked" % tag)
    arl = load_crl(os.path.join(out, "crl", "root.pem"))
    check_crl(arl, root, "root's ARL")
    check(len(arl) == 0 and ext(arl, x509.DeltaCRLIndicator) is None, "root's ARL: complete, nothing revoked")


def check_ocsp(out, issuing, signer, revoked):
    pub = issuing.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):  # the subjectPublicKey BIT STRING's value
        key_bits = pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    else:
        key_bits = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    for path in sorted(glob.glob(os.path.join(out, "ocsp", "*.der"))):
        name = os.path.basename(path)[:-4]
        with open(path, "rb") as f:
            resp = ocsp.load_der_ocsp_response(f.read())
        with open(path[:-4] + ".req", "rb") as f:
            req = ocsp.load_der_ocsp_request(f.read())
        cert = load_cert(path[:-4] + ".cert")
        what = "OCSP answer for " + name
        check(resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL, what + ": successful")
        check(len(resp.certificates) == 1 and resp.certificates[0] == signer, what + ": carries the signer")
        check(resp.responder_key_hash == ski(signer) or resp.responder_name == signer.subject,
              what + ": ResponderID names the signer")
        verify(signer.public_key(), resp.signature, resp.tbs_response_bytes, resp.signature_hash_algorithm, what)
        check(resp.serial_number == cert.serial_number == req.serial_number, what + ": CertID serial")
        check(resp.issuer_key_hash == req.issuer_key_hash and resp.issuer_name_hash == req.issuer_name_hash,
              what + ": CertID issuer hashes echo the request")
        h = hashes.Hash(type(resp.hash_algorithm)())
        h.update(issuing.subject.public_bytes())
        check(resp.issuer_name_hash == h.finalize(), what + ": issuerNameHash is the issuing CA's")
        h = hashes.Hash(type(resp.hash_algorithm)())
        h.update(key_bits)
        check(resp.issuer_key_hash == h.finalize(), what + ": issuerKeyHash is the issuing CA's key")
        check(resp.this_update <= NOW and (resp.next_update is None or NOW <= resp.next_update),
              what + ": thisUpdate <= now <= nextUpdate")
        check(resp.produced_at <= NOW + datetime.timedelta(seconds=5), what + ": producedAt not in the future")
        req_nonce = ext(req, x509.OCSPNonce)
        if req_nonce is not None:
            check(ext(resp, x509.OCSPNonce).value.nonce == req_nonce.value.nonce, what + ": nonce echoed")
        if cert.serial_number == revoked:
            check(resp.certificate_status == ocsp.OCSPCertStatus.REVOKED, what + ": revoked")
            check(resp.revocation_reason == x509.ReasonFlags.key_compromise, what + ": reason keyCompromise")
        else:
            check(resp.certificate_status == ocsp.OCSPCertStatus.GOOD, what + ": good")
    check(len(glob.glob(os.path.join(out, "ocsp", "*.der"))) >= 2, "OCSP answers checked")


def main():
    ca_dir, out = sys.argv[1:3]
    with open(os.path.join(ca_dir, "ca.toml"), "rb") as f:
        cfg = tomllib.load(f)
    parts = cfg["ca"].get("crl_partitions", 1)
    root, issuing, signer = check_ca_certs(ca_dir, cfg)
    with open(os.path.join(out, "revoked.txt")) as f:
        revoked = int(f.read().strip(), 16)
    ees = {}
    profiles_seen = set()
    for path in sorted(glob.glob(os.path.join(out, "ee", "*.pem"))):
        name = os.path.basename(path)[:-4]
        profile_name = name.split("-")[0]
        cert = load_cert(path)
        check_chain_link(cert, issuing, name)
        check_profile(cert, cfg["profiles"][profile_name], cfg, "%s (profile %s)" % (name, profile_name))
        check_revocation_pointers(cert, cfg, name, parts)
        ees[cert.serial_number] = crl_dp_urls(cert)
        profiles_seen.add(profile_name)
    shipped = {n for n, p in cfg["profiles"].items() if not p.get("internal", False)}
    check(profiles_seen == shipped, "an end-entity certificate for every issuing profile: %s" % sorted(shipped))
    check(revoked in ees, "the revoked serial is one of the end-entity certificates")
    check_crls(out, cfg, issuing, root, revoked, ees)
    check_ocsp(out, issuing, signer, revoked)
    print("python3-cryptography: %d checks passed (%d end-entity certificates, partitions %d)"
          % (len(checked), len(ees), parts))


if __name__ == "__main__":
    main()
