"""A local RFC 3161 timestamp authority: OpenSSL's ``ts -reply`` behind a tiny HTTP server.

For the tests, the demo and air-gapped trials only: it makes its own root CA and a TSA
certificate (extended key usage ``timeStamping``, critical, as RFC 3161 §2.3 requires) with
the ``openssl`` command, and answers ``application/timestamp-query`` POSTs on 127.0.0.1.
Its tokens verify like any TSA's, against its CA (``ca_path``); a court would use a public
TSA's instead (``[capture] tsa_url`` and ``tsa_ca_file``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from haechi.collect.web_capture.local_server import LocalServer

MAX_QUERY = 16 * 1024
_CONF = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = {cn}
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_authority(folder: Path, name: str = "haechi local test TSA") -> Path:
    """CA and TSA keys and certificates in ``folder`` (made once); returns the config."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is needed for the local timestamp authority")
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "tsa.cnf"
    if (folder / "tsa.pem").exists():
        return conf
    conf.write_text(_CONF.format(cn=name, dir=str(folder)), encoding="utf-8")
    (folder / "serial").write_text("01\n", encoding="ascii")
    env = ("-config", str(conf))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-keyout",
             "ca.key", "-out", "ca.pem", "-extensions", "v3_ca", *env, "-subj",
             f"/CN={name} root", cwd=folder)  # fmt: skip
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out",
             "tsa.csr", *env, "-subj", f"/CN={name}", cwd=folder)  # fmt: skip
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "3650", "-extfile", str(conf), "-extensions",
             "v3_tsa", "-out", "tsa.pem", cwd=folder)  # fmt: skip
    return conf


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Content-Type") != "application/timestamp-query" or not (
            0 < size <= MAX_QUERY
        ):
            self.send_error(400, "expected an application/timestamp-query")
            return
        query = self.rfile.read(size)
        tsa: LocalTsa = self.server.owner
        folder = tsa.folder
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            with tsa.lock:
                done = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", str(folder / "tsa.cnf"),
                     "-queryfile", str(q), "-out", str(r)],
                    capture_output=True, timeout=30, check=False,
                )  # fmt: skip
            if done.returncode != 0 or not r.exists():
                self.send_error(500, "openssl ts -reply failed")
                return
            reply = r.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


class LocalTsa(LocalServer):
    """``with LocalTsa(folder) as tsa: ... tsa.url ... tsa.ca_path``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        make_authority(folder)
        self.ca_path = folder / "ca.pem"
        self.cert_path = folder / "tsa.pem"
        self.lock = threading.Lock()  # the serial file is shared
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return f"{self.base_url()}/tsr"
