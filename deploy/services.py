"""Dagster's three processes, each detached with a log file and a pid file of its own.

The code server serves the code location over gRPC and launches its runs; the webserver and
the daemon load the location from it (deploy/workspace.yaml). Each process is the leader of
a session of its own, so stopping it (SIGTERM to the group, SIGKILL after a bounded wait)
also ends what it started (the code server's API subprocess, the webserver's workers).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from deploy.config import INSTANCE_YAML, LOCATION_NAME, LOOPBACK, WORKSPACE_YAML, Deployment
from orders_platform.resources.warehouse import WRITER_POOL
from orders_platform.settings import REPO_ROOT

T = TypeVar("T")

BIN_DIR = Path(sys.executable).parent
STOP_TIMEOUT = 60


@dataclass(frozen=True)
class Service:
    """One long-running Dagster process of the deployment."""

    name: str
    command: list[str]

    def pid_file(self, deployment: Deployment) -> Path:
        return deployment.pids / f"{self.name}.pid"

    def log_file(self, deployment: Deployment) -> Path:
        return deployment.logs / f"{self.name}.log"


def services(deployment: Deployment) -> list[Service]:
    """The processes in start order (stopped in reverse)."""
    workspace = ["-w", str(WORKSPACE_YAML)]
    return [
        Service(
            "code-server",
            [
                str(BIN_DIR / "dagster"),
                "code-server",
                "start",
                "-m",
                LOCATION_NAME,
                "--location-name",
                LOCATION_NAME,
                "-h",
                LOOPBACK,
                "-p",
                str(deployment.code_server_port),
            ],
        ),
        Service(
            "webserver",
            [
                str(BIN_DIR / "dagster-webserver"),
                *workspace,
                "-h",
                LOOPBACK,
                "-p",
                str(deployment.webserver_port),
            ],
        ),
        Service("daemon", [str(BIN_DIR / "dagster-daemon"), "run", *workspace]),
    ]


def service(deployment: Deployment, name: str) -> Service:
    return next(s for s in services(deployment) if s.name == name)


def wait_for(what: str, predicate: Callable[[], T], timeout: float, interval: float = 1.0) -> T:
    """Poll `predicate` until it returns something truthy, and return that.

    An OSError from the predicate (a server not listening yet) counts as not yet; past
    `timeout` seconds, TimeoutError says what was waited for.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    """A query to the webserver's GraphQL API, as the UI sends it."""
    request = urllib.request.Request(
        f"http://{LOOPBACK}:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def _runs_command(pid: int, svc: Service) -> bool:
    """Whether process `pid` runs the service's command (a pid file left by a reboot may
    name a pid some other process has since been given: that one must not be signalled).
    The entry points are scripts, which run as `python <script> <args>`: the command is the
    tail of the process's command line."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    except FileNotFoundError:
        return False
    args = [arg.decode(errors="replace") for arg in cmdline]
    return args[-len(svc.command) :] == svc.command


def pid_of(deployment: Deployment, svc: Service) -> int | None:
    """The pid of the service's running process, or None (a stale pid file is removed)."""
    path = svc.pid_file(deployment)
    if not path.exists():
        return None
    pid = int(path.read_text())
    if not _runs_command(pid, svc):
        path.unlink()
        return None
    return pid


def _launch(deployment: Deployment, svc: Service, env: Mapping[str, str]) -> subprocess.Popen:
    deployment.logs.mkdir(parents=True, exist_ok=True)
    deployment.pids.mkdir(parents=True, exist_ok=True)
    with svc.log_file(deployment).open("a") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} starting\n")
        log.flush()
        process = subprocess.Popen(
            svc.command,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    svc.pid_file(deployment).write_text(str(process.pid))
    return process


def _exited(process: subprocess.Popen, svc: Service, deployment: Deployment) -> None:
    if process.poll() is not None:
        raise RuntimeError(
            f"{svc.name} exited ({process.returncode}); see {svc.log_file(deployment)}"
        )


def _code_server_serving(deployment: Deployment, env: Mapping[str, str]) -> bool:
    health = subprocess.run(
        [
            str(BIN_DIR / "dagster"),
            "api",
            "grpc-health-check",
            "-h",
            LOOPBACK,
            "-p",
            str(deployment.code_server_port),
        ],
        env=dict(env),
        capture_output=True,
        check=False,
    )
    return health.returncode == 0


def _daemon_healthy(deployment: Deployment) -> bool:
    """Every daemon has sent a heartbeat (the sensor, schedule and queue loops all run)."""
    statuses = graphql(
        deployment.webserver_port,
        "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }",
    )["instance"]["daemonHealth"]["allDaemonStatuses"]
    return all(s["healthy"] for s in statuses if s["required"])


def start_service(
    deployment: Deployment, svc: Service, env: Mapping[str, str], timeout: float = 180
) -> int:
    """Start `svc` unless it runs, and wait (bounded) until it serves. Returns its pid."""
    running = pid_of(deployment, svc)
    if running is not None:
        return running
    process = _launch(deployment, svc, env)
    ready: dict[str, Callable[[], bool]] = {
        "code-server": lambda: _code_server_serving(deployment, env),
        "webserver": lambda: bool(graphql(deployment.webserver_port, "{ version }")),
        "daemon": lambda: _daemon_healthy(deployment),
    }

    def serving() -> bool:
        _exited(process, svc, deployment)
        return ready[svc.name]()

    wait_for(f"the {svc.name} (log: {svc.log_file(deployment)})", serving, timeout=timeout)
    return process.pid


def stop_service(deployment: Deployment, svc: Service, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM the service's process group, SIGKILL it after `timeout` s. False if it was
    not running."""
    pid = pid_of(deployment, svc)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.killpg(pid, 0)
            _reap(pid)
            time.sleep(0.5)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the whole group is gone
    svc.pid_file(deployment).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    """Collect the process if it is our child (a test's deployment), so it does not linger
    as a zombie that still counts as alive."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def prepare_instance(deployment: Deployment, env: Mapping[str, str]) -> None:
    """Give the Dagster home the production instance yaml, bring PostgreSQL's schema up to
    the installed Dagster (`dagster instance migrate`: creates it on first start, upgrades
    it after a Dagster upgrade) and limit the writer pool to 1, as `make dev` does."""
    deployment.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(INSTANCE_YAML, deployment.dagster_home / "dagster.yaml")
    for command in (
        ["instance", "migrate"],
        ["instance", "concurrency", "set", WRITER_POOL, "1"],
    ):
        subprocess.run(
            [str(BIN_DIR / "dagster"), *command],
            cwd=REPO_ROOT,
            env=dict(env),
            check=True,
            capture_output=True,
        )


def reload_location(deployment: Deployment) -> None:
    """Have the webserver reload the code location now (it would notice within a minute)."""
    result = graphql(
        deployment.webserver_port,
        "mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) "
        "{ __typename } }",
        {"name": LOCATION_NAME},
    )["reloadRepositoryLocation"]
    if result["__typename"] != "WorkspaceLocationEntry":
        raise RuntimeError(f"reloading {LOCATION_NAME} failed: {result}")
