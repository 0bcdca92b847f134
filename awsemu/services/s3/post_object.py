"""POST Object: browser form uploads (multipart/form-data) checked against their policy document.

The form is parsed while it streams: fields are collected until the ``file`` field, whose content
goes straight into the blob store (S3 ignores fields after ``file``). The policy (base64 JSON with
``expiration`` and ``conditions``) is checked against the fields before the file is read; the
``content-length-range`` condition after. Success follows ``success_action_redirect`` (303 to it,
with bucket, key and etag in the query) or ``success_action_status`` (204 default, 200 empty,
201 with a ``PostResponse`` document). Reference: S3 API "Browser-Based Uploads Using POST" and
"Creating a POST Policy".

The gateway owns HTTP: it hands ``S3Provider.post_object`` the bucket, the Content-Type, the body
stream and the two headers S3 checks before any object operation (``x-amz-expected-bucket-owner``,
``x-amz-request-payer``; request_checks.py), and writes the returned ``(status, headers, body)``.

Who uploads: a browser's request carries no Authorization header; the form's credential
(``x-amz-credential``, or SigV2's ``AWSAccessKeyId``) names the key that signed the policy, and its
account is the requester (:func:`form_requester`): the one Requester Pays charges and the owner of
the new object, as for PutObject. That is all the ``off`` auth mode does with it; in the ``sigv4``
and ``iam`` modes the gateway also hands over a ``verify_form`` callable (awsemu/auth/post_form.py),
which checks the form's signature over its policy and authorizes the upload as ``s3:PutObject``,
and whose answer is the requester instead. It runs once the key is known, before the policy's
conditions are read and before any of the file is stored.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from datetime import datetime, timezone
from typing import Any, AsyncIterator
from urllib.parse import urlencode

from awsemu.services.base import DEFAULT_ACCOUNT, CallContext
from awsemu.services.s3.errors import AccessDenied, InvalidArgument, MalformedPOSTRequest, S3Error

MAX_FIELD = 20 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)
_DISPOSITION = re.compile(r'(\w+)="([^"]*)"')
IGNORED = {"x-amz-signature", "awsaccesskeyid", "signature", "file", "policy", "x-amz-security-token"}


class FormReader:
    """Streaming multipart/form-data reader over an async byte iterator."""

    def __init__(self, body: Any, boundary: str) -> None:
        self._body = body.__aiter__()
        self._delim = b"\r\n--" + boundary.encode()
        self._buf = bytearray(b"\r\n")  # lets the first boundary match the same delimiter
        self._done = False

    async def _fill(self) -> bool:
        try:
            chunk = await self._body.__anext__()
        except StopAsyncIteration:
            return False
        self._buf += chunk
        return True

    async def _read_until(self, token: bytes, limit: int) -> bytes:
        while True:
            at = self._buf.find(token)
            if at >= 0:
                out = bytes(self._buf[:at])
                del self._buf[: at + len(token)]
                return out
            if len(self._buf) > limit or not await self._fill():
                raise MalformedPOSTRequest()

    async def next_part(self) -> tuple[dict[str, str], dict[str, str]] | None:
        """Skip to the next part; returns (disposition params, headers), None after the last."""
        if self._done:
            return None
        await self._read_until(self._delim, MAX_FIELD + len(self._delim))
        while len(self._buf) < 2:
            if not await self._fill():
                raise MalformedPOSTRequest()
        if self._buf[:2] == b"--":
            self._done = True
            return None
        head = await self._read_until(b"\r\n\r\n", MAX_FIELD)
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip():
                headers[name.strip().lower()] = value.strip()
        disposition = dict(_DISPOSITION.findall(headers.get("content-disposition", "")))
        return disposition, headers

    async def value(self) -> str:
        at = -1
        while (at := self._buf.find(self._delim)) < 0:
            if len(self._buf) > MAX_FIELD or not await self._fill():
                raise MalformedPOSTRequest()
        text = bytes(self._buf[:at]).decode("utf-8")
        del self._buf[:at]
        return text

    async def stream(self) -> AsyncIterator[bytes]:
        """The current part's content, up to the next delimiter (which stays in the buffer)."""
        keep = len(self._delim)
        while True:
            at = self._buf.find(self._delim)
            if at >= 0:
                if at:
                    yield bytes(self._buf[:at])
                del self._buf[:at]
                return
            if len(self._buf) > keep:
                cut = len(self._buf) - keep
                yield bytes(self._buf[:cut])
                del self._buf[:cut]
            if not await self._fill():
                raise MalformedPOSTRequest()


def boundary_of(content_type: str | None) -> str:
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise S3Error("Bucket POST must be of the enclosure-type multipart/form-data", code="PreconditionFailed",
                      status=412, fields={"Condition": "Bucket POST must be of the enclosure-type multipart/form-data"})
    m = _BOUNDARY.search(content_type)
    if m is None:
        raise MalformedPOSTRequest()
    return m.group(1)


_ACCOUNT_ID = re.compile(r"\d{12}")


def form_requester(ctx: CallContext, fields: dict[str, str]) -> CallContext:
    """The caller of a form upload (``fields`` keyed in lower case): when the HTTP request itself
    is unsigned, as a browser's is, the account of the form's credential; else ``ctx``.

    The account of a key follows DESIGN.md "Identity and accounts": a 12-digit access key id is
    the account, any other key the default account.
    """
    if ctx.access_key_id:
        return ctx
    credential = fields.get("x-amz-credential")
    if credential:
        key, _, scope = credential.partition("/")
        parts = scope.split("/")
        region = parts[1] if len(parts) >= 4 and parts[1] else ctx.region
    else:
        key, region = fields.get("awsaccesskeyid", ""), ctx.region
    if not key:
        return ctx
    account = key if _ACCOUNT_ID.fullmatch(key) else DEFAULT_ACCOUNT
    return dataclasses.replace(ctx, account_id=account, access_key_id=key, region=region,
                               principal_arn=f"arn:aws:iam::{account}:root", user_id=account)


def _policy_failed(condition: Any) -> S3Error:
    return AccessDenied("Invalid according to Policy: Policy Condition failed: " + json.dumps(condition))


def check_policy(policy_b64: str | None, fields: dict[str, str], bucket: str,
                 now: datetime | None = None) -> tuple[int, int] | None:
    """Check the form fields against the policy; returns the content-length-range, if any."""
    if policy_b64 is None:
        return None
    try:
        policy = json.loads(base64.b64decode(policy_b64))
    except ValueError:
        raise InvalidArgument("Invalid Policy: Invalid JSON.", fields={"ArgumentName": "policy"}) from None
    expiration = policy.get("expiration")
    if not expiration:
        raise InvalidArgument("Invalid Policy: Policy missing expiration.", fields={"ArgumentName": "policy"})
    when = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    if (now or datetime.now(timezone.utc)) > when:
        raise AccessDenied("Invalid according to Policy: Policy expired.")
    covered = set()
    length_range = None
    lowered = {k.lower(): v for k, v in fields.items()}
    lowered["bucket"] = bucket
    for condition in policy.get("conditions") or []:
        if isinstance(condition, dict):
            for name, expected in condition.items():
                covered.add(name.lower())
                if lowered.get(name.lower()) != expected:
                    raise _policy_failed(["eq", f"${name}", expected])
            continue
        op = str(condition[0]).lower()
        if op == "content-length-range":
            length_range = (int(condition[1]), int(condition[2]))
            continue
        name = str(condition[1]).lstrip("$").lower()
        covered.add(name)
        actual = lowered.get(name, "")
        if op == "eq" and actual != condition[2]:
            raise _policy_failed(condition)
        if op == "starts-with" and not actual.startswith(condition[2]):
            raise _policy_failed(condition)
    extra = [k for k in fields if k.lower() not in covered and k.lower() not in IGNORED
             and not k.lower().startswith("x-ignore-") and k.lower() != "bucket"]
    if extra:
        raise AccessDenied(f"Invalid according to Policy: Extra input fields: {extra[0]}")
    return length_range


def success_response(fields: dict[str, str], endpoint: str, bucket: str, key: str, etag: str
                     ) -> tuple[int, dict[str, str], bytes]:
    lowered = {k.lower(): v for k, v in fields.items()}
    redirect = lowered.get("success_action_redirect") or lowered.get("redirect")
    if redirect:
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urlencode({"bucket": bucket, "key": key, "etag": f'"{etag}"'})
        return 303, {"Location": location, "ETag": f'"{etag}"'}, b""
    status = lowered.get("success_action_status", "204")
    location = f"{endpoint}/{bucket}/{key}"
    headers = {"ETag": f'"{etag}"', "Location": location}
    if status == "201":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
            f"<Location>{_xml(location)}</Location><Bucket>{_xml(bucket)}</Bucket>"
            f"<Key>{_xml(key)}</Key><ETag>&quot;{etag}&quot;</ETag></PostResponse>"
        ).encode()
        return 201, {**headers, "Content-Type": "application/xml"}, body
    return (200 if status == "200" else 204), headers, b""


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
