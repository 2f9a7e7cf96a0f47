"""The dbt CLI resource, with dagster-dbt's fixed per-invocation start-up costs taken out.

Profiled on a one-partition run (issue 5), default `DbtCliResource.cli()` spent, before and
around dbt's own work of a few seconds:
- a `dbt --version` subprocess on every run (the version is cached per resource instance,
  and Dagster builds a new instance for every run): 3-6 s on a loaded 2-core machine;
- an in-process dbt adapter (project, profile and macro loading) that dagster-dbt uses only
  to fetch column metadata and row counts, which this project never asks for: 2-5 s;
- a full re-parse of the dbt project, because every invocation runs in a fresh target
  directory seeded with `dbt/target/partial_parse.msgpack`, which is stale as soon as the
  invocation's vars or profile (the warehouse path) differ from those of `make manifest`.

This resource answers the version from the installed dbt-core package (`dbt_executable` is
always the `dbt` of this environment, see `orders_platform.dbt_project`), skips the unused
adapter, runs dbt with its per-run settings in its environment rather than in `--vars`, and
after each invocation publishes dbt's refreshed partial-parse file back to `dbt/target/`, so
the next run in the same environment parses only what changed. dagster-dbt has no public
switch for the first two; the overridden hooks are pinned by the exact dagster-dbt version
in setup.py and checked by orders_platform_tests/test_dbt_resource.py.
"""

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliInvocation, DbtCliResource
from packaging.version import Version

PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in this process's environment for the block, then restore it.

    dagster-dbt copies `os.environ` into the dbt subprocess when `cli()` starts it and offers
    no other way to add variables; the block spans only that call. Runs execute their steps
    one at a time in one process (`in_process_executor`), so nothing else reads it meanwhile.
    """
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class OrdersDbtCliResource(DbtCliResource):
    """`DbtCliResource` without the per-run `dbt --version`, the unused adapter and re-parses."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        # Only fetch_column_metadata()/fetch_row_counts() use the adapter; nothing here does.
        return None

    def build(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        context: AssetExecutionContext,
    ) -> DbtCliInvocation:
        """Start `dbt <args>` with `env` added to its environment; the caller checks errors."""
        with _environment(env):
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
