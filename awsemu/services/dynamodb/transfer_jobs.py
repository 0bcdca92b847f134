"""What table exports and imports share: their ids and records in lsm, list paging, and the
background threads that do the work.

A job (an export or an import) is a JSON record in lsm, written IN_PROGRESS before the request is
answered and rewritten once when the job ends (COMPLETED or FAILED). The work runs on a thread of
its own. A job found IN_PROGRESS when the server starts was cut short by a stop or a crash; it is
run again from the beginning (an export rewrites the same data file names, an import rewrites the
same items), so a restart never leaves one hanging.

Key layout, beside keys.py's and snapshots.py's (multi-letter tags, so no clash with theirs):

    ("ddb", "ex", account, region, export id)   -> export record (JSON)
    ("ddb", "ext", account, region, token)      -> export id of a ClientToken
    ("ddb", "im", account, region, import id)   -> import record (JSON)
    ("ddb", "imt", account, region, token)      -> import id of a ClientToken

Ids are AWS's shape: a 14-digit millisecond timestamp, a dash, 8 hex digits
(``01658528578619-c4d4e311``); :meth:`JobThreads.new_id` keeps the timestamps strictly increasing,
so ids sort by creation time (ListExports and ListImports answer newest first).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.errors import ValidationException

log = logging.getLogger(__name__)

ID_RE = re.compile(r"\d{14}-[0-9a-f]{8}\Z")
_TABLE = r"arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table/([a-zA-Z0-9_.\-]{3,255})"
TABLE_ARN = re.compile(_TABLE + r"\Z")
EXPORT_ARN = re.compile(_TABLE + r"/export/(\d{14}-[0-9a-f]{8})\Z")
IMPORT_ARN = re.compile(_TABLE + r"/import/(\d{14}-[0-9a-f]{8})\Z")
BUCKET = re.compile(r"[a-z0-9A-Z]+[.\-\w]*[a-z0-9A-Z]+\Z")  # the S3Bucket member's pattern
_TOKEN_RE = re.compile(r"[^$]+\Z")


def invalid(member: str, value: Any, constraint: str) -> ValidationException:
    """DynamoDB's wording of a request member that fails its model constraint."""
    shown = "null" if value is None else f"'{value}'"
    return ValidationException(
        f"1 validation error detected: Value {shown} at '{member}' failed to satisfy constraint: {constraint}")


def page_size(value: Any, member: str) -> int:
    """ListExports' MaxResults / ListImports' PageSize: 1..25, default 25."""
    if value is not None and not 1 <= value <= 25:
        raise invalid(member, value, "Member must have value less than or equal to 25" if value > 25
                      else "Member must have value greater than or equal to 1")
    return value or 25


def find(db: Any, tag: str, pattern: re.Pattern[str], arn: Any, account: str, region: str,
         not_found: Callable[[str], Exception], kind: str) -> dict[str, Any]:
    """The job an ExportArn/ImportArn names, in the caller's account and region."""
    match = pattern.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise ValidationException(f"Invalid {kind} ARN: {arn}")
    arn_region, arn_account, _, job_id = match.groups()
    raw = db.get(job_key(tag, arn_account, arn_region, job_id))
    job = json.loads(raw) if raw is not None else None
    if job is None or (arn_account, arn_region) != (account, region) or job["arn"] != arn:
        raise not_found(f"{kind} not found: {arn}")
    return job


def job_key(tag: str, account: str, region: str, job_id: str) -> bytes:
    return keys.encode((keys.PREFIX, tag, account, region, job_id))


def jobs_range(tag: str, account: str | None = None, region: str | None = None) -> tuple[bytes, bytes]:
    parts: tuple[Any, ...] = (keys.PREFIX, tag) + ((account, region) if account is not None else ())
    start = keys.encode(parts)
    return start, keys.prefix_end(start)


def dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def iso_z(ts: float) -> str:
    """The manifests' time format: ``2020-11-04T07:28:34.028Z``."""
    return dt(ts).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def check_client_token(token: Any) -> None:
    if token is not None and (not isinstance(token, str) or not _TOKEN_RE.match(token)):
        raise ValidationException(
            f"1 validation error detected: Value '{token}' at 'clientToken' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^[^\\$]+$"
        )


# --- paging -------------------------------------------------------------------------------------


def page_token(job_id: str) -> str:
    """A NextToken naming the last job of a page: hex, in 16-digit groups, at least 112 digits
    (the pattern ListImports' model gives its tokens)."""
    text = job_id.encode().hex()
    length = max(112, -(-len(text) // 16) * 16)
    return text.ljust(length, "0")


def token_job_id(token: Any, operation: str) -> str:
    try:
        raw = bytes.fromhex(token).rstrip(b"\0").decode("ascii")
    except (TypeError, ValueError):
        raw = ""
    if not ID_RE.match(raw):
        raise ValidationException(f"Invalid NextToken for {operation}: {token}")
    return raw


def newest_first(db: Any, tag: str, account: str, region: str, after: str | None) -> Iterator[dict[str, Any]]:
    """The account's jobs of one kind, newest first, starting past the job ``after``."""
    start, end = jobs_range(tag, account, region)
    if after is not None:
        end = job_key(tag, account, region, after)
    for _, raw in db.scan(start, end, reverse=True):
        yield json.loads(raw)


# --- background work ----------------------------------------------------------------------------


class JobThreads:
    """The threads running jobs. ``stopping`` asks them to quit between steps (server stop: the
    job stays IN_PROGRESS and is run again at the next start); a reset bumps ``generation``, so
    a job of the wiped state stops writing."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.generation = 0
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._last_ms = 0

    def new_id(self) -> str:
        """A job id: ``<14-digit milliseconds>-<8 hex>``, later than every id made before."""
        with self._lock:
            self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
            return f"{self._last_ms:014d}-{secrets.token_hex(4)}"

    def start(self, name: str, work: Callable[[], None]) -> None:
        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("dynamodb %s failed", name)
            finally:
                with self._lock:
                    self._threads.pop(name, None)

        thread = threading.Thread(target=run, name=f"ddb-{name}", daemon=True)
        with self._lock:
            self._threads[name] = thread
        thread.start()

    def cancelled(self, generation: int) -> bool:
        return self.stopping.is_set() or generation != self.generation

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        with self._lock:
            threads = list(self._threads.values())
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def reset(self) -> None:
        self.generation += 1
