"""Who is calling: access key, account and region read from SigV4 (header or presigned query).

No verification here (``AWSEMU_AUTH=off`` identifies, never rejects); the auth issue adds it.
A 12-digit access key id is taken as the account id (a handy way to test cross-account rules),
anything else maps to the default account 000000000000, as DESIGN.md says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from awsemu.services.base import DEFAULT_ACCOUNT, DEFAULT_REGION

_TWELVE_DIGITS = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Identity:
    access_key_id: str
    account_id: str
    region: str
    # The service named in the credential scope ("s3", "dynamodb", "sqs", ...), "" when unsigned.
    signing_service: str

    @property
    def principal_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    @property
    def user_id(self) -> str:
        # For the root user AWS reports the account id as UserId (STS GetCallerIdentity).
        return self.account_id


ANONYMOUS = Identity("", DEFAULT_ACCOUNT, DEFAULT_REGION, "")


def account_for_access_key(access_key_id: str) -> str:
    return access_key_id if _TWELVE_DIGITS.fullmatch(access_key_id) else DEFAULT_ACCOUNT


def parse_credential(credential: str) -> Identity:
    """``AKID/20261127/eu-west-1/sqs/aws4_request`` -> Identity. Malformed scopes degrade gracefully."""
    parts = credential.split("/")
    access_key = parts[0]
    region = parts[2] if len(parts) >= 5 and parts[2] else DEFAULT_REGION
    service = parts[3] if len(parts) >= 5 else ""
    return Identity(access_key, account_for_access_key(access_key), region, service)


def identify(authorization: str | None, query_string: str) -> Identity:
    """Read the SigV4 credential from the Authorization header or the presigned query."""
    if authorization:
        if authorization.startswith("AWS4-"):
            # str.find, not a regex: this runs on every request
            at = authorization.find("Credential=")
            if at >= 0:
                start = at + len("Credential=")
                end = authorization.find(",", start)
                credential = authorization[start:end if end >= 0 else len(authorization)].strip().split(" ")[0]
                if credential:
                    return parse_credential(credential)
        elif authorization.startswith("AWS "):
            # SigV2 (S3 legacy): "AWS AKID:signature" carries no region or service.
            access_key = authorization[4:].split(":", 1)[0].strip()
            return Identity(access_key, account_for_access_key(access_key), DEFAULT_REGION, "")
    if query_string and ("X-Amz-Credential=" in query_string or "AWSAccessKeyId=" in query_string):
        for pair in query_string.split("&"):
            key, _, value = pair.partition("=")
            if key == "X-Amz-Credential":
                return parse_credential(unquote(value))
            if key == "AWSAccessKeyId":
                access_key = unquote(value)
                return Identity(access_key, account_for_access_key(access_key), DEFAULT_REGION, "s3")
    return ANONYMOUS
