"""The kind of resource through which the platform tells people which days a re-merge revised.

Telling people is the last step of the data path (`orders_platform.notify`), yet it runs
inside the order-history dbt asset's step: there, once dbt has exited, the revisions it
linked are read and the notice's outcome is recorded as an observation. So the dbt asset asks for a
resource of this type, which sits with the other resources below every layer, and the code
location binds notify's implementation to it: transform never imports notify.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
from dagster import AssetExecutionContext, AssetObservation, ConfigurableResource


class RevisionNotifier(ConfigurableResource):
    """Announces the historical days a re-merge revised, once their orders are linked."""

    def notify(
        self, context: AssetExecutionContext, conn: duckdb.DuckDBPyConnection
    ) -> Iterator[AssetObservation]:
        """Announce the revisions the run of `context` linked (read through `conn`), and
        yield what to record of it."""
        raise NotImplementedError
