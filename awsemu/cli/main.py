"""The ``awsemu`` command: ``serve`` (default), ``status``, ``reset``, ``scrub``.

Every ``serve`` flag is also an ``AWSEMU_*`` environment variable (flag wins). Failures the user can
fix (port taken, data dir unusable) print one line, not a traceback, and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from awsemu import __version__
from awsemu.config import Config, coerce


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="awsemu", description="A local, durable, AWS-compatible emulator.")
    parser.add_argument("--version", action="version", version=f"awsemu {__version__}")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the server (the default command)")
    _add_serve_flags(serve)

    status = sub.add_parser("status", help="health of a running server")
    status.add_argument("--endpoint", default=None, help="server URL (default: AWSEMU_ENDPOINT or http://127.0.0.1:4566)")

    reset = sub.add_parser("reset", help="wipe the state of a running server")
    reset.add_argument("--endpoint", default=None)
    reset.add_argument("--service", default=None, help="only this service")

    scrub = sub.add_parser("scrub", help="verify every stored object and repair lost or rotten shards (server stopped)")
    scrub.add_argument("--data-dir", default=None)
    return parser


def _add_serve_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="bind address (AWSEMU_HOST, default 127.0.0.1)")
    p.add_argument("--port", default=None, help="port, 0 for any free one (AWSEMU_PORT, default 4566)")
    p.add_argument("--data-dir", default=None, help="state directory (AWSEMU_DATA_DIR)")
    p.add_argument("--ephemeral", action="store_true", default=None, help="keep state in a temp dir removed at exit")
    p.add_argument("--log-level", default=None, help="critical|error|warning|info|debug (AWSEMU_LOG_LEVEL)")
    p.add_argument("--auth", default=None, help="off|sigv4|iam (AWSEMU_AUTH)")
    p.add_argument("--durability", default=None, help="flush|fsync (AWSEMU_DURABILITY)")


def _config_from(args: argparse.Namespace) -> Config:
    config = Config.from_env()
    for name in ("host", "port", "data_dir", "log_level", "auth", "durability"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(config, name, coerce(name, str(value)))
    if getattr(args, "ephemeral", None):
        config.ephemeral = True
    return config


def _fail(message: str, code: int = 1) -> int:
    print(f"awsemu: error: {message}", file=sys.stderr)
    return code


def _endpoint(arg: str | None) -> str:
    import os

    return (arg or os.environ.get("AWSEMU_ENDPOINT") or "http://127.0.0.1:4566").rstrip("/")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["serve", *argv]
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    try:
        if command == "serve":
            from awsemu.cli.serve import serve

            return serve(_config_from(args))
        if command == "status":
            return _status(_endpoint(args.endpoint))
        if command == "reset":
            return _reset(_endpoint(args.endpoint), args.service)
        if command == "scrub":
            from awsemu.cli.scrub import scrub

            config = Config.from_env()
            if args.data_dir:
                config.data_dir = Path(args.data_dir).expanduser()
            return scrub(config)
    except ValueError as exc:
        return _fail(str(exc), 2)
    return _fail(f"unknown command {command}", 2)


def _status(endpoint: str) -> int:
    try:
        with urllib.request.urlopen(f"{endpoint}/_awsemu/health", timeout=5) as resp:
            print(json.dumps(json.load(resp), indent=2))
            return 0
    except (urllib.error.URLError, OSError) as exc:
        return _fail(f"no awsemu server answers at {endpoint}: {getattr(exc, 'reason', exc)}")


def _reset(endpoint: str, service: str | None) -> int:
    url = f"{endpoint}/_awsemu/reset" + (f"?service={service}" if service else "")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30) as resp:
            print(json.dumps(json.load(resp)))
            return 0
    except urllib.error.HTTPError as exc:
        return _fail(json.load(exc).get("message", str(exc)))
    except (urllib.error.URLError, OSError) as exc:
        return _fail(f"no awsemu server answers at {endpoint}: {getattr(exc, 'reason', exc)}")
