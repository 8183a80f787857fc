"""Sign a benign demo picture with C2PA, using a certificate chain made on the spot.

For the demo and the tests only: a throw-away root and signer (ECDSA P-256, 30 days)
are generated at run time, so no key ships with haechi and nothing here can pass for a
real signer. The signer's chain is not on any trust list: a reader reports the
signature as valid and the signer as untrusted, unless given :attr:`DemoSigner.root_pem`
as a trust anchor.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@dataclass(frozen=True)
class DemoSigner:
    chain_pem: bytes  # signer certificate, then the root
    key_pem: bytes
    root_pem: bytes


def _name(cn: str) -> Any:
    from cryptography.x509 import Name, NameAttribute
    from cryptography.x509.oid import NameOID

    return Name(
        [
            NameAttribute(NameOID.COMMON_NAME, cn),
            NameAttribute(NameOID.ORGANIZATION_NAME, "haechi demo (not a real signer)"),
        ]
    )


def make_signer(common_name: str = "haechi demo generator") -> DemoSigner:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("haechi demo root")

    def usage(sign: bool, cert_sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=cert_sign,
            crl_sign=cert_sign,
            encipher_only=False,
            decipher_only=False,
        )

    root = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(False, True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(True, False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem)
    return DemoSigner(
        chain_pem=cert.public_bytes(pem) + root_pem,
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        root_pem=root_pem,
    )


def sign_jpeg(
    jpeg: bytes,
    signer: DemoSigner,
    *,
    title: str = "demo.jpg",
    source_type: str = TRAINED,
    tool: str = "haechi demo",
) -> bytes:
    """``jpeg`` with an embedded C2PA manifest: action ``c2pa.created`` with
    ``digitalSourceType`` ``source_type``, signed by ``signer`` (no timestamp authority)."""
    import c2pa

    manifest = {
        "claim_generator_info": [{"name": tool, "version": "1"}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": source_type,
                            "softwareAgent": {"name": tool},
                        }
                    ]
                },
            }
        ],
    }
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, signer.chain_pem, signer.key_pem, None)
    out = io.BytesIO()
    with c2pa.Signer.from_info(info) as c2pa_signer, c2pa.Builder(json.dumps(manifest)) as b:
        b.sign(c2pa_signer, "image/jpeg", io.BytesIO(jpeg), out)
    return out.getvalue()
