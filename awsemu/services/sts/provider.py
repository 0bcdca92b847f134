"""STS: caller identity, role sessions, session and federation tokens.

Temporary credentials are ``ASIA...`` key ids with a secret and a session token, stored in the IAM
store (``iam s <key id>``) with their expiry; the auth layer finds them through the IAM provider's
``credential_lookup``, so they sign requests to every service and stop working when they expire
(``ExpiredToken``). In ``iam`` mode, AssumeRole* also checks the role's trust policy (the gateway
has already checked the caller's identity policies for ``sts:AssumeRole`` on the role ARN).

GetScopedCredentials copies the calling session (same identity, policies and tags) and adds one
scope-down layer; the auth layer requires every layer to allow (at most 3 layers), so a scoped session
can never do more than the session it came from.

Limits (STS API reference): DurationSeconds 900 s .. the role's MaxSessionDuration (1 h when role
chaining) for AssumeRole*; 900 s .. 129600 s for GetSessionToken and GetFederationToken (1 h for
the root user's GetSessionToken); session names ``[\\w+=,.@-]{2,64}``; inline session policy
packed size 2048; at most 10 managed session policies; at most 50 session tags.

MFA: GetSessionToken and AssumeRole with ``SerialNumber``/``TokenCode`` check the code against the
caller's enabled MFA device (:func:`awsemu.services.iam.mfa.check_token_code`); the session then
records when MFA was passed (``mfa_at``), which :mod:`awsemu.services.iam.principals` hands to the
auth layer as ``KeyRecord.extra["mfa_authenticated_at"]`` (for ``aws:MultiFactorAuthPresent`` and
``aws:MultiFactorAuthAge``). Sessions made from an MFA session (AssumeRole with GetSessionToken
credentials) keep the original MFA time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from typing import Any

from awsemu.services.iam.policy import AuthzRequest, PrincipalInfo, parse_policy
from awsemu.services.iam.policy.evaluate import resource_policy_allows
from awsemu.services.iam.policy.parse import TRUST, MalformedPolicy
from awsemu.services.base import CallContext, Provider, ServiceError, runs_inline
from awsemu.services.iam.mfa import check_token_code
from awsemu.services.iam.principals import Principals
from awsemu.services.iam.store import IamStore, new_id, new_secret

_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")


class AccessDenied(ServiceError):
    code = "AccessDenied"
    status = 403


class ValidationError(ServiceError):
    code = "ValidationError"
    status = 400


class MalformedPolicyDocument(ServiceError):
    code = "MalformedPolicyDocument"
    status = 400


class PackedPolicyTooLarge(ServiceError):
    code = "PackedPolicyTooLarge"
    status = 400


class InvalidIdentityToken(ServiceError):
    code = "InvalidIdentityToken"
    status = 400


class InsufficientSessionLifetime(ServiceError):
    code = "InsufficientSessionLifetime"
    status = 400


class InvalidSubjectCredentials(ServiceError):
    code = "InvalidSubjectCredentials"
    status = 400


class InvalidAuthorizationMessage(ServiceError):
    code = "InvalidAuthorizationMessageException"
    status = 400


def _caller_kind(arn: str) -> str:
    if arn.endswith(":root"):
        return "root"
    if ":assumed-role/" in arn:
        return "assumed-role"
    if ":federated-user/" in arn:
        return "federated-user"
    return "user"


def _duration(value: int | None, default: int, low: int, high: int, field: str) -> int:
    seconds = default if value is None else value
    if seconds < low:
        raise ValidationError(f"1 validation error detected: Value '{seconds}' at '{field}' failed to satisfy "
                              f"constraint: Member must have value greater than or equal to {low}")
    if seconds > high:
        raise ValidationError(f"1 validation error detected: Value '{seconds}' at '{field}' failed to satisfy "
                              f"constraint: Member must have value less than or equal to {high}")
    return seconds


class StsProvider(Provider):
    service_name = "sts"

    def __init__(self, storage: Any, config: Any) -> None:
        super().__init__(storage, config)
        self.store = IamStore(storage.db)
        self.principals = Principals(self.store)

    @runs_inline
    def get_caller_identity(self, ctx: CallContext) -> dict[str, Any]:
        return {"UserId": ctx.user_id, "Account": ctx.account_id, "Arn": ctx.principal_arn}

    # -- shared ------------------------------------------------------------------------------
    def _session_policies(self, account: str, policy: str | None, policy_arns: list[dict[str, str]] | None) -> list[str]:
        texts: list[str] = []
        if policy is not None:
            try:
                parse_policy(policy)
            except MalformedPolicy as exc:
                raise MalformedPolicyDocument(str(exc)) from None
            if len("".join(policy.split())) > 2048:
                raise PackedPolicyTooLarge("Packed policy consumes 100% of allotted space, please use smaller policy.")
            texts.append(policy)
        arns = [p["arn"] for p in policy_arns or []]
        if len(arns) > 10:
            raise ValidationError("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
                                  "Member must have length less than or equal to 10")
        for arn in arns:
            text = self.principals.managed_document(account, arn)
            if text is None:
                raise ValidationError(f"Policy {arn} does not exist or is not attachable.")
            texts.append(text)
        return texts

    def _issue(self, account: str, arn: str, user_id: str, kind: str, ref: list[str], duration: float,
               policies: list[str], tags: dict[str, str], extra: dict[str, Any] | None = None,
               minimum_token_size: int | None = None) -> dict[str, Any]:
        key_id = new_id("ASIA", 20)
        token = base64.b64encode(b"awsemu-session:" + secrets.token_bytes(240)).decode()
        if minimum_token_size and len(token) < minimum_token_size:
            # MinimumSessionTokenSize: padded with more random bytes, still one opaque base64 token.
            token = base64.b64encode(b"awsemu-session:" + secrets.token_bytes(minimum_token_size * 3 // 4)).decode()
        issued = time.time()
        record = {"secret": new_secret(), "token": token, "account": account, "arn": arn, "user_id": user_id,
                  "kind": kind, "ref": ref, "expires_at": issued + duration, "issued_at": issued,
                  "policies": policies, "tags": tags, **(extra or {})}
        self.store.put_key("s", key_id, record)
        return {"AccessKeyId": key_id, "SecretAccessKey": record["secret"], "SessionToken": token,
                "Expiration": record["expires_at"]}

    @staticmethod
    def _tags(tags: list[dict[str, str]] | None) -> dict[str, str]:
        tags = tags or []
        if len(tags) > 50:
            raise ValidationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                                  "Member must have length less than or equal to 50")
        return {t["Key"]: t["Value"] for t in tags}

    def _role(self, ctx: CallContext, role_arn: str, action: str) -> tuple[str, dict[str, Any] | None]:
        m = _ROLE_ARN.match(role_arn)
        if m is None:
            raise ValidationError(f"{role_arn} is invalid")
        account, name = m.group(1), m.group(2)
        role = self.store.get("r", account, name)
        if role is None and self.config.auth != "off":
            raise AccessDenied(f"User: {ctx.principal_arn} is not authorized to perform: {action} on resource: {role_arn}")
        return account, role

    def _check_trust(self, ctx: CallContext, role: dict[str, Any] | None, role_arn: str, action: str,
                     principal: PrincipalInfo, context: dict[str, Any]) -> None:
        if self.config.auth != "iam" or role is None:
            return
        trust = parse_policy(role["AssumeRolePolicyDocument"], TRUST)
        request = AuthzRequest(action, role_arn, principal, role_arn.split(":")[4], context)
        if not resource_policy_allows(trust, request):
            raise AccessDenied(f"User: {principal.arn} is not authorized to perform: {action} on resource: {role_arn}")

    def _role_session(self, ctx: CallContext | None, account: str, role: dict[str, Any] | None, role_arn: str,
                      session_name: str, duration: int | None, chained: bool, policies: list[str],
                      tags: dict[str, str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        if not _SESSION_NAME.match(session_name):
            raise ValidationError(f"1 validation error detected: Value '{session_name}' at 'roleSessionName' failed "
                                  "to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
        max_duration = 3600 if chained else (role or {}).get("MaxSessionDuration", 3600)
        seconds = 3600 if duration is None else duration
        if seconds < 900:
            _duration(seconds, 3600, 900, 43200, "durationSeconds")
        if seconds > max_duration:
            raise ValidationError(f"The requested DurationSeconds exceeds the {'1 hour session limit for roles assumed by role chaining' if chained else 'MaxSessionDuration set for this role'}.")
        role_name = role_arn.rsplit("/", 1)[-1]
        role_id = role["RoleId"] if role else new_id("AROA")
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
        user_id = f"{role_id}:{session_name}"
        role_tags = {t["Key"]: t["Value"] for t in (role or {}).get("Tags", [])}
        credentials = self._issue(account, arn, user_id, "assumed-role", ["role", role_name], seconds, policies,
                                  {**role_tags, **tags}, {"role_arn": role_arn, **(extra or {})})
        return {"Credentials": credentials, "AssumedRoleUser": {"AssumedRoleId": user_id, "Arn": arn},
                "PackedPolicySize": min(100, sum(len(p) for p in policies) * 100 // 2048) if policies else 0}

    def _principal(self, ctx: CallContext) -> PrincipalInfo:
        kind = _caller_kind(ctx.principal_arn)
        role_arn = ""
        if kind == "assumed-role":
            role_arn = f"arn:aws:iam::{ctx.account_id}:role/{ctx.principal_arn.split('/')[1]}"
        return PrincipalInfo(ctx.principal_arn, ctx.account_id, kind, role_arn=role_arn)

    def _mfa_time(self, ctx: CallContext, serial: str | None, code: str | None) -> float | None:
        """When MFA was passed for the session being made: now, when SerialNumber/TokenCode are given
        and good; the caller's own session's MFA time when it has one; else None."""
        if serial is None and code is None:
            session = self.store.get_key("s", ctx.access_key_id) if ctx.access_key_id.startswith("ASIA") else None
            return session.get("mfa_at") if session else None
        if serial is None or code is None:
            raise ValidationError("Both SerialNumber and TokenCode are required for MFA authentication.")
        user_name = ctx.principal_arn.rsplit("/", 1)[1] if ":user/" in ctx.principal_arn else ""
        device = self.store.get("mfa", ctx.account_id, serial)
        if device is None or not user_name or (device.get("user") or "").lower() != user_name.lower():
            raise AccessDenied("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
                               "serial number is valid and associated with this user.")
        if check_token_code(self.store, ctx.account_id, user_name, serial, code) is None:
            raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code. ")
        return time.time()

    # -- operations ----------------------------------------------------------------------------
    def assume_role(self, ctx: CallContext, RoleArn: str, RoleSessionName: str, PolicyArns: list[dict[str, str]] | None = None,
                    Policy: str | None = None, DurationSeconds: int | None = None, Tags: list[dict[str, str]] | None = None,
                    TransitiveTagKeys: list[str] | None = None, ExternalId: str | None = None,
                    SerialNumber: str | None = None, TokenCode: str | None = None, SourceIdentity: str | None = None,
                    ProvidedContexts: list[Any] | None = None) -> dict[str, Any]:
        account, role = self._role(ctx, RoleArn, "sts:AssumeRole")
        tags = self._tags(Tags)
        context: dict[str, Any] = {"sts:RoleSessionName": RoleSessionName}
        if ExternalId is not None:
            context["sts:ExternalId"] = ExternalId
        if SourceIdentity is not None:
            context["sts:SourceIdentity"] = SourceIdentity
        for key, value in tags.items():
            context[f"aws:RequestTag/{key}"] = value
        if tags:
            context["aws:TagKeys"] = list(tags)
        if TransitiveTagKeys:
            context["sts:TransitiveTagKeys"] = TransitiveTagKeys
        mfa_at = self._mfa_time(ctx, SerialNumber, TokenCode)
        if mfa_at is not None:
            context["aws:MultiFactorAuthPresent"] = "true"
            context["aws:MultiFactorAuthAge"] = str(int(time.time() - mfa_at))
        self._check_trust(ctx, role, RoleArn, "sts:AssumeRole", self._principal(ctx), context)
        policies = self._session_policies(account, Policy, PolicyArns)
        chained = _caller_kind(ctx.principal_arn) == "assumed-role"
        extra: dict[str, Any] = {"mfa_at": mfa_at} if mfa_at is not None else {}
        if SourceIdentity is not None:
            extra["source_identity"] = SourceIdentity
        out = self._role_session(ctx, account, role, RoleArn, RoleSessionName, DurationSeconds, chained, policies, tags,
                                 extra)
        if SourceIdentity is not None:
            out["SourceIdentity"] = SourceIdentity
        return out

    @staticmethod
    def _jwt_claims(token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidIdentityToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
        try:
            payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
            claims = json.loads(payload)
        except ValueError:
            raise InvalidIdentityToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)") from None
        if not isinstance(claims, dict):
            raise InvalidIdentityToken("The ID Token provided is not a valid JWT.")
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and exp < time.time():
            raise ServiceError("Token expired: current date/time must be before the expiration date/time.",
                               code="ExpiredTokenException", status=400)
        return claims

    def assume_role_with_web_identity(self, ctx: CallContext, RoleArn: str, RoleSessionName: str, WebIdentityToken: str,
                                      ProviderId: str | None = None, PolicyArns: list[dict[str, str]] | None = None,
                                      Policy: str | None = None, DurationSeconds: int | None = None) -> dict[str, Any]:
        claims = self._jwt_claims(WebIdentityToken)
        issuer = str(claims.get("iss", "")).removeprefix("https://").rstrip("/")
        audience = claims.get("aud", "")
        audience = audience[0] if isinstance(audience, list) and audience else audience
        m = _ROLE_ARN.match(RoleArn)
        if m is None:
            raise ValidationError(f"{RoleArn} is invalid")
        account = m.group(1)
        role = self.store.get("r", account, m.group(2))
        if role is None and self.config.auth != "off":
            raise AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        provider_arn = f"arn:aws:iam::{account}:oidc-provider/{issuer}"
        if self.config.auth == "iam" and role is not None:
            principal = PrincipalInfo(provider_arn, account, "web-identity", service=provider_arn)
            context = {f"{issuer}:aud": str(audience), f"{issuer}:sub": str(claims.get("sub", "")),
                       "sts:RoleSessionName": RoleSessionName}
            trust = parse_policy(role["AssumeRolePolicyDocument"], TRUST)
            if not resource_policy_allows(trust, AuthzRequest("sts:AssumeRoleWithWebIdentity", RoleArn, principal,
                                                               account, context)):
                raise AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        policies = self._session_policies(account, Policy, PolicyArns)
        out = self._role_session(None, account, role, RoleArn, RoleSessionName, DurationSeconds, False, policies, {})
        out.update({"SubjectFromWebIdentityToken": str(claims.get("sub", "")), "Provider": ProviderId or issuer,
                    "Audience": str(audience)})
        return out

    def assume_role_with_saml(self, ctx: CallContext, RoleArn: str, PrincipalArn: str, SAMLAssertion: str,
                              PolicyArns: list[dict[str, str]] | None = None, Policy: str | None = None,
                              DurationSeconds: int | None = None, **_: Any) -> dict[str, Any]:
        """The assertion's signature is not checked (no IdP keys locally); its subject, issuer and
        audience are read, and in iam mode the role's trust policy must allow the SAML provider."""
        try:
            xml = base64.b64decode(SAMLAssertion, validate=True).decode("utf-8")
        except ValueError:
            raise ServiceError("Invalid SAML response", code="InvalidIdentityToken", status=400) from None
        subject = re.search(r"<(?:\w+:)?NameID[^>]*>([^<]*)<", xml)
        issuer = re.search(r"<(?:\w+:)?Issuer[^>]*>([^<]*)<", xml)
        audience = re.search(r"<(?:\w+:)?Audience>([^<]*)<", xml)
        m = _ROLE_ARN.match(RoleArn)
        if m is None:
            raise ValidationError(f"{RoleArn} is invalid")
        account = m.group(1)
        role = self.store.get("r", account, m.group(2))
        if role is None and self.config.auth != "off":
            raise AccessDenied("Not authorized to perform sts:AssumeRoleWithSAML")
        if self.config.auth == "iam" and role is not None:
            principal = PrincipalInfo(PrincipalArn, account, "saml", service=PrincipalArn)
            trust = parse_policy(role["AssumeRolePolicyDocument"], TRUST)
            if not resource_policy_allows(trust, AuthzRequest("sts:AssumeRoleWithSAML", RoleArn, principal, account,
                                                               {"saml:aud": audience.group(1) if audience else ""})):
                raise AccessDenied("Not authorized to perform sts:AssumeRoleWithSAML")
        name = (subject.group(1) if subject else "saml-user").strip() or "saml-user"
        session = re.sub(r"[^\w+=,.@-]", "-", name)[:64].ljust(2, "-")
        policies = self._session_policies(account, Policy, PolicyArns)
        out = self._role_session(None, account, role, RoleArn, session, DurationSeconds, False, policies, {})
        out.update({"Subject": name, "SubjectType": "persistent", "Issuer": issuer.group(1) if issuer else "",
                    "Audience": audience.group(1) if audience else "https://signin.aws.amazon.com/saml",
                    "NameQualifier": base64.b64encode(hashlib.sha1(
                        f"{issuer.group(1) if issuer else ''}{account}/{PrincipalArn.rsplit('/', 1)[-1]}".encode()
                    ).digest()).decode()})
        return out

    def get_session_token(self, ctx: CallContext, DurationSeconds: int | None = None, SerialNumber: str | None = None,
                          TokenCode: str | None = None) -> dict[str, Any]:
        kind = _caller_kind(ctx.principal_arn)
        if kind in ("assumed-role", "federated-user") or ctx.access_key_id.startswith("ASIA"):
            raise AccessDenied("Cannot call GetSessionToken with session credentials")
        high = 3600 if kind == "root" else 129600
        seconds = _duration(DurationSeconds, min(43200, high), 900, high, "durationSeconds")
        ref = ["root"] if kind == "root" else ["user", ctx.principal_arn.rsplit("/", 1)[1]]
        mfa_at = self._mfa_time(ctx, SerialNumber, TokenCode)
        extra = {"mfa_at": mfa_at} if mfa_at is not None else None
        return {"Credentials": self._issue(ctx.account_id, ctx.principal_arn, ctx.user_id, kind, ref, seconds, [], {},
                                           extra)}

    def get_federation_token(self, ctx: CallContext, Name: str, Policy: str | None = None,
                             PolicyArns: list[dict[str, str]] | None = None, DurationSeconds: int | None = None,
                             Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        kind = _caller_kind(ctx.principal_arn)
        if kind in ("assumed-role", "federated-user"):
            raise AccessDenied("Cannot call GetFederationToken with session credentials")
        if not re.match(r"^[\w+=,.@-]{2,32}$", Name):
            raise ValidationError(f"1 validation error detected: Value '{Name}' at 'name' failed to satisfy constraint: "
                                  "Member must satisfy regular expression pattern: [\\w+=,.@-]*")
        high = 3600 if kind == "root" else 129600
        seconds = _duration(DurationSeconds, min(43200, high), 900, high, "durationSeconds")
        policies = self._session_policies(ctx.account_id, Policy, PolicyArns)
        arn = f"arn:aws:sts::{ctx.account_id}:federated-user/{Name}"
        ref = ["root"] if kind == "root" else ["user", ctx.principal_arn.rsplit("/", 1)[1]]
        credentials = self._issue(ctx.account_id, arn, f"{ctx.account_id}:{Name}", "federated-user", ref, seconds,
                                  policies, self._tags(Tags))
        return {"Credentials": credentials, "FederatedUser": {"FederatedUserId": f"{ctx.account_id}:{Name}", "Arn": arn},
                "PackedPolicySize": min(100, sum(len(p) for p in policies) * 100 // 2048) if policies else 0}

    def get_scoped_credentials(self, ctx: CallContext, Policy: str | None = None, DurationSeconds: int | None = None,
                               MinimumSessionTokenSize: int | None = None,
                               ScopedSessionDescription: str | None = None) -> dict[str, Any]:
        session = self.store.get_key("s", ctx.access_key_id) if ctx.access_key_id.startswith("ASIA") else None
        if session is None or session.get("kind") == "root":
            raise InvalidSubjectCredentials("The request was rejected because the session used to call "
                                            "GetScopedCredentials is not a valid session.")
        if Policy is None and DurationSeconds is None:
            raise ValidationError("A request must provide at least one of Policy or DurationSeconds.")
        scopes = list(session.get("scopes", []))
        if Policy is not None:
            if len(scopes) >= 3:
                raise AccessDenied("The calling session already has the maximum of 3 scope down policies.")
            scopes.extend(self._session_policies(ctx.account_id, Policy, None))
        now = time.time()
        remaining = session["expires_at"] - now
        if DurationSeconds is not None:
            _duration(DurationSeconds, DurationSeconds, 1, 129600, "durationSeconds")
            if DurationSeconds > remaining:
                raise InsufficientSessionLifetime(
                    f"The requested DurationSeconds ({DurationSeconds}) exceeds the remaining lifetime of the "
                    f"calling session ({max(0, int(remaining))} seconds).")
        duration = remaining if DurationSeconds is None else DurationSeconds
        # The copy keeps everything the session was made with (identity, policies, tags, MFA time,
        # source identity); only the key, the expiry and the scope layers are its own.
        inherited = {k: v for k, v in session.items()
                     if k not in ("secret", "token", "account", "arn", "user_id", "kind", "ref", "expires_at",
                                  "issued_at", "policies", "tags")}
        credentials = self._issue(session["account"], session["arn"], session["user_id"], session["kind"],
                                  session["ref"], duration, session.get("policies", []), session.get("tags", {}),
                                  {**inherited, "scopes": scopes}, MinimumSessionTokenSize)
        out: dict[str, Any] = {"Credentials": credentials,
                               "SessionInfo": {"ScopedSessionId": session["user_id"], "Arn": session["arn"]},
                               "ScopedPoliciesCount": len(scopes), **self._token_size(credentials)}
        if session.get("source_identity") is not None:
            out["SourceIdentity"] = session["source_identity"]
        return out

    @staticmethod
    def _token_size(credentials: dict[str, Any]) -> dict[str, int]:
        """SessionTokenSize and SessionTokenUtilization (percent of the 4,096-byte maximum)."""
        size = len(credentials["SessionToken"])
        return {"SessionTokenSize": size, "SessionTokenUtilization": min(100, size * 100 // 4096)}

    def get_access_key_info(self, ctx: CallContext, AccessKeyId: str) -> dict[str, Any]:
        record = self.principals.credential_lookup(AccessKeyId)
        if record is not None:
            return {"Account": record.account_id}
        return {"Account": AccessKeyId if AccessKeyId.isdigit() and len(AccessKeyId) == 12 else ctx.account_id}

    def decode_authorization_message(self, ctx: CallContext, EncodedMessage: str) -> dict[str, Any]:
        try:
            decoded = base64.b64decode(EncodedMessage, validate=True).decode()
            json.loads(decoded)
        except ValueError:
            raise InvalidAuthorizationMessage("The message is invalid.") from None
        return {"DecodedMessage": decoded}
