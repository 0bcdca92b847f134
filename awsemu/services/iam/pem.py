"""Reading the PEM texts IAM is handed: X.509 certificates, private keys, SSH public keys.

The ``cryptography`` package does the X.509/key parsing when it is importable. It is not among
awsemu's own dependencies (it comes into the development environment with moto), so every use is
guarded: without it, certificates and keys are checked for their PEM framing and base64 only,
a server certificate has no ``Expiration``, a private key is not matched to its certificate, and
SSH keys can be uploaded and read in the OpenSSH form but not in PEM.

The OpenSSH form (``ssh-rsa <base64> [comment]``) is read with the stdlib: its wire format is three
length-prefixed strings (RFC 4253 §6.6), enough for the key size and the MD5 fingerprint IAM shows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

try:  # optional, see the module docstring
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - exercised only where cryptography is absent
    x509 = None  # type: ignore[assignment]
    serialization = None  # type: ignore[assignment]

HAVE_CRYPTOGRAPHY = x509 is not None

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----")
MIN_SSH_RSA_BITS = 2048
MAX_SSH_RSA_BITS = 16384


class PemError(ValueError):
    """The text is not what it claims to be; the caller words the IAM error."""


def pem_blocks(text: str, label: str) -> list[bytes]:
    """The DER payloads of every ``-----BEGIN <label>-----`` block; PemError when there is none or
    a payload is not base64."""
    blocks = []
    for m in _BLOCK.finditer(text or ""):
        if m.group(1) != label:
            continue
        try:
            blocks.append(base64.b64decode("".join(m.group(2).split()), validate=True))
        except binascii.Error:
            raise PemError(label) from None
    if not blocks:
        raise PemError(label)
    return blocks


def certificate_expiry(body: str) -> float | None:
    """Validate one PEM certificate; its notAfter as epoch seconds (None without cryptography)."""
    der = pem_blocks(body, "CERTIFICATE")
    if len(der) != 1:
        raise PemError("CERTIFICATE")
    if x509 is None:
        return None
    try:
        cert = x509.load_der_x509_certificate(der[0])
    except ValueError:
        raise PemError("CERTIFICATE") from None
    return cert.not_valid_after_utc.timestamp()


def certificate_fingerprint(body: str) -> str:
    """SHA-256 of the DER: what makes two uploads "the same certificate" whatever their line breaks."""
    return hashlib.sha256(pem_blocks(body, "CERTIFICATE")[0]).hexdigest()


def check_chain(chain: str) -> None:
    for der in pem_blocks(chain, "CERTIFICATE"):
        if x509 is not None:
            try:
                x509.load_der_x509_certificate(der)
            except ValueError:
                raise PemError("CERTIFICATE") from None


def key_matches_certificate(private_key: str, body: str) -> bool:
    """Parse the private key (PemError when it is not one); whether its public half is the
    certificate's (True when that cannot be told without cryptography)."""
    if not re.search(r"-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----", private_key or ""):
        raise PemError("PRIVATE KEY")
    if serialization is None:
        return True
    try:
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        raise PemError("PRIVATE KEY") from None
    cert = x509.load_pem_x509_certificate(body.encode())
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return bool(key.public_key().public_bytes(der, spki) == cert.public_key().public_bytes(der, spki))


# -- SSH public keys ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SshKey:
    blob: bytes          # the RFC 4253 wire form: string "ssh-rsa", mpint e, mpint n
    openssh: str         # "ssh-rsa <base64>" (the comment dropped)

    @property
    def fingerprint(self) -> str:
        """IAM's fingerprint: MD5 of the wire form, colon-separated hex (as ``ssh-keygen -E md5``)."""
        digest = hashlib.md5(self.blob).hexdigest()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))

    def pem(self) -> str:
        if serialization is None:
            raise PemError("PUBLIC KEY")
        key = serialization.load_ssh_public_key(self.openssh.encode())
        return key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


class UnrecognizedEncoding(PemError):
    """Neither the OpenSSH ``ssh-rsa`` form nor a PEM public key."""


def _ssh_strings(blob: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(blob):
        if i + 4 > len(blob):
            raise PemError("ssh")
        (n,) = struct.unpack(">I", blob[i:i + 4])
        if i + 4 + n > len(blob):
            raise PemError("ssh")
        out.append(blob[i + 4:i + 4 + n])
        i += 4 + n
    return out


def parse_ssh_public_key(text: str) -> SshKey:
    """An IAM SSH key body: ``ssh-rsa <base64> [comment]`` or a PEM ``PUBLIC KEY`` of an RSA key.
    UnrecognizedEncoding for any other form, PemError for a malformed or too small/large key."""
    text = (text or "").strip()
    if text.startswith("-----BEGIN"):
        if serialization is None or "-----BEGIN PUBLIC KEY-----" not in text and "-----BEGIN RSA PUBLIC KEY-----" not in text:
            raise UnrecognizedEncoding("ssh")
        try:
            key = serialization.load_pem_public_key(text.encode())
            text = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        except (ValueError, TypeError):
            raise PemError("ssh") from None
    parts = text.split()
    if len(parts) < 2 or parts[0] != "ssh-rsa":
        raise UnrecognizedEncoding("ssh")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise PemError("ssh") from None
    fields = _ssh_strings(blob)
    if len(fields) != 3 or fields[0] != b"ssh-rsa":
        raise PemError("ssh")
    bits = int.from_bytes(fields[2], "big").bit_length()
    if not MIN_SSH_RSA_BITS <= bits <= MAX_SSH_RSA_BITS:
        raise PemError("ssh")
    return SshKey(blob, f"ssh-rsa {parts[1]}")
