"""A real `dagster dev` (webserver + daemon + code server) on a home of its own.

What the heal-latency benchmark and the end-to-end tests share: a Dagster home with the
project's dagster.yaml and the writer pool's limit set the way `make dev` sets it, a free
127.0.0.1 port, a server that is always stopped with every process it started, and the
small GraphQL and polling helpers to talk to it the way an operator's UI does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from deploy.services import graphql, wait_for
from orders_platform.resources.warehouse import WRITER_POOL
from orders_platform.settings import REPO_ROOT

BIN_DIR = Path(sys.executable).parent
CODE_LOCATION = "orders_platform.definitions"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def platform_env(root: Path) -> dict[str, str]:
    """The environment of a platform of its own under `root`: its warehouse, landing zone
    and Dagster home (`root/dagster_home`), on dbt's dev target."""
    return {
        "ORDERS_WAREHOUSE": str(root / "warehouse.duckdb"),
        "ORDERS_LANDING_DIR": str(root / "landing"),
        "ORDERS_DBT_TARGET": "dev",
        "DAGSTER_HOME": str(root / "dagster_home"),
        "DO_NOT_TRACK": "1",
    }


def prepare_dagster_home(home: Path, env: Mapping[str, str]) -> None:
    """Give `home` the project's dagster.yaml and limit the writer pool to 1, as `make dev`
    does (the yaml's default limit only applies from the queue daemon's second pass on).

    `env` is the environment of the platform (its DAGSTER_HOME must be `home`)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    subprocess.run(
        [str(BIN_DIR / "dagster"), "instance", "concurrency", "set", WRITER_POOL, "1"],
        check=True,
        capture_output=True,
        env={**env, "DAGSTER_HOME": str(home)},
    )


@contextmanager
def dagster_dev(log_path: Path, env: Mapping[str, str] | None = None) -> Iterator[int]:
    """Run `dagster dev` on a free loopback port until the block ends; yields the port.

    The environment is the current one plus `env`. The server runs in its own session, so
    stopping it (SIGTERM, then SIGKILL after a minute) reaches every process it started.
    """
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(BIN_DIR / "dagster"),
                "dev",
                "-m",
                CODE_LOCATION,
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def serving() -> dict:
                if server.poll() is not None:
                    raise RuntimeError(f"dagster dev exited ({server.returncode}); see {log_path}")
                return graphql(port, "{ version }")

            wait_for("the webserver", serving, timeout=180)
            yield port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                server.wait(timeout=60)
            # and any process of its session that outlived `dagster dev` itself
            with suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
