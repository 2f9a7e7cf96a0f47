"""`make bench` and `make bench-heal`: the platform's cost at real volume, measured the way
it runs, beside the `orders_platform` package (which never imports it) and not shipped with it.

`python -m benchmarks` generates production-shaped traffic (`volume`), launches every
measured Dagster run as a fresh `dagster` process (`runs`), the way users' and the daemon's
runs are launched, and reads where each run's time went from the run's own event log
(`breakdown`); the other measured steps run in child processes of their own (`steps`).
Each figure is printed beside the hand-written DuckDB floor of the same work (`floor`) and
its target. `python -m benchmarks.heal_latency` measures late event to corrected revenue
under a real `dagster dev`.
"""
