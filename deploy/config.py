"""Where the deployment lives and how its processes reach each other, from the environment.

Read once when a command starts (`Deployment.from_env`), so `make prod-up` and the test that
starts a deployment of its own in a temporary directory go through the same code with
different values.
"""

from __future__ import annotations

import getpass
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orders_platform.settings import resolve_path

DEPLOY_DIR = Path(__file__).resolve().parent
INSTANCE_YAML = DEPLOY_DIR / "dagster.yaml"
WORKSPACE_YAML = DEPLOY_DIR / "workspace.yaml"
LOCATION_NAME = "orders_platform.definitions"

DEFAULT_PROD_DIR = "data/prod"
DEFAULT_PG_PORT = 5433  # beside, not on, a system cluster's 5432
DEFAULT_CODE_SERVER_PORT = 4266
DEFAULT_WEBSERVER_PORT = 3000
DEFAULT_PG_ROLE = "dagster"
DEFAULT_PG_DB = "dagster"
LOOPBACK = "127.0.0.1"
# The most materialization events Dagster writes in one batch (DAGSTER_EVENT_BATCH_SIZE):
# more than a run's days, so one batch per asset and run.
EVENT_BATCH_SIZE = "1000"


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a port number") from None
    if not 0 < value < 65536:
        raise ValueError(f"{name}={raw!r}: expected a port number")
    return value


def _default_os_user() -> str:
    """PostgreSQL refuses to run as root: as root, the `postgres` user Debian's package
    creates runs it; anyone else runs it as themselves."""
    return "postgres" if os.geteuid() == 0 else getpass.getuser()


@dataclass(frozen=True)
class Deployment:
    """One deployment: its directory, its ports and its PostgreSQL role and database.

    Everything binds to 127.0.0.1. The directory holds PostgreSQL's data, the Dagster home,
    the generated password (when ORDERS_PG_PASSWORD is unset), and each process's log and pid
    file; by default also the warehouse and the landing zone.
    """

    root: Path
    pg_port: int
    code_server_port: int
    webserver_port: int
    pg_role: str
    pg_db: str
    pg_os_user: str
    platform_env: Mapping[str, str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Deployment:
        """The deployment the environment describes (`ORDERS_PROD_DIR`, `ORDERS_PG_PORT`,
        `ORDERS_CODE_SERVER_PORT`, `ORDERS_WEBSERVER_PORT`, `ORDERS_PG_USER`, `ORDERS_PG_DB`,
        `ORDERS_PG_OS_USER`). The platform's own settings (ORDERS_WAREHOUSE, ...) pass through
        to the Dagster processes; unset, the warehouse and landing zone are the deployment's
        and dbt runs on its `prod` target (which refuses full refreshes)."""
        env = os.environ if env is None else env
        root = resolve_path(env.get("ORDERS_PROD_DIR") or DEFAULT_PROD_DIR)
        platform_env = {
            "ORDERS_WAREHOUSE": env.get("ORDERS_WAREHOUSE") or str(root / "warehouse.duckdb"),
            "ORDERS_LANDING_DIR": env.get("ORDERS_LANDING_DIR") or str(root / "landing"),
            "ORDERS_DBT_TARGET": env.get("ORDERS_DBT_TARGET") or "prod",
        }
        return cls(
            root=root,
            pg_port=_port(env, "ORDERS_PG_PORT", DEFAULT_PG_PORT),
            code_server_port=_port(env, "ORDERS_CODE_SERVER_PORT", DEFAULT_CODE_SERVER_PORT),
            webserver_port=_port(env, "ORDERS_WEBSERVER_PORT", DEFAULT_WEBSERVER_PORT),
            pg_role=env.get("ORDERS_PG_USER") or DEFAULT_PG_ROLE,
            pg_db=env.get("ORDERS_PG_DB") or DEFAULT_PG_DB,
            pg_os_user=env.get("ORDERS_PG_OS_USER") or _default_os_user(),
            platform_env=platform_env,
        )

    @property
    def pg_data(self) -> Path:
        return self.root / "postgres"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "run"

    @property
    def password_file(self) -> Path:
        return self.root / "pg-password"

    @property
    def webserver_url(self) -> str:
        return f"http://{LOOPBACK}:{self.webserver_port}"

    def password(self, env: Mapping[str, str] | None = None) -> str:
        """The Dagster role's password: ORDERS_PG_PASSWORD, else the deployment's generated
        one (created on first use in a file only its owner can read). Never printed."""
        env = os.environ if env is None else env
        if env.get("ORDERS_PG_PASSWORD"):
            return env["ORDERS_PG_PASSWORD"]
        if not self.password_file.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32))
        return self.password_file.read_text().strip()

    def dagster_env(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of every Dagster process: the caller's, the platform's settings,
        the instance's home, the connection deploy/dagster.yaml reads, and the UI's URL."""
        env = os.environ if env is None else env
        return {
            **env,
            **self.platform_env,
            "DAGSTER_HOME": str(self.dagster_home),
            "DO_NOT_TRACK": "1",
            "ORDERS_PG_HOST": LOOPBACK,
            "ORDERS_PG_PORT": str(self.pg_port),
            "ORDERS_PG_USER": self.pg_role,
            "ORDERS_PG_DB": self.pg_db,
            "ORDERS_PG_PASSWORD": self.password(env),
            "ORDERS_CODE_SERVER_PORT": str(self.code_server_port),
            # alerts link runs under the deployment's own UI unless told otherwise (a proxy)
            "ORDERS_DAGSTER_UI_URL": env.get("ORDERS_DAGSTER_UI_URL") or self.webserver_url,
            # a run over many days materializes each day of an asset; PostgreSQL's event log
            # stores those as one insert when Dagster batches them (off unless set)
            "DAGSTER_EVENT_BATCH_SIZE": env.get("DAGSTER_EVENT_BATCH_SIZE") or EVENT_BATCH_SIZE,
        }
