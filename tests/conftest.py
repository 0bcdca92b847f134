"""Settings every test folder shares."""

from __future__ import annotations

import os

import pytest

# pytester drives the shipped pytest plugin (awsemu.testing.plugin, loaded by its pytest11 entry point).
pytest_plugins = ["pytester"]


# Lambda runs handlers in a bubblewrap sandbox wherever bwrap works, which hides the host's /tmp.
# Tests (Lambda's, and S3's or SQS's that invoke functions) hand files to handlers through pytest's
# tmp_path, so the session's temporary folder is shared with the sandbox in every server started.


def _share_basetemp(config: pytest.Config) -> None:
    factory = getattr(config, "_tmp_path_factory", None)  # set by pytest's tmp_path plugin at configure
    if factory is not None and "AWSEMU_LAMBDA_SANDBOX_SHARE" not in os.environ:
        os.environ["AWSEMU_LAMBDA_SANDBOX_SHARE"] = str(factory.getbasetemp())


def pytest_configure(config: pytest.Config) -> None:
    """Before any server of the session starts (if the tmp_path plugin is not configured yet,
    pytest_sessionstart does it)."""
    _share_basetemp(config)


def pytest_sessionstart(session: pytest.Session) -> None:
    _share_basetemp(session.config)
