"""The gateway's auth step: identify (off), verify signatures (sigv4), authorize (iam).

:class:`AuthGuard` is what ``Gateway._dispatch`` calls once the request is parsed and before the
provider runs: :meth:`AuthGuard.admit`, a plain call, for requests without a body (most of all S3
reads), else the coroutine :meth:`AuthGuard.check`, which reads the body first and reads a refused
streamed body off the connection. What it needs from the services it receives as plain callables,
so this module imports no service (the layer order is gateway -> auth -> protocol -> services):

- ``key_lookup(access_key_id) -> KeyRecord | None`` — IAM user keys and STS session keys
  (the IAM provider's ``credential_lookup``);
- ``policies_for(KeyRecord) -> obj`` with ``.identity`` (list of Policy), ``.boundary``,
  ``.session`` (None when no session policy was passed), ``.tags`` and ``.username``
  (the IAM provider's ``policies_for``);
- ``resource_policy(service, resource_arn) -> (policy_text | None, owner_account) | None`` —
  a bucket/queue/function policy and the resource's owner; None when the resource is unknown
  (see :func:`resource_policy_from_providers`);
- ``key_used(access_key_id, service, region)`` — records last use of IAM access keys.

:meth:`AuthGuard.from_providers` builds one from the provider dict by duck typing, so the only
change in the gateway is the delimited step in ``_dispatch``. The lead may prefer to build the
guard in ``app.py`` and pass it to ``Gateway``; the constructor takes the callables directly.

Costs: in ``off`` mode a request whose key is not an ``AKIA``/``ASIA`` key issued here costs one
string test; in ``sigv4`` mode one HMAC chain (the signing key is cached per day and scope) and a
hash of the body; ``iam`` mode adds the policy evaluation.

What is computed once and reused (none of it stands in for a per-request check): the parsed
Authorization head with its signing key and the caller's Identity (:mod:`sigv4_fast`; in the sigv4 and
iam modes the gateway's identify step reads that same parse, :meth:`AuthGuard.identify_shared`),
each service's resource-policy reader, the key record and the principal's parsed
policies (the IAM provider's, dropped whenever an IAM write moves its store's generation; an
access key's last-use note is not such a write), the :class:`PrincipalInfo` and resolved identity
of a key record, resource policies parsed per document text, a policy's statements sifted per
action (:func:`~awsemu.services.iam.policy.evaluate.statements_for_action`), and verdicts that
read no condition key, kept while every input they were made from is unchanged (see
:meth:`AuthGuard._authorize` and :meth:`AuthGuard._decide`). Per request, the signature is
recomputed and compared, the key looked up, the principal's policy set and each resource's policy
read from their providers, and anything changed decided afresh; the context keys are built only
when a statement reads one (:class:`DeferredContext`).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from awsemu.auth import errors as E
from awsemu.auth.credentials import CredentialStore, KeyRecord
from awsemu.services.iam.policy import AuthzRequest, Policy, PrincipalInfo, evaluate, parse_policy
from awsemu.services.iam.policy.evaluate import verdict
from awsemu.auth.actions import authorizations
from awsemu.auth.request_shape import request_shape
from awsemu.services.iam.policy.parse import RESOURCE, MalformedPolicy
from awsemu.auth.sigv4 import AuthFailure, SignatureVerifier, Verified
from awsemu.auth.streamed_body import check_streamed_body, streaming_member
from awsemu.auth.sigv4_fast import known_identity, verify_fast
from awsemu.auth.identity import Identity, identify
from awsemu.services.base import ServiceError

ResourcePolicyLookup = Callable[[str, str], "tuple[str | None, str] | None"]


@dataclass(frozen=True)
class ResolvedIdentity:
    """Same attributes as :class:`awsemu.auth.identity.Identity`, for the caller after lookup."""

    access_key_id: str
    account_id: str
    region: str
    signing_service: str
    principal_arn: str
    user_id: str
    record: KeyRecord | None = None


# Operations AWS accepts unsigned: the caller proves itself with a token in the parameters.
UNSIGNED_OPERATIONS = frozenset({("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")})

# Methods whose operations have no body member, streamed or not (no botocore model gives one).
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})

# Seconds between two last-used notes of one access key for one service (IAM keeps the same pace).
KEY_USED_INTERVAL = 60.0

_PRINCIPAL_TYPE = {"root": "Account", "user": "User", "assumed-role": "AssumedRole", "federated-user": "FederatedUser"}


def _error_family(service: str, protocol: str) -> str:
    return "sqs-query" if service == "sqs" and protocol == "query" else service


def _resolved(identity: Any, record: KeyRecord) -> ResolvedIdentity:
    return ResolvedIdentity(record.access_key_id, record.account_id, identity.region, identity.signing_service,
                            record.principal_arn, record.user_id, record)


def _principal_info(record: KeyRecord) -> PrincipalInfo:
    role_arn = ""
    if record.kind == "assumed-role":
        # arn:aws:sts::123:assumed-role/Role/session -> arn:aws:iam::123:role/Role
        role_name = record.principal_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        role_arn = record.extra.get("role_arn") or f"arn:aws:iam::{record.account_id}:role/{role_name}"
    return PrincipalInfo(record.principal_arn, record.account_id, record.kind if record.kind != "session" else "user",
                         role_arn=role_arn)


_NO_RESOURCE_POLICY: tuple[str | None, str] = (None, "")


def _no_resource(arn: str) -> None:
    return None
_NEVER = float("-inf")


class _Caller:
    """What the auth step keeps for one key record (an access key as IAM or STS has it now): its
    resolved identity per (region, signing service), its PrincipalInfo, when its use was last
    noted per service, and the verdicts reused for its requests per (region, request shape) (see
    :meth:`AuthGuard._authorize`). All of it is a function of the record, or checked against the
    current policies before use, and goes with the record, which IAM replaces on every IAM write."""

    __slots__ = ("record", "identities", "last", "principal", "noted", "verdicts")

    def __init__(self, record: KeyRecord) -> None:
        self.record = record
        self.identities: dict[tuple[str, str], ResolvedIdentity] = {}
        # (the gateway's identity, what it resolved to) last: a key's requests mostly share one
        # region and service, and the gateway's Identity object per Authorization head.
        self.last: tuple[Any, ResolvedIdentity | None] = (None, None)
        self.principal: PrincipalInfo | None = None
        self.noted: dict[str, float] = {}
        self.verdicts: dict[tuple[str, Any], tuple[Any, Any, tuple[Any, ...]]] = {}


@functools.lru_cache(maxsize=1024)
def _resource_policy(text: str | None) -> Policy | None:
    """A bucket/queue/function policy, parsed once per document text (parsed policies are
    immutable; a changed policy is a different text, so there is nothing to invalidate)."""
    if not text:
        return None
    try:
        return parse_policy(text, RESOURCE, source_id="resource", source_type="resource")
    except MalformedPolicy:
        return None


class DeferredContext(Mapping[str, Any]):
    """The request context keys (aws:SourceIp, aws:CurrentTime, aws:PrincipalTag/..., the
    operation's own keys), computed the first time a policy reads one. Most statements decide on
    action and resource alone: then no clock is formatted and no dictionary built."""

    __slots__ = ("_args", "_built")

    def __init__(self, record: KeyRecord | None, source_ip: str, secure: bool, region: str,
                 extra: Mapping[str, Any], found: Any) -> None:
        self._args = (record, source_ip, secure, region, extra, found)
        self._built: dict[str, Any] | None = None

    def _ctx(self) -> dict[str, Any]:
        if self._built is None:
            self._built = request_context(*self._args)
        return self._built

    @property
    def read(self) -> bool:
        """Whether any policy read a context key (a condition or a policy variable)."""
        return self._built is not None

    def __getitem__(self, key: str) -> Any:
        return self._ctx()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ctx())

    def __len__(self) -> int:
        return len(self._ctx())


def request_context(record: KeyRecord | None, source_ip: str, secure: bool, region: str,
                    extra: Mapping[str, Any], found: Any) -> dict[str, Any]:
    """The global condition keys AWS supplies with every request, plus the operation's keys."""
    now = time.time()
    ctx: dict[str, Any] = {
        "aws:SourceIp": source_ip, "aws:SecureTransport": "true" if secure else "false",
        "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "aws:EpochTime": str(int(now)),
        "aws:RequestedRegion": region,
    }
    if record is not None:
        ctx["aws:PrincipalType"] = _PRINCIPAL_TYPE.get(record.kind, "User")
        ctx["aws:userid"] = record.user_id
        if record.kind == "user":
            ctx["aws:username"] = record.principal_arn.rsplit("/", 1)[1]
        if record.session_token:
            issued = record.extra.get("issued_at")
            if issued:
                ctx["aws:TokenIssueTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued))
            # Temporary credentials say whether MFA made them (STS keeps the time it was passed);
            # the age key exists only when it did.
            mfa_at = record.extra.get("mfa_authenticated_at")
            ctx["aws:MultiFactorAuthPresent"] = "true" if mfa_at else "false"
            if mfa_at:
                ctx["aws:MultiFactorAuthAge"] = str(max(0, int(now - mfa_at)))
        if found is not None:
            for key, value in getattr(found, "tags", {}).items():
                ctx[f"aws:PrincipalTag/{key}"] = value
    ctx.update(extra)
    return ctx


class AuthGuard:
    def __init__(self, mode: str, store: CredentialStore, policies_for: Callable[[KeyRecord], Any] | None = None,
                 resource_policy: ResourcePolicyLookup | None = None,
                 key_used: Callable[[str, str, str], None] | None = None) -> None:
        self.mode = mode
        self.store = store
        self.verifier = SignatureVerifier(store)
        self.policies_for = policies_for
        self.resource_policy = resource_policy
        self.key_used = key_used
        # The gateway's identify step: in the verifying modes the Authorization head is parsed
        # once, by the verifier, for both (see identify_shared); off mode parses it alone.
        self.identify: Callable[[str | None, str], Identity] = identify if mode == "off" else self.identify_shared
        # service -> its resource-policy reader (arn -> (document, owner) | None); see _reader.
        self._readers: dict[str, Callable[[str], "tuple[str | None, str] | None"]] = {}
        # key id -> what is kept for its current key record (see _Caller).
        self._callers: dict[str, _Caller] = {}
        # (key id, action, resource) -> the inputs and result of a decision that read no context
        # key; see _decide.
        self._decisions: dict[tuple[str, str, str], tuple[Any, PrincipalInfo, Any, str, bool, bool]] = {}

    @classmethod
    def from_providers(cls, providers: Mapping[str, Any], mode: str = "off") -> "AuthGuard":
        iam = providers.get("iam")
        lookup = getattr(iam, "credential_lookup", None)
        return cls(mode, CredentialStore.from_env(lookup=lookup), getattr(iam, "policies_for", None),
                   resource_policy_from_providers(providers), getattr(iam, "note_key_used", None))

    # -- the step ----------------------------------------------------------------------------
    @staticmethod
    def identify_shared(authorization: str | None, query_string: str) -> Identity:
        """``identify()``, read from the verifier's parse of the Authorization head when it has
        one: the same Identity, built once per head rather than per request."""
        if authorization:
            known = known_identity(authorization)
            if known is not None:
                return known
        return identify(authorization, query_string)

    def admit(self, service: str, protocol: str, operation: str, request: Any, params: dict[str, Any],
              identity: Any, source_ip: str, secure: bool) -> Any:
        """The auth step without a coroutine, for requests with no body (GET/HEAD/DELETE, most
        of all S3 reads): returns the identity the provider should see, or raises the service's
        ServiceError, exactly as :meth:`check` would. Returns None when the step has a body to
        read, or a streamed body to check or to drain on refusal: then await :meth:`check`."""
        if self.mode == "off":
            return self._identified(identity)
        fields = request.headers.by_name()
        if "content-length" in fields or "transfer-encoding" in fields:
            return None
        if request.method not in _BODYLESS_METHODS and streaming_member(params) is not None:
            return None
        return self._admit(service, protocol, operation, request, fields, params, identity, source_ip, secure, b"",
                           None)

    async def check(self, *, service: str, protocol: str, operation: str, request: Any, params: dict[str, Any],
                    identity: Any, source_ip: str, secure: bool) -> Any:
        """Returns the identity the provider should see; raises the service's ServiceError."""
        if self.mode == "off":
            return self._identified(identity)
        streaming = streaming_member(params)
        try:
            if streaming is not None:
                body = None
            elif "content-length" in request.headers or "transfer-encoding" in request.headers:
                body = await request.body()
            else:
                body = b""  # GET/HEAD/DELETE without a body: no receive() round trip
            return self._admit(service, protocol, operation, request, request.headers.by_name(), params, identity,
                               source_ip, secure, body, streaming)
        except ServiceError:
            # A refused upload still has its body on the connection: read it off, or the next
            # request on this keep-alive connection would be parsed from the leftover bytes.
            if streaming is not None:
                try:
                    async for _ in params[streaming]:
                        pass
                except Exception:  # noqa: BLE001 - the request is refused anyway
                    pass
            raise

    def _identified(self, identity: Any) -> Any:
        """Off mode: a key issued here (AKIA/ASIA) is resolved to its principal, nothing is checked."""
        key = identity.access_key_id
        if key[:4] in ("AKIA", "ASIA") and self.store.lookup is not None:
            record = self.store.lookup(key)
            if record is not None:
                return _resolved(identity, record)
        return identity

    def _admit(self, service: str, protocol: str, operation: str, request: Any, fields: Mapping[str, str],
               params: dict[str, Any], identity: Any, source_ip: str, secure: bool, body: bytes | None,
               streaming: str | None) -> Any:
        """Verify (sigv4, iam) and authorize (iam); ``body`` is None when ``streaming`` names the
        streamed body member, whose hash or chunk signatures are then checked as it streams.
        ``fields`` is ``request.headers.by_name()``."""
        query_string = request.query_string
        if "authorization" not in fields and "Signature=" not in query_string:  # covers X-Amz-Signature=
            if (service, operation) in UNSIGNED_OPERATIONS:
                return identity
            if service == "s3" and self.mode == "iam":
                return self._authorize_anonymous(service, _error_family(service, protocol), operation, params,
                                                 identity, source_ip, secure)
        now = time.time()
        verifier = self.verifier
        try:
            # The common request in one pass; anything else (and every failure) the full way.
            verified = verify_fast(verifier, request.method, request.raw_path, query_string, fields, body,
                                   service == "s3", now) or verifier.verify_full(
                request.method, request.raw_path, query_string, request.headers, body, service, request.host_bucket,
                now)
        except AuthFailure as failure:
            raise E.auth_error(_error_family(service, protocol), failure.kind, failure.detail, failure.fields) from None
        if streaming is not None:
            check_streamed_body(params, streaming, verified, _error_family(service, protocol))
        record = verified.record
        caller = self._callers.get(record.access_key_id)
        if caller is None or caller.record is not record:
            caller = self._caller(record)
        if record.kind == "user" and self.key_used is not None:
            # IAM records a key's last use at most once a minute per service (its own rule, which
            # it applies too); asking it again sooner would be a call per request for nothing. A
            # clock set back notes at once rather than after the gap.
            if abs(now - caller.noted.get(service, _NEVER)) >= KEY_USED_INTERVAL:
                caller.noted[service] = now
                self.key_used(record.access_key_id, service, identity.region)
        # Immutable, and the same for every request of a key record in a region: built once.
        last_identity, resolved = caller.last
        if last_identity is not identity:
            resolved = caller.identities.get((identity.region, identity.signing_service))
            if resolved is None:
                resolved = caller.identities[(identity.region, identity.signing_service)] = _resolved(identity, record)
            caller.last = (identity, resolved)
        if self.mode == "iam":
            self._authorize(service, operation, params, resolved, caller, source_ip, secure)
        return resolved

    def _caller(self, record: KeyRecord) -> "_Caller":
        if len(self._callers) > 10000:
            self._callers.clear()
        caller = self._callers[record.access_key_id] = _Caller(record)
        return caller

    def admit_verified(self, verified: Verified, service: str, operation: str, params: dict[str, Any],
                       region: str, source_ip: str, secure: bool) -> ResolvedIdentity:
        """The step's rest for a signature verified outside a request's headers (an S3 form's,
        :mod:`awsemu.auth.post_form`): the key's use noted, the operation authorized in iam mode."""
        record = verified.record
        caller = self._callers.get(record.access_key_id)
        if caller is None or caller.record is not record:
            caller = self._caller(record)
        now = time.time()
        if record.kind == "user" and self.key_used is not None \
                and abs(now - caller.noted.get(service, _NEVER)) >= KEY_USED_INTERVAL:
            caller.noted[service] = now
            self.key_used(record.access_key_id, service, region)
        resolved = ResolvedIdentity(record.access_key_id, record.account_id, region, verified.signing_service,
                                    record.principal_arn, record.user_id, record)
        if self.mode == "iam":
            self._authorize(service, operation, params, resolved, caller, source_ip, secure)
        return resolved

    def admit_unsigned(self, service: str, operation: str, params: dict[str, Any], identity: Any, source_ip: str,
                       secure: bool) -> Any:
        """An unsigned S3 request, as :meth:`_admit` treats one: in iam mode allowed where the
        bucket policy allows anyone; in sigv4 mode refused (AccessDenied)."""
        if self.mode != "iam":
            raise E.auth_error(service, E.MISSING_AUTH)
        return self._authorize_anonymous(service, service, operation, params, identity, source_ip, secure)

    # -- iam mode ----------------------------------------------------------------------------
    def _context(self, record: KeyRecord | None, source_ip: str, secure: bool, region: str,
                 extra: Mapping[str, Any], found: Any) -> "DeferredContext":
        return DeferredContext(record, source_ip, secure, region, extra, found)

    def _resource_side(self, service: str, resource: str) -> tuple[str | None, str]:
        """(the resource's policy document or None, its owner account or ""), as the resource's
        provider has them now: read on every request."""
        if self.resource_policy is None or resource == "*":
            return _NO_RESOURCE_POLICY
        reader = self._readers.get(service) or self._reader(service)
        return reader(resource) or _NO_RESOURCE_POLICY

    def _reader(self, service: str) -> Callable[[str], "tuple[str | None, str] | None"]:
        """The reader of one service's resource policies, looked up once per service (the
        providers live as long as the app, which builds its guard after them)."""
        lookup = self.resource_policy
        assert lookup is not None
        reader_for = getattr(lookup, "reader", None)
        reader = reader_for(service) if reader_for is not None else functools.partial(lookup, service)
        if reader is None:
            return _no_resource  # no provider (yet): asked again next time
        self._readers[service] = reader
        return reader

    def _authorize(self, service: str, operation: str, params: dict[str, Any], identity: ResolvedIdentity,
                   caller: "_Caller", source_ip: str, secure: bool) -> None:
        """Raise AccessDenied unless every (action, resource) the operation needs is allowed.

        Every request reads the principal's current policy set and each resource's current policy.
        The verdicts themselves are reused when nothing they were made from has changed: for
        requests of one shape (:mod:`awsemu.auth.request_shape`: the parameters that decide the
        pairs) the pairs and their verdicts are kept per key record, region and shape, and
        replayed while the policy set is the very object the verdicts were made from, each
        resource's policy document and owner are the same, and no verdict read a condition key.
        Anything else goes through :meth:`_decide`.
        """
        record = caller.record
        found = self.policies_for(record) if record.kind != "root" and self.policies_for is not None else None
        shape = request_shape(service, operation, params)
        if shape is not None:
            memo = caller.verdicts.get((identity.region, shape))
            if memo is not None and memo[0] is found:
                reader = memo[1]
                for auth, arn, document, owner, allowed, explicit in memo[2]:
                    # _resource_side() written out (a call per pair saved); the same document
                    # text parses to the same policy, so comparing texts suffices.
                    document_now, owner_now = (reader(arn) or _NO_RESOURCE_POLICY) if arn is not None \
                        else _NO_RESOURCE_POLICY
                    if document_now != document or (owner_now or auth.resource_account) != owner:
                        break  # changed since: decide afresh
                    if not allowed:
                        raise E.access_denied(service, record.principal_arn, auth.action, auth.resource, explicit)
                else:
                    return
        principal = caller.principal
        if principal is None:
            principal = caller.principal = _principal_info(record)
        verdicts: list[tuple[Any, str | None, str, bool, bool]] = []
        reusable = True
        denied: ServiceError | None = None
        for auth in authorizations(service, operation, params, identity.account_id, identity.region):
            document, owner = self._resource_side(service, auth.resource)
            owner = owner or auth.resource_account
            allowed, explicit, read = self._decide(record, principal, found, _resource_policy(document), owner,
                                                   auth, source_ip, secure, identity.region)
            reusable = reusable and not read
            # The resource's ARN when its provider is asked for its policy (see _resource_side).
            arn = auth.resource if self.resource_policy is not None and auth.resource != "*" else None
            verdicts.append((auth, arn, document, owner, allowed, explicit))
            if not allowed:
                denied = E.access_denied(service, record.principal_arn, auth.action, auth.resource, explicit)
                break
        if shape is not None and reusable:
            if len(caller.verdicts) > 10000:
                caller.verdicts.clear()
            reader = (self._readers.get(service) or self._reader(service)) if self.resource_policy is not None \
                else None
            if reader is not _no_resource:  # a provider missing now may come: nothing kept then
                caller.verdicts[(identity.region, shape)] = (found, reader, tuple(verdicts))
        if denied is not None:
            raise denied

    def _decide(self, record: KeyRecord, principal: PrincipalInfo, found: Any, resource_policy: Any, owner: str,
                auth: Any, source_ip: str, secure: bool, region: str) -> tuple[bool, bool, bool]:
        """(allowed, explicitly denied, whether the request context was read) for one (action,
        resource), every policy evaluated, unless the very same inputs were decided before
        without reading the request context.

        A decision that read no context key (no condition, no policy variable was reached) is a
        function of the action, the resource, the principal, the resource's owner and the policy
        objects alone. Those objects are immutable and replaced on every change (the principal's
        policy set on any IAM write, a resource policy per document text, the principal per key
        record), so an identical-object match is the same decision; anything else evaluates.
        """
        key = (record.access_key_id, auth.action, auth.resource)
        hit = self._decisions.get(key)
        if (hit is not None and hit[0] is found and hit[1] is principal and hit[2] is resource_policy
                and hit[3] == owner):
            return hit[4], hit[5], False
        context = self._context(record, source_ip, secure, region, auth.context, found)
        allowed, explicit = verdict(
            AuthzRequest(auth.action, auth.resource, principal, owner, context),
            identity_policies=found.identity if found is not None else (),
            resource_policy=resource_policy,
            permissions_boundary=found.boundary if found is not None else None,
            session_policies=found.session if found is not None else None,
            scope_policies=found.scopes if found is not None else (),
        )
        if context.read:
            return allowed, explicit, True
        if len(self._decisions) > 10000:
            self._decisions.clear()
        self._decisions[key] = (found, principal, resource_policy, owner, allowed, explicit)
        return allowed, explicit, False

    def _authorize_anonymous(self, service: str, family: str, operation: str, params: dict[str, Any],
                             identity: Any, source_ip: str, secure: bool) -> Any:
        principal = PrincipalInfo("*", "", "anonymous")
        for auth in authorizations(service, operation, params, identity.account_id, identity.region):
            document, owner = self._resource_side(service, auth.resource)
            context = self._context(None, source_ip, secure, identity.region, auth.context, None)
            decision = evaluate(AuthzRequest(auth.action, auth.resource, principal, owner or identity.account_id, context),
                                resource_policy=_resource_policy(document))
            if not decision.allowed:
                raise E.auth_error(family, E.MISSING_AUTH)
        return identity


# -- resource policies from the providers ---------------------------------------------------------

def resource_policy_from_providers(providers: Mapping[str, Any]) -> "ProviderResourcePolicies":
    """(service, arn) -> (policy text | None, owner account) | None, from whatever the providers offer.

    A provider may expose ``resource_policy(arn)`` returning that pair; until S3 and SQS do, the
    adapters below read their stores (S3: bucket record's owner and ``policy``; SQS: the queue's
    ``Policy`` attribute, owner from the ARN).
    """
    return ProviderResourcePolicies(providers)


class ProviderResourcePolicies:
    """The resource-policy lookup over the providers: called as ``(service, arn)``, and gives the
    guard each service's reader (``reader(service)``) so that a request's check is one call."""

    def __init__(self, providers: Mapping[str, Any]) -> None:
        self.providers = providers
        # service -> (its provider, the reader of its resource policies), chosen once per provider.
        self._readers: dict[str, tuple[Any, Callable[[str], "tuple[str | None, str] | None"]]] = {}

    def reader(self, service: str) -> Callable[[str], "tuple[str | None, str] | None"] | None:
        """arn -> (policy text | None, owner) | None for one service; None while it has no provider."""
        # A role's trust policy is the resource policy of sts:AssumeRole*; IAM holds it.
        provider = self.providers.get("iam" if service == "sts" else service)
        if provider is None:
            return None
        known = self._readers.get(service)
        if known is None or known[0] is not provider:
            known = self._readers[service] = (provider, _policy_reader(service, provider))
        return known[1]

    def __call__(self, service: str, arn: str) -> tuple[str | None, str] | None:
        reader = self.reader(service)
        return reader(arn) if reader is not None else None


def _policy_reader(service: str, provider: Any) -> Callable[[str], "tuple[str | None, str] | None"]:
    """The provider's ``resource_policy`` hook, or an adapter reading its store."""
    hook = getattr(provider, "resource_policy", None)
    if hook is not None:
        return hook  # type: ignore[no-any-return]

    def s3_bucket(arn: str) -> tuple[str | None, str] | None:
        if not arn.startswith("arn:aws:s3:::"):
            return None
        try:
            record = provider.store.bucket(arn[13:].partition("/")[0])  # the bucket, after "arn:aws:s3:::"
        except (AttributeError, ServiceError):
            return None
        return (record.config.get("policy"), record.owner) if record is not None else None

    def sqs_queue(arn: str) -> tuple[str | None, str] | None:
        try:
            state = provider._state_by_arn(arn)
        except (AttributeError, ServiceError):
            return None
        if state is None:
            return None
        return state.record.attributes.get("Policy"), arn.split(":")[4]

    if service == "s3":
        return s3_bucket
    if service == "sqs":
        return sqs_queue
    return lambda arn: None
