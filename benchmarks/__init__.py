"""`make bench`: the platform's cost at real volume, measured the way it runs.

The parent (`benchmarks.__main__`) generates traffic with the project's own
generator, then runs every measured step in a fresh child process (`bench.steps`), so each
step pays its real start-up cost and its peak memory (RSS, including the dbt subprocess)
is read from the kernel when the child exits. Figures are medians over `--repeats` runs.
"""
