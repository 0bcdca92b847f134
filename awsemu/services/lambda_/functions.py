"""The control plane's records on lsm: functions, their versions, aliases; names, ARNs and checks.

Key layout (keycodec tuples)::

    ("lambda", "fn", acct, region, name)               -> FunctionMeta (tags, concurrency, counters)
    ("lambda", "v",  acct, region, name, n)            -> VersionConfig; n = 0 is $LATEST, n >= 1 a
                                                          published version, so a scan lists
                                                          $LATEST then 1, 2, ... as ListVersions does
    ("lambda", "a",  acct, region, name, alias)        -> AliasRecord

Records are dataclasses stored as JSON. A version's code is a blob reference held by the owner
``lambda:<acct>:<region>:<name>:<n>`` (code.py). The provider keeps no copy of these records but a
small read cache for the invoke path, invalidated on every write of the function.

Names: a FunctionName parameter may be a name, a partial ARN (``123456789012:function:name``) or an
ARN, any of them with a ``:qualifier``; :func:`parse_function_name` splits it as Lambda does.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Iterator

from awsemu.services.lambda_.errors import InvalidParameterValueException, function_not_found, validation
from awsemu.storage.lsm.keycodec import encode, prefix_end

LATEST = "$LATEST"
PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
CUSTOM_RUNTIMES = ("provided.al2023", "provided.al2", "provided")
NODE_RUNTIMES = ("nodejs18.x", "nodejs20.x", "nodejs22.x")
OTHER_RUNTIMES = ("java11", "java17", "java21", "java8.al2", "dotnet8", "ruby3.2", "ruby3.3", "ruby3.4")
RUNTIMES = PYTHON_RUNTIMES + CUSTOM_RUNTIMES + NODE_RUNTIMES + OTHER_RUNTIMES
ROLE_PATTERN = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
ROLE_CONSTRAINT = (
    r"Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
)
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
ARN_PATTERN = re.compile(
    r"^(?:arn:(?:aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)
ALIAS_PATTERN = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$")


def now_lambda() -> str:
    """Lambda's LastModified format: ``2026-11-27T12:08:00.000+0000``."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def new_revision() -> str:
    return str(uuid.uuid4())


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


@dataclass
class FunctionName:
    """A parsed FunctionName parameter."""

    name: str
    qualifier: str | None
    account: str | None
    region: str | None


def parse_function_name(raw: str, member: str = "functionName") -> FunctionName:
    match = ARN_PATTERN.match(raw or "")
    if match is None or len(raw) > 170:
        raise validation(
            raw, member,
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"
            r"([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    name = match.group("name")
    if len(name) > 64:
        raise validation(name, member, "Member must have length less than or equal to 64")
    return FunctionName(name, match.group("qualifier"), match.group("account"), match.group("region"))


# -- records -------------------------------------------------------------------------------------

def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The stored fields ``cls`` still has (a record written by another awsemu version may carry more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass
class VersionConfig:
    """One version of a function ($LATEST or a published number): everything GetFunctionConfiguration says."""

    name: str
    account: str
    region: str
    version: str
    runtime: str
    role: str
    handler: str
    code_sha256: str
    code_size: int
    blob_id: str
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])
    ephemeral_storage: int = 512
    tracing_mode: str = "PassThrough"
    last_modified: str = ""
    revision_id: str = ""
    dead_letter_target: str | None = None
    # [{"Arn", "CodeSize", "CodeSha256", "BlobId"}] in order (layers.py)
    layers: list[dict[str, Any]] = field(default_factory=list)
    snap_start: str = "None"  # SnapStart ApplyOn: "PublishedVersions" or "None"
    code_dir: str = ""  # hot reload: code served from this local directory, no package (hot_reload.py)

    @property
    def number(self) -> int:
        return 0 if self.version == LATEST else int(self.version)

    @property
    def unqualified_arn(self) -> str:
        return function_arn(self.region, self.account, self.name)

    @property
    def arn(self) -> str:
        """FunctionArn as Lambda shows it: unqualified for $LATEST, ``:N`` for a version."""
        if self.version == LATEST:
            return self.unqualified_arn
        return function_arn(self.region, self.account, self.name, self.version)

    @property
    def is_python(self) -> bool:
        return self.runtime.startswith("python")

    @property
    def snap_start_on(self) -> bool:
        """SnapStart applies: a published version of a function with ApplyOn PublishedVersions."""
        return self.snap_start == "PublishedVersions" and self.version != LATEST

    def configuration(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified,
            "CodeSha256": self.code_sha256,
            "Version": self.version,
            "TracingConfig": {"Mode": self.tracing_mode},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "SnapStart": {"ApplyOn": self.snap_start, "OptimizationStatus": "On" if self.snap_start_on else "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.name}"},
        }
        if self.environment:
            out["Environment"] = {"Variables": dict(self.environment)}
        if self.dead_letter_target:
            out["DeadLetterConfig"] = {"TargetArn": self.dead_letter_target}
        if self.layers:
            out["Layers"] = [{"Arn": layer["Arn"], "CodeSize": layer["CodeSize"]} for layer in self.layers]
        return out

    def blob_refs(self) -> set[tuple[str, str]]:
        """(blob id, owner) of everything this version holds: its package and its layers' packages."""
        base = code_owner(self.account, self.region, self.name, self.number)
        refs = {(self.blob_id, base)} if self.blob_id else set()
        refs.update((layer["BlobId"], f"{base}:layer:{i}") for i, layer in enumerate(self.layers))
        return refs

    def same_publishable_state(self, other: "VersionConfig") -> bool:
        """Whether publishing ``self`` would repeat ``other`` (Lambda then returns ``other``)."""
        mine = {k: v for k, v in asdict(self).items() if k not in ("version", "last_modified", "revision_id")}
        theirs = {k: v for k, v in asdict(other).items() if k not in ("version", "last_modified", "revision_id")}
        return mine == theirs

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "VersionConfig":
        return cls(**_known(cls, json.loads(raw)))


@dataclass
class FunctionMeta:
    """What belongs to the function rather than to one version."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    last_version: int = 0
    # per qualifier ("" = unqualified): resource policy (policy.py), async settings (event_invoke_config.py)
    policy: dict[str, Any] = field(default_factory=dict)
    event_invoke: dict[str, Any] = field(default_factory=dict)
    urls: dict[str, Any] = field(default_factory=dict)  # function URL configs (function_url_ops.py)
    # control-plane settings by topic: "provisioned" (per qualifier, provisioned_ops.py), "recursion",
    # "runtime" (per version), "scaling" (per version) (function_settings_ops.py), "code_signing"
    # (code_signing_ops.py); kept here so that deleting the function deletes them with it
    settings: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "FunctionMeta":
        return cls(**_known(cls, json.loads(raw)))


@dataclass
class AliasRecord:
    name: str
    function_version: str
    description: str = ""
    additional_weights: dict[str, float] = field(default_factory=dict)
    revision_id: str = ""

    def output(self, unqualified_arn: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AliasArn": f"{unqualified_arn}:{self.name}",
            "Name": self.name,
            "FunctionVersion": self.function_version,
            "Description": self.description,
            "RevisionId": self.revision_id,
        }
        if self.additional_weights:
            out["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.additional_weights)}
        return out

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "AliasRecord":
        return cls(**_known(cls, json.loads(raw)))


# -- keys ------------------------------------------------------------------------------------------

def meta_key(account: str, region: str, name: str) -> bytes:
    return encode("lambda", "fn", account, region, name)


def version_key(account: str, region: str, name: str, number: int) -> bytes:
    return encode("lambda", "v", account, region, name, number)


def alias_key(account: str, region: str, name: str, alias: str) -> bytes:
    return encode("lambda", "a", account, region, name, alias)


def _range(*parts: str) -> tuple[bytes, bytes]:
    start = encode(*parts)
    end = prefix_end(start)
    assert end is not None
    return start, end


def code_owner(account: str, region: str, name: str, number: int) -> str:
    """The blob-reference owner of a version's package (its layers' are ``<owner>:layer:<i>``)."""
    return f"lambda:{account}:{region}:{name}:{number}"


# -- the store -------------------------------------------------------------------------------------

class FunctionStore:
    """Reads and writes of the records above (blocking lsm calls: run them off the event loop)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def meta(self, account: str, region: str, name: str) -> FunctionMeta | None:
        raw = self.db.get(meta_key(account, region, name))
        return FunctionMeta.from_bytes(raw) if raw is not None else None

    def require_meta(self, account: str, region: str, name: str) -> FunctionMeta:
        meta = self.meta(account, region, name)
        if meta is None:
            raise function_not_found(function_arn(region, account, name))
        return meta

    def version(self, account: str, region: str, name: str, number: int) -> VersionConfig | None:
        raw = self.db.get(version_key(account, region, name, number))
        return VersionConfig.from_bytes(raw) if raw is not None else None

    def versions(self, account: str, region: str, name: str, after: int = -1) -> Iterator[VersionConfig]:
        start, end = _range("lambda", "v", account, region, name)
        if after >= 0:
            start = version_key(account, region, name, after) + b"\x00"
        for _, raw in self.db.scan(start, end):
            yield VersionConfig.from_bytes(raw)

    def function_names(self, account: str, region: str, after: str | None = None) -> Iterator[str]:
        start, end = _range("lambda", "fn", account, region)
        if after is not None:
            start = meta_key(account, region, after) + b"\x00"
        for _, raw in self.db.scan(start, end):
            yield FunctionMeta.from_bytes(raw).name

    def all_metas(self, account: str, region: str) -> Iterator[FunctionMeta]:
        start, end = _range("lambda", "fn", account, region)
        for _, raw in self.db.scan(start, end):
            yield FunctionMeta.from_bytes(raw)

    def alias(self, account: str, region: str, name: str, alias: str) -> AliasRecord | None:
        raw = self.db.get(alias_key(account, region, name, alias))
        return AliasRecord.from_bytes(raw) if raw is not None else None

    def aliases(self, account: str, region: str, name: str) -> Iterator[AliasRecord]:
        start, end = _range("lambda", "a", account, region, name)
        for _, raw in self.db.scan(start, end):
            yield AliasRecord.from_bytes(raw)

    def resolve(self, account: str, region: str, name: str, qualifier: str | None) -> VersionConfig:
        """The version a (name, qualifier) means: $LATEST, a number, or an alias's version."""
        if qualifier in (None, LATEST):
            config = self.version(account, region, name, 0)
            if config is None:
                raise function_not_found(function_arn(region, account, name))
            return config
        assert qualifier is not None
        if qualifier.isdigit():
            config = self.version(account, region, name, int(qualifier))
            if config is None:
                raise function_not_found(function_arn(region, account, name, qualifier))
            return config
        alias = self.alias(account, region, name, qualifier)
        if alias is None:
            if self.meta(account, region, name) is None:
                raise function_not_found(function_arn(region, account, name))
            raise function_not_found(function_arn(region, account, name, qualifier))
        return self.resolve(account, region, name, alias.function_version)

    def has_functions(self) -> bool:
        start, end = _range("lambda", "fn")
        return any(True for _ in self.db.scan(start, end, limit=1))

    def everything(self) -> list[tuple[bytes, bytes]]:
        """Every record of the service (for reset)."""
        start, end = _range("lambda")
        return list(self.db.scan(start, end))


def check_qualifier_consistent(parsed: FunctionName, qualifier: str | None) -> str | None:
    """A qualifier may come in the ARN or the Qualifier parameter, but not two different ones."""
    if parsed.qualifier and qualifier and parsed.qualifier != qualifier:
        raise InvalidParameterValueException("The derived qualifier from the function name does not match the specified qualifier.")
    return qualifier or parsed.qualifier


def check_alias_name(name: str) -> None:
    if not ALIAS_PATTERN.match(name or ""):
        raise validation(name, "name", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")

