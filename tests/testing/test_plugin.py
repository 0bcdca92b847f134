"""The pytest plugin users get, exercised in inner pytest runs (pytester, subprocess mode)."""

from __future__ import annotations

import json


def test_plugin_starts_a_server_and_gives_clients(pytester):
    pytester.makepyfile(
        """
        def test_identity(aws_client, aws_endpoint_url, awsemu):
            assert aws_endpoint_url.startswith("http://127.0.0.1:")
            assert awsemu.endpoint == aws_endpoint_url
            assert aws_client("sts").get_caller_identity()["Account"] == "000000000000"

        def test_resource_factory(aws_resource, aws_endpoint_url):
            assert aws_resource("s3").meta.client.meta.endpoint_url == aws_endpoint_url
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_plugin_uses_a_running_server_when_given(pytester, aws_endpoint_url):
    pytester.makepyfile(
        f"""
        def test_endpoint(aws_endpoint_url, aws_client):
            assert aws_endpoint_url == {aws_endpoint_url!r}
            aws_client("sts").get_caller_identity()
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", f"--awsemu-endpoint={aws_endpoint_url}")
    result.assert_outcomes(passed=1)


def test_one_server_per_xdist_worker(pytester, tmp_path):
    out = tmp_path / "endpoints"
    out.mkdir()
    pytester.makepyfile(
        f"""
        import os, pathlib, pytest

        @pytest.mark.parametrize("n", range(4))
        def test_record(n, aws_endpoint_url, aws_client):
            aws_client("sts").get_caller_identity()
            worker = os.environ["PYTEST_XDIST_WORKER"]
            pathlib.Path({str(out)!r}, f"{{worker}}-{{n}}").write_text(aws_endpoint_url)
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)
    by_worker: dict[str, set[str]] = {}
    for f in out.iterdir():
        by_worker.setdefault(f.name.split("-")[0], set()).add(f.read_text())
    assert len(by_worker) == 2
    endpoints = [next(iter(v)) for v in by_worker.values()]
    assert all(len(v) == 1 for v in by_worker.values())
    assert endpoints[0] != endpoints[1]


def test_status_and_reset_commands(aws_endpoint_url):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "awsemu", "status", "--endpoint", aws_endpoint_url],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert json.loads(out.stdout)["services"]["sts"] == "running"
    out = subprocess.run([sys.executable, "-m", "awsemu", "reset", "--endpoint", aws_endpoint_url, "--service", "sts"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and json.loads(out.stdout) == {"reset": ["sts"]}
    out = subprocess.run([sys.executable, "-m", "awsemu", "status", "--endpoint", "http://127.0.0.1:9"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and out.stderr.startswith("awsemu: error: no awsemu server answers at http://127.0.0.1:9")
