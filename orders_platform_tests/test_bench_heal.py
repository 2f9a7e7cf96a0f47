"""`make bench-heal` at a tiny size: a late file is healed under a real `dagster dev`, every
phase of the heal is reported, and the healed day's revenue is exactly its refunds lower.

No timing is asserted: the latency is the benchmark's figure (docs/performance.md), and
this machine's load is not the code's fault.
"""

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from orders_platform.settings import REPO_ROOT

pytestmark = pytest.mark.slow

PHASES = [
    "drop -> ingestion run queued (landing sensor)",
    "ingestion run queued -> launched (run queue)",
    "ingestion run launched -> started (run worker)",
    "ingestion run started -> finished",
    "late days observed -> heal run queued (automation sensor)",
    "heal run queued -> launched (run queue)",
    "heal run launched -> started (run worker)",
    "heal run started -> revenue_daily materialized",
    "revenue_daily materialized -> checks passed",
    "checks passed -> heal run finished",
]
TOTALS = [
    "drop -> revenue_daily corrected",
    "drop -> checks passed",
    "drop -> heal run finished",
]


def test_a_late_refund_is_healed_with_every_phase_reported(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.heal_latency",
            "--days",
            "22",
            "--events-per-day",
            "400",
            "--scenarios",
            "one-day",
            "--repeats",
            "1",
            "--timeout",
            "300",
            "--dir",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    [scenario] = results["scenarios"]
    assert [p["phase"] for p in scenario["phases"]] == PHASES
    assert [t["phase"] for t in scenario["totals"]] == TOTALS
    for phase in scenario["phases"] + scenario["totals"]:
        assert phase["seconds"] > 0, phase
        assert phase["phase"] in completed.stdout
    [day] = scenario["days"]
    refunded = Decimal(scenario["refunded"][day])
    assert refunded > 0
    before, after = (Decimal(scenario[k][day]) for k in ("revenue_before", "revenue_after"))
    assert after == before - refunded
    # the runs the timeline names are the ones the instance recorded in the writer pool
    jobs = {span["run_id"]: span["job"] for span in scenario["writer_pool"]}
    assert jobs[scenario["ingestion_run"]] == "ingest_orders_job"
    assert scenario["heal_run"] in jobs
    assert results["machine"]["cores"] >= 1
    assert "drop -> checks passed" in (tmp_path / "results.md").read_text()
    assert not (tmp_path / "run").exists()  # the platform is deleted
