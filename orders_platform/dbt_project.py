"""The one place that builds the `DbtProject` (and so the only path to the manifest).

The manifest is produced by `make manifest` (`dbt parse`), never at import time, so loading
the code location costs no dbt start-up; a missing manifest fails with the command to run.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from orders_platform.settings import DBT_PROJECT_DIR


@cache
def orders_dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    if not Path(project.manifest_path).exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {project.manifest_path}; run `make manifest` "
            "(dbt parse) before loading the code location."
        )
    return project


def dbt_executable() -> str:
    """The `dbt` installed next to this Python, so an un-activated venv still finds it."""
    return str(Path(sys.executable).with_name("dbt"))
