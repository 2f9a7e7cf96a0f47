"""Start ingestion as soon as complete files land, instead of waiting for the hourly run.

Reads only the landing directory (never the warehouse), so it can run while a re-merge holds
the DuckDB file. Runs are queued behind the writer pool like any other.
"""

import hashlib
import json

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orders_platform import settings
from orders_platform.ingestion.load_steps import pending_files
from orders_platform.jobs import ingest_orders_job


@sensor(
    job=ingest_orders_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING
)
def landing_file_sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
    landing = settings.landing_dir()
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    current = {p.relative_to(landing).as_posix() for p in pending_files(landing)}
    new = sorted(current - seen)
    if not new:
        return SkipReason("no new landing files")
    run_key = hashlib.sha256("\n".join(new).encode()).hexdigest()[:16]
    return SensorResult(
        run_requests=[RunRequest(run_key=run_key, tags={"orders/new_files": str(len(new))})],
        cursor=json.dumps(sorted(current)),
    )
