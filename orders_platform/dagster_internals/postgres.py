"""The production instance's event log: dagster-postgres's, keeping its connections open.

dagster-postgres opens a new connection for every write to the event log (`NullPool`), which
on PostgreSQL with password authentication costs more than the write itself, and a run writes
one event per day for each of its assets and checks. `PooledPostgresEventLogStorage` keeps a
few connections open in each process instead, as dagster-postgres already does for its
webserver; `ORDERS_PG_EVENT_LOG_POOL=false` returns to stock dagster-postgres. The instance
names it in deploy/dagster.yaml. A module of its own so that only processes whose instance
is on PostgreSQL import dagster-postgres.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)

from orders_platform import settings

# Connections an event log keeps open per process, and how many more it may open at once
# (the daemon writes from several threads); kept ones are recycled after an hour.
_EVENT_LOG_POOL_SIZE = 1
_EVENT_LOG_POOL_OVERFLOW = 16
_EVENT_LOG_POOL_RECYCLE_SECONDS = 3600


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres's event log, keeping its connections between writes."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
    ):
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        if settings.pg_event_log_pool():
            self._engine = create_pg_engine(
                self.postgres_url,
                self._token_provider,
                isolation_level="AUTOCOMMIT",
                pool_size=_EVENT_LOG_POOL_SIZE,
                max_overflow=_EVENT_LOG_POOL_OVERFLOW,
                pool_recycle=_EVENT_LOG_POOL_RECYCLE_SECONDS,
                pool_pre_ping=True,
            )

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
