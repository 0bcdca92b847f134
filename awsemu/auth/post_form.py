"""The auth step of a browser form upload (S3 POST Object) in the sigv4 and iam modes.

A browser's POST carries no Authorization header: the form signs itself. Its ``policy`` field is
the string to sign, and the signature fields say who signed it (S3 API "Authenticating Requests:
Browser-Based Uploads Using POST (AWS Signature Version 4)", and its SigV2 twin):

- SigV4: ``x-amz-algorithm`` (``AWS4-HMAC-SHA256``), ``x-amz-credential``
  (``<key>/<date>/<region>/s3/aws4_request``), ``x-amz-date``, ``x-amz-signature`` (hex
  HMAC-SHA256 of the policy under the scope's signing key);
- SigV2: ``AWSAccessKeyId`` and ``signature`` (base64 HMAC-SHA1 of the policy under the secret);
- ``x-amz-security-token`` with temporary credentials, as with any signed request.

Which answers (the SigV4 set is tried first, then SigV2's, as S3 reads them):

- some of a set's fields but not all: 400 InvalidArgument "Bucket POST must contain a field named
  'X-Amz-Date'.  If it is specified, please check the order of the fields." (the fields after
  ``file`` are not read, hence the hint);
- a ``policy`` with no signature field at all: 403 AccessDenied;
- no ``policy``: the form signs nothing, and the upload is anonymous — as an unsigned PutObject is
  in each mode: refused in sigv4 mode, allowed in iam mode only where the bucket policy allows
  anyone ``s3:PutObject``;
- an unknown key, a wrong signature, a bad token: the errors of every S3 request
  (:mod:`awsemu.auth.errors`; SignatureDoesNotMatch names the policy as StringToSign).

A verified form is then authorized in iam mode as ``s3:PutObject`` on the bucket and final key
(identity policies, bucket policy, cross-account rules: :meth:`AuthGuard.admit_verified`), the
form's ``acl`` field giving ``s3:x-amz-acl``, as a PutObject's header does.

The gateway builds the callable (:func:`form_verifier`) and hands it to the S3 provider, which calls
it once it has read the fields and knows the key, before it stores the file.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from awsemu.auth import errors as E
from awsemu.auth.enforcement import AuthGuard
from awsemu.auth.identity import Identity
from awsemu.auth.sigv4 import ALGORITHM, AuthFailure, Verified
from awsemu.services.base import DEFAULT_ACCOUNT, ServiceError

# The fields of each signature version as S3 names them in its errors, in the order it asks for them.
V4_FIELDS = (("x-amz-signature", "X-Amz-Signature"), ("x-amz-algorithm", "X-Amz-Algorithm"),
             ("x-amz-credential", "X-Amz-Credential"), ("x-amz-date", "X-Amz-Date"))
V2_FIELDS = (("signature", "Signature"), ("awsaccesskeyid", "AWSAccessKeyId"))

FormVerifier = Callable[[Mapping[str, str], str, str], Any]


def _invalid_argument(message: str, name: str, value: str) -> ServiceError:
    return ServiceError(message, code="InvalidArgument", status=400,
                        fields={"ArgumentName": name, "ArgumentValue": value})


def _signed_with(fields: Mapping[str, str], names: tuple[tuple[str, str], ...]) -> bool:
    """Whether the form uses this signature version: all of its fields, none, or an error."""
    if not any(name in fields for name, _ in names):
        return False
    for name, shown in names:
        if name not in fields:
            raise _invalid_argument(f"Bucket POST must contain a field named '{shown}'.  If it is specified, "
                                    "please check the order of the fields.", shown, "")
    return True


def verify_form_signature(guard: AuthGuard, fields: Mapping[str, str], now: float | None = None) -> Verified | None:
    """The form's signer (``fields`` keyed in lower case), None for an unsigned form; raises the
    S3 error of a form that does not check out."""
    policy = fields.get("policy")
    if not policy:
        return None
    v4 = _signed_with(fields, V4_FIELDS)
    if not v4 and not _signed_with(fields, V2_FIELDS):
        raise E.auth_error("s3", E.MISSING_AUTH)
    now = time.time() if now is None else now
    token = fields.get("x-amz-security-token", "")
    try:
        if not v4:
            return guard.verifier.verify_post_policy(fields["awsaccesskeyid"], fields["signature"], policy, token,
                                                     now, None)
        algorithm = fields["x-amz-algorithm"]
        if algorithm != ALGORITHM:
            raise _invalid_argument(f'X-Amz-Algorithm only supports "{ALGORITHM}"', "x-amz-algorithm", algorithm)
        credential = fields["x-amz-credential"]
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
            raise _invalid_argument(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
                '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".', "x-amz-credential", credential)
        return guard.verifier.verify_post_policy(parts[0], fields["x-amz-signature"], policy, token, now,
                                                 (parts[1], parts[2], parts[3]))
    except AuthFailure as failure:
        raise E.auth_error("s3", failure.kind, failure.detail, failure.fields) from None


def admit_form(guard: AuthGuard, fields: Mapping[str, str], bucket: str, key: str, region: str,
               source_ip: str, secure: bool) -> Any:
    """Who uploads (an identity with the attributes of :class:`Identity`), once the form is
    verified and, in iam mode, the upload authorized; raises the S3 error otherwise.

    ``region`` is the HTTP request's, which SigV2 and unsigned forms keep. The request's own
    Authorization, if it has one, is not what S3 reads for a form: it confers nothing.
    """
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ACL": fields.get("acl")}
    verified = verify_form_signature(guard, fields)
    if verified is None:
        anonymous = Identity("", DEFAULT_ACCOUNT, region, "s3")
        return guard.admit_unsigned("s3", "PutObject", params, anonymous, source_ip, secure)
    return guard.admit_verified(verified, "s3", "PutObject", params, verified.region if verified.version == 4
                                else region, source_ip, secure)


def form_verifier(guard: AuthGuard, region: str, source_ip: str, secure: bool) -> FormVerifier:
    """``(fields, bucket, key) -> identity``: :func:`admit_form` bound to one request."""

    def verify(fields: Mapping[str, str], bucket: str, key: str) -> Any:
        return admit_form(guard, fields, bucket, key, region, source_ip, secure)

    return verify
