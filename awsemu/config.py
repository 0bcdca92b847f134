"""Settings: one dataclass, filled from CLI flags and ``AWSEMU_*`` environment variables.

No module globals: ``create_app(config)`` builds everything from it, so tests can run several
isolated servers in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable


def default_data_dir() -> Path:
    """Per-user persistent state: ``$XDG_DATA_HOME/awsemu`` or ``~/.local/share/awsemu``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "awsemu"


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = field(default_factory=default_data_dir)
    ephemeral: bool = False
    log_level: str = "info"
    # off | sigv4 | iam  (verification arrives with the auth issue; off identifies only)
    auth: str = "off"
    # lsm durability: flush (survives kill -9) | fsync (survives power loss)
    durability: str = "flush"
    # Seconds between background scrubs of every stored body (0: only `awsemu scrub`).
    scrub_interval: float = 3600.0
    # Service tuning, mostly for tests that want time to pass faster (seconds unless named otherwise).
    dynamodb_ttl_interval: float = 5.0  # how often the TTL sweeper looks (AWS promises "within days")
    dynamodb_create_seconds: float = 0.0  # CREATING -> ACTIVE delay of new tables
    dynamodb_shard_seconds: float = 4 * 3600.0  # stream shards roll over this often
    s3_lifecycle_interval: float = 60.0  # how often the lifecycle sweeper runs
    s3_lifecycle_day_seconds: float = 86400.0  # length of a lifecycle "day"
    dynamodb_pitr_lag_seconds: float = 300.0  # LatestRestorableDateTime lags now by this (AWS: 5 minutes)
    s3_restore_seconds: float = 0.0  # how long a RestoreObject of an archived object takes
    s3_restore_day_seconds: float = 86400.0  # a restore "Day" (other than 86400: no midnight rounding; tests)
    lambda_idle_seconds: float = 300.0  # idle execution environments are reaped after this
    lambda_fork_server: bool = True  # False: start each environment as a fresh interpreter
    lambda_retry_seconds: float = 1.0
    lambda_provisioned_max: int = 10  # provisioned environments actually started per version (the rest counted)  # first retry delay of async invokes
    lambda_sandbox: str = "auto"  # auto | bwrap | none: execution environments in a bubblewrap sandbox
    lambda_sandbox_share: str = ""  # host directories (":"-separated) sandboxed functions may read and write
    services: tuple[str, ...] = ("s3", "dynamodb", "dynamodbstreams", "sqs", "lambda", "iam", "sts")

    # Environment variable name of each setting (for the README table and the CLI).
    @staticmethod
    def env_name(name: str) -> str:
        return f"AWSEMU_{name.upper()}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Config":
        env = os.environ if environ is None else environ
        cfg = cls()
        for f in fields(cls):
            raw = env.get(cls.env_name(f.name))
            if raw is None or raw == "":
                continue
            setattr(cfg, f.name, coerce(f.name, raw))
        return cfg


def coerce(name: str, raw: str) -> object:
    """Turn a string setting into the field's type; raises ValueError with a readable message."""
    if name == "port":
        port = int(raw)
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0-65535, got {raw}")
        return port
    if name == "data_dir":
        return Path(raw).expanduser()
    if name in _INTEGER:
        return _non_negative(name, raw, int, "a whole number")
    if name in _BOOLEAN:
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name.replace('_', ' ')} must be true or false, got {raw!r}")
    if name == "log_level":
        low = raw.strip().lower()
        if low not in ("critical", "error", "warning", "info", "debug", "trace"):
            raise ValueError(f"log level must be one of critical, error, warning, info, debug, trace; got {raw!r}")
        return low
    if name == "auth":
        low = raw.strip().lower()
        if low not in ("off", "sigv4", "iam"):
            raise ValueError(f"auth must be off, sigv4 or iam; got {raw!r}")
        return low
    if name == "durability":
        low = raw.strip().lower()
        if low not in ("flush", "fsync"):
            raise ValueError(f"durability must be flush or fsync; got {raw!r}")
        return low
    if name == "lambda_sandbox":
        low = raw.strip().lower()
        if low not in ("auto", "bwrap", "none"):
            raise ValueError(f"lambda sandbox must be auto, bwrap or none; got {raw!r}")
        return low
    if name == "services":
        return tuple(s.strip() for s in raw.split(",") if s.strip())
    if name in _SECONDS:
        return _non_negative(name, raw, float, "a number of seconds")
    return raw


def _non_negative(name: str, raw: str, parse: Callable[[str], Any], what: str) -> Any:
    try:
        value = parse(raw)
    except ValueError:
        raise ValueError(f"{name.replace('_', ' ')} must be {what}, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name.replace('_', ' ')} must be >= 0, got {raw}")
    return value


_BOOLEAN = {f.name for f in fields(Config) if f.type == "bool"}
_INTEGER = {f.name for f in fields(Config) if f.type == "int" and f.name != "port"}
_SECONDS = {f.name for f in fields(Config) if f.type == "float"}
