"""The dbt resource: dagster-dbt's `DbtCliResource`, with dbt run inside the run's process.

How dbt runs in process, and the setting that returns to stock dagster-dbt, live with the
other private Dagster hooks in `orders_platform.dagster_internals`. This module adds what the
platform asks of an invocation: its environment, and keeping dbt's partial parse for the
next run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliInvocation

from orders_platform.dagster_internals import InProcessDbtCli, dbt_runner, environment

PARTIAL_PARSE_FILE = "partial_parse.msgpack"


class OrdersDbtCliResource(InProcessDbtCli):
    """dagster-dbt's dbt resource, running dbt in the run's process (see the module doc)."""

    def build(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        context: AssetExecutionContext,
    ) -> DbtCliInvocation:
        """`dbt <args>` with `env` added to its environment; the caller checks errors.

        dbt runs, with the environment it was given here, when the returned invocation's
        events are first read."""
        with environment(env), dbt_runner():
            return self.cli(args, context=context, raise_on_error=False)

    def keep_partial_parse(self, invocation: DbtCliInvocation) -> None:
        """Make the invocation's partial-parse file the one the next invocation starts from.

        That is `<project>/$DBT_TARGET_PATH (default target)/partial_parse.msgpack`, the file
        dagster-dbt seeds every invocation's own target directory with.
        Written to a temporary name and renamed, so a concurrent reader sees the old file or
        the new one, never half of one; dbt itself discards a stale or unreadable file.
        """
        produced = invocation.target_path / PARTIAL_PARSE_FILE
        if not produced.exists():
            return
        shared = Path(self.project_dir, os.getenv("DBT_TARGET_PATH", "target"), PARTIAL_PARSE_FILE)
        partial = shared.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}.tmp")
        shutil.copyfile(produced, partial)
        partial.replace(shared)
