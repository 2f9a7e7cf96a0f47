"""The production deployment on one machine: PostgreSQL, then Dagster as separate processes.

`python -m deploy up|down|status|reload` (what `make prod-up`, `make prod-down`,
`make prod-status` and `make prod-reload` run). PostgreSQL holds the Dagster instance (runs,
event log, schedules); a gRPC code server serves `orders_platform.definitions`; the webserver
and the daemon load it from there (deploy/workspace.yaml). Every process has a log file and a
pid file under the deployment's directory. The end-to-end test starts the same deployment,
through the same functions, in a directory and on ports of its own.

The runbook is docs/operations.md.
"""
