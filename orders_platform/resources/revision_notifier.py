"""The kind of resource through which a re-merge tells people which days it revised.

Telling people is the last step of the data path (`orders_platform.notify`), yet it runs
inside the dbt asset's step: there, once dbt has exited, the run's revisions are read and
the notice's outcome is recorded on the run as an observation. So the dbt asset asks for a
resource of this type, which sits with the other resources below every layer, and the code
location binds notify's implementation to it: transform never imports notify.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
from dagster import AssetExecutionContext, AssetObservation, ConfigurableResource


class RevisionNotifier(ConfigurableResource):
    """Announces the historical days a finished re-merge revised."""

    def notify(
        self, context: AssetExecutionContext, conn: duckdb.DuckDBPyConnection
    ) -> Iterator[AssetObservation]:
        """Announce what the run of `context` revised (read through `conn`), and yield what
        to record of it."""
        raise NotImplementedError
