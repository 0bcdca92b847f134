"""Layers: versioned zip packages shared by functions, and the merged directory an environment sees.

Records on lsm::

    ("lambda", "l",  acct, region, layer, n)   -> LayerVersion (n = 1, 2, ...)
    ("lambda", "lc", acct, region, layer)      -> last version number ever published (AWS never
                                                  reuses a number, even after DeleteLayerVersion)

A layer version's zip is a blob referenced by ``lambda-layer:<acct>:<region>:<layer>:<n>``.

In AWS a function's layers are extracted, in order, into ``/opt``. awsemu merges the layers of a
function, in order (a later layer overwrites a file of an earlier one, as in AWS), into
``<data>/lambda/opt/<digest of the layer list>/``. In the bubblewrap sandbox (sandbox.py) that
directory is ``/opt``, read-only, and the runtime paths are AWS's: ``/opt/python`` and
``/opt/python/lib/pythonX.Y/site-packages`` on ``sys.path``, ``/opt/bin`` on ``PATH``, ``/opt/lib`` on
``LD_LIBRARY_PATH``, ``/opt/nodejs/node_modules`` on ``NODE_PATH``. As plain processes the same paths
point into the merged directory instead, which ``AWSEMU_LAMBDA_OPT`` names; code that opens a literal
``/opt/...`` path finds its layer only in the sandbox.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from awsemu.services.lambda_.code import unpack
from awsemu.services.lambda_.errors import InvalidParameterValueException, ResourceNotFoundException, validation
from awsemu.storage.lsm.keycodec import encode, prefix_end

LAYER_NAME = re.compile(r"^[a-zA-Z0-9-_]{1,140}$")
LAYER_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)$"
)
MAX_LAYERS = 5


@dataclass
class LayerVersion:
    name: str
    account: str
    region: str
    version: int
    code_sha256: str
    code_size: int
    blob_id: str
    created_date: str
    description: str = ""
    compatible_runtimes: list[str] = field(default_factory=list)
    compatible_architectures: list[str] = field(default_factory=list)
    license_info: str | None = None

    @property
    def layer_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:layer:{self.name}"

    @property
    def arn(self) -> str:
        return f"{self.layer_arn}:{self.version}"

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "LayerVersionArn": self.arn,
            "Version": self.version,
            "Description": self.description,
            "CreatedDate": self.created_date,
        }
        if self.compatible_runtimes:
            out["CompatibleRuntimes"] = list(self.compatible_runtimes)
        if self.compatible_architectures:
            out["CompatibleArchitectures"] = list(self.compatible_architectures)
        if self.license_info is not None:
            out["LicenseInfo"] = self.license_info
        return out

    def output(self, location: str) -> dict[str, Any]:
        return {
            **self.summary(),
            "LayerArn": self.layer_arn,
            "Content": {"Location": location, "CodeSha256": self.code_sha256, "CodeSize": self.code_size},
        }

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "LayerVersion":
        return cls(**json.loads(raw))


def check_name(name: str) -> None:
    if not LAYER_NAME.match(name or ""):
        raise validation(name, "layerName", "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+")


def version_key(account: str, region: str, name: str, version: int) -> bytes:
    return encode("lambda", "l", account, region, name, version)


def counter_key(account: str, region: str, name: str) -> bytes:
    return encode("lambda", "lc", account, region, name)


def owner(layer: LayerVersion) -> str:
    return f"lambda-layer:{layer.account}:{layer.region}:{layer.name}:{layer.version}"


def _range(*parts: str) -> tuple[bytes, bytes]:
    start = encode(*parts)
    end = prefix_end(start)
    assert end is not None
    return start, end


class LayerStore:
    """Layer records (blocking lsm calls)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def get(self, account: str, region: str, name: str, version: int) -> LayerVersion | None:
        raw = self.db.get(version_key(account, region, name, version))
        return LayerVersion.from_bytes(raw) if raw is not None else None

    def require(self, account: str, region: str, name: str, version: int) -> LayerVersion:
        layer = self.get(account, region, name, version)
        if layer is None:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return layer

    def next_version(self, account: str, region: str, name: str) -> int:
        raw = self.db.get(counter_key(account, region, name))
        return (int(raw) if raw is not None else 0) + 1

    def versions(self, account: str, region: str, name: str) -> Iterator[LayerVersion]:
        start, end = _range("lambda", "l", account, region, name)
        for _, raw in self.db.scan(start, end):
            yield LayerVersion.from_bytes(raw)

    def all_versions(self, account: str, region: str) -> Iterator[LayerVersion]:
        start, end = _range("lambda", "l", account, region)
        for _, raw in self.db.scan(start, end):
            yield LayerVersion.from_bytes(raw)

    def by_arn(self, arn: str, member: str = "arn") -> LayerVersion:
        match = LAYER_ARN.match(arn or "")
        if match is None:
            raise validation(arn, member, "Member must satisfy regular expression pattern: "
                             r"arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+")
        return self.require(match["account"], match["region"], match["name"], int(match["version"]))

    def for_function(self, arns: list[str]) -> list[LayerVersion]:
        """Resolve a function's Layers parameter (order kept), as CreateFunction checks it."""
        if len(arns) > MAX_LAYERS:
            raise InvalidParameterValueException(f"Cannot reference more than {MAX_LAYERS} layers.")
        found = []
        for arn in arns:
            match = LAYER_ARN.match(arn or "")
            layer = self.get(match["account"], match["region"], match["name"], int(match["version"])) if match else None
            if layer is None:
                raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
            found.append(layer)
        return found


def opt_dir(root: Path, layers: list[dict[str, Any]], read_zip: Any) -> Path:
    """The merged layers of a function (made if missing; blocking). ``layers``: [{"Arn", "CodeSha256",
    "BlobId"}] in function order; ``read_zip(blob_id)`` returns a layer's zip bytes."""
    digest = hashlib.sha256("|".join(f"{l['Arn']}={l['CodeSha256']}" for l in layers).encode()).hexdigest()
    target = root / digest[:32]
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{target.name}.{uuid.uuid4().hex}"
    try:
        staging.mkdir()
        for layer in layers:
            part = staging / ".part"
            unpack(read_zip(layer["BlobId"]), part)
            shutil.copytree(part, staging, dirs_exist_ok=True)
            shutil.rmtree(part)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def runtime_paths(opt: Path, python_version: str | None = None) -> dict[str, list[str]]:
    """Where the runtime looks inside the merged layers (AWS's /opt layout); ``python_version``
    ("3.12") names the site-packages folder (default: the server's Python)."""
    version = f"python{python_version or '%d.%d' % sys.version_info[:2]}"
    return {
        "sys.path": [str(opt / "python"), str(opt / "python" / "lib" / version / "site-packages")],
        "PATH": [str(opt / "bin")],
        "LD_LIBRARY_PATH": [str(opt / "lib")],
    }
