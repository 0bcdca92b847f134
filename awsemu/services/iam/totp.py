"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), as virtual MFA devices use them.

IAM's virtual devices are the common authenticator-app profile: HMAC-SHA1, 6 digits, 30-second
steps, the seed handed out base32-encoded. The stdlib has every piece (hmac, hashlib, base64), so
this module is the few lines that put them together, plus the drift-tolerant checks IAM applies:

- :func:`find_pair` — EnableMFADevice / ResyncMFADevice send two *consecutive* codes; the device is
  accepted at the step where both match, searched within ``window`` steps of the server clock.
- :func:`find_code` — one code (STS ``TokenCode``) within one step either side of the device's
  clock (server clock + the drift learned at enable/resync), never at or before a step already used
  (a code is good once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time

STEP_SECONDS = 30
DIGITS = 6
SEED_BYTES = 40  # 320 bits: a 64-character base32 seed, the length IAM hands out


def new_seed() -> str:
    """A fresh base32 seed (no padding: 40 bytes encode to exactly 64 characters)."""
    return base64.b32encode(secrets.token_bytes(SEED_BYTES)).decode("ascii")


def step_at(when: float | None = None) -> int:
    return int((time.time() if when is None else when) // STEP_SECONDS)


def code_at(seed: str, step: int) -> str:
    """The RFC 4226 HOTP value of ``seed`` (base32) for counter ``step``, zero-padded."""
    key = base64.b32decode(seed + "=" * (-len(seed) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** DIGITS).zfill(DIGITS)


def find_pair(seed: str, first: str, second: str, center: int, window: int) -> int | None:
    """The step ``s`` (``|s - center| <= window``) where ``first`` is the code of ``s`` and ``second``
    of ``s + 1``; nearest to ``center`` first. None when no step matches."""
    for distance in range(window + 1):
        for step in {center - distance, center + distance}:
            if code_at(seed, step) == first and code_at(seed, step + 1) == second:
                return step
    return None


def find_code(seed: str, code: str, center: int, after: int | None, window: int = 1) -> int | None:
    """The step within ``window`` of ``center`` whose code is ``code`` and that is later than
    ``after`` (the last step already used), or None."""
    for step in range(center - window, center + window + 1):
        if (after is None or step > after) and hmac.compare_digest(code_at(seed, step), code):
            return step
    return None
