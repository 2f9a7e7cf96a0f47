"""The deployment's own PostgreSQL cluster: Debian's server binaries, our data directory.

PostgreSQL refuses to run as root, so as root every server command runs as the deployment's
unprivileged OS user (`postgres`, which Debian's package creates) through `runuser`; the
data directory is that user's. The server listens on 127.0.0.1 only, on the deployment's
port, and its socket sits in the data directory, so it never meets a system cluster.
Administration (role and database) goes over that socket with peer authentication: there is
no superuser password. Dagster connects over TCP as its own role with a SCRAM password.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from deploy.config import LOOPBACK, Deployment

PG_ROOT = Path("/usr/lib/postgresql")
# PostgreSQL's socket path limit (sun_path, 108 bytes, with its terminating NUL)
MAX_SOCKET_PATH = 107
# written by us into the data directory and included by postgresql.conf: the settings the
# deployment owns, rewritten on every start (so a port change needs only a restart)
CONF_NAME = "orders_platform.conf"


class PostgresError(RuntimeError):
    """The cluster could not be set up, started or reached; the message says why."""


def bin_dir() -> Path:
    """The newest server installed by Debian's packages (`scripts/install-postgres`)."""
    versions = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PostgresError(
            f"no PostgreSQL server under {PG_ROOT}: run scripts/install-postgres "
            "(make prod-up does)"
        )
    return versions[-1]


def _as_owner(deployment: Deployment, command: list[str]) -> list[str]:
    """`command` run as the cluster's owner (through runuser when we are root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", deployment.pg_os_user, "--", *command]
    return command


def _run(deployment: Deployment, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        _as_owner(deployment, command), capture_output=True, text=True, check=False, **kwargs
    )
    if completed.returncode != 0:
        raise PostgresError(
            f"{Path(command[0]).name} failed ({completed.returncode}): "
            f"{(completed.stderr or completed.stdout).strip()[-2000:]}"
        )
    return completed


def _give_to_owner(deployment: Deployment, path: Path) -> None:
    if os.geteuid() == 0:
        owner = pwd.getpwnam(deployment.pg_os_user)
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _check_reachable(deployment: Deployment) -> None:
    """The owner must be able to walk to the data directory (a 0700 parent owned by root,
    e.g. pytest's temporary root, would stop it with a confusing initdb error)."""
    parent = deployment.pg_data.parent
    probe = subprocess.run(_as_owner(deployment, ["test", "-x", str(parent)]), check=False)
    if probe.returncode != 0:
        raise PostgresError(
            f"{deployment.pg_os_user} cannot enter {parent}: every directory above the "
            "PostgreSQL data directory must be searchable by that user (chmod o+x each), "
            "or set ORDERS_PROD_DIR to a directory it can reach (e.g. /srv/orders_platform)"
        )
    socket = deployment.pg_data / f".s.PGSQL.{deployment.pg_port}"
    if len(str(socket)) > MAX_SOCKET_PATH:
        raise PostgresError(f"socket path {socket} is too long: use a shorter ORDERS_PROD_DIR")


def init(deployment: Deployment) -> bool:
    """Create the cluster unless it exists; True when it was created now."""
    data = deployment.pg_data
    if (data / "PG_VERSION").exists():
        return False
    data.parent.mkdir(parents=True, exist_ok=True)
    _check_reachable(deployment)
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    _give_to_owner(deployment, data)
    _run(
        deployment,
        [
            str(bin_dir() / "initdb"),
            "--pgdata",
            str(data),
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-instructions",
        ],
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\ninclude_if_exists = '{CONF_NAME}'\n")
    return True


def _write_conf(deployment: Deployment) -> None:
    conf = deployment.pg_data / CONF_NAME
    conf.write_text(
        "# written by `python -m deploy` on every start; edit deploy/postgres.py instead\n"
        f"listen_addresses = '{LOOPBACK}'\n"
        f"port = {deployment.pg_port}\n"
        f"unix_socket_directories = '{deployment.pg_data}'\n"
        "password_encryption = 'scram-sha-256'\n"
    )
    _give_to_owner(deployment, conf)


def log_path(deployment: Deployment) -> Path:
    return deployment.logs / "postgres.log"


def is_running(deployment: Deployment) -> bool:
    if not (deployment.pg_data / "PG_VERSION").exists():
        return False
    status = subprocess.run(
        _as_owner(deployment, [str(bin_dir() / "pg_ctl"), "status", "-D", str(deployment.pg_data)]),
        capture_output=True,
        check=False,
    )
    return status.returncode == 0


def start(deployment: Deployment, timeout: int = 60) -> None:
    """Start the server (a no-op when it runs) and wait until it accepts connections."""
    if is_running(deployment):
        return
    _write_conf(deployment)
    log = log_path(deployment)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    _give_to_owner(deployment, log)
    _run(
        deployment,
        [
            str(bin_dir() / "pg_ctl"),
            "start",
            "--pgdata",
            str(deployment.pg_data),
            "--log",
            str(log),
            "--wait",
            "--timeout",
            str(timeout),
        ],
    )


def stop(deployment: Deployment, timeout: int = 60) -> None:
    """Stop the server: `fast` ends open sessions and shuts down cleanly (no recovery on the
    next start). A no-op when it is not running."""
    if not is_running(deployment):
        return
    _run(
        deployment,
        [
            str(bin_dir() / "pg_ctl"),
            "stop",
            "--pgdata",
            str(deployment.pg_data),
            "--mode",
            "fast",
            "--wait",
            "--timeout",
            str(timeout),
        ],
    )


def psql(deployment: Deployment, script: str, database: str = "postgres") -> str:
    """Run `script` as the cluster's superuser over the data directory's socket (peer
    authentication). The script goes through stdin, so nothing in it (a password) shows in
    the process list. Returns psql's unaligned, tuples-only output."""
    command = [
        str(bin_dir() / "psql"),
        "--no-psqlrc",
        "--quiet",
        "--tuples-only",
        "--no-align",
        "--set=ON_ERROR_STOP=1",
        "--host",
        str(deployment.pg_data),
        "--port",
        str(deployment.pg_port),
        "--dbname",
        database,
    ]
    return _run(deployment, command, input=script).stdout


def _psql_literal(value: str) -> str:
    """`value` as a single-quoted psql meta-command argument."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


# Idempotent. psql quotes the variables (`:'name'` a literal) and format() quotes what
# \gexec runs (%I an identifier, %L a literal), so no value is spliced into SQL unquoted.
ROLE_AND_DATABASE_SQL = """
select format('create role %I login', :'role')
 where not exists (select from pg_roles where rolname = :'role') \\gexec
select format('alter role %I password %L', :'role', :'password') \\gexec
select format('create database %I owner %I', :'db', :'role')
 where not exists (select from pg_database where datname = :'db') \\gexec
"""


def ensure_role_and_database(deployment: Deployment, password: str) -> None:
    """Create Dagster's role and database when missing, and (re)set the role's password, so
    a changed ORDERS_PG_PASSWORD takes effect on the next start. The role owns its
    database and is not a superuser."""
    variables = {"role": deployment.pg_role, "db": deployment.pg_db, "password": password}
    sets = "".join(f"\\set {name} {_psql_literal(value)}\n" for name, value in variables.items())
    psql(deployment, sets + ROLE_AND_DATABASE_SQL)


def pg_dump_command(deployment: Deployment) -> list[str]:
    """Dagster's database as a custom-format dump on stdout (restore with pg_restore), taken
    as the cluster's superuser over the socket: no password involved."""
    return _as_owner(
        deployment,
        [
            str(bin_dir() / "pg_dump"),
            "--host",
            str(deployment.pg_data),
            "--port",
            str(deployment.pg_port),
            "--format=custom",
            deployment.pg_db,
        ],
    )


def pg_restore_command(deployment: Deployment) -> list[str]:
    """Restore a dump read from stdin into Dagster's database, replacing what is there, in
    one transaction (a failed restore changes nothing)."""
    return _as_owner(
        deployment,
        [
            str(bin_dir() / "pg_restore"),
            "--host",
            str(deployment.pg_data),
            "--port",
            str(deployment.pg_port),
            "--dbname",
            deployment.pg_db,
            "--clean",
            "--if-exists",
            "--single-transaction",
        ],
    )
