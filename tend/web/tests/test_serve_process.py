"""`tend serve --with-worker` (what `make demo` runs) serves pages and Ctrl-C stops everything."""

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    env.pop("PYTEST_CURRENT_TEST", None)
    env["TEND_DATA_DIR"] = str(tmp_path)
    return env


def _group_members(pgid: int) -> list[str]:
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "-g", str(pgid)], capture_output=True, text=True
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_ctrl_c_stops_the_web_server_and_its_worker(tmp_path):
    env = _env(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "tend.cli", "migrate", "-v", "0"], env=env, check=True, timeout=300
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tend.cli",
            "serve",
            "--with-worker",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        status = None
        for _attempt in range(600):  # readiness poll: up to ~60 s for a slow machine
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    status = r.status
                    break
            except OSError:
                try:
                    server.wait(timeout=0.1)  # exits early if the server died
                    break
                except subprocess.TimeoutExpired:
                    continue
        assert status == 200, server.stdout.read().decode() if server.stdout else ""
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/customers", timeout=5)
        assert denied.value.code == 401
        members = _group_members(server.pid)
        assert any("tend.cli worker" in m for m in members), members

        os.killpg(server.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert _group_members(server.pid) == []
