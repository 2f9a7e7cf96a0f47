"""Package definition for the orders_platform Dagster code location.

Versions are pinned exactly so that a fresh machine resolves the same environment that CI
tested; `constraints.txt` pins the transitive dependencies.
"""

from setuptools import find_packages, setup

setup(
    name="orders_platform",
    version="0.1.0",
    description="Late-arriving order events to trustworthy daily revenue (Dagster + dbt + DuckDB).",
    # the benchmarks (`benchmarks/`) and the tests run from the repository root; not shipped
    packages=find_packages(
        exclude=["orders_platform_tests", "orders_platform_tests.*", "benchmarks", "benchmarks.*"]
    ),
    python_requires=">=3.11,<3.13",
    install_requires=[
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-dbt==0.29.27",
        "dagster-duckdb==0.29.27",
        # the production instance's run, event-log and schedule storage (deploy/dagster.yaml).
        # dagster-postgres uses psycopg2 (its retries read psycopg2's error codes), and the
        # instance names the driver in its URL scheme (`postgresql+psycopg2`): with the pinned
        # SQLAlchemy, a bare `postgresql://` would mean psycopg 3, which is not installed.
        "dagster-postgres==0.29.27",
        "psycopg2-binary==2.9.13",
        # dbt-core 1.12 downloads a SQL parser binary from the internet while installing, which
        # fails on machines that only reach the package registries; 1.11 is self-contained.
        "dbt-core>=1.11,<1.12",
        "dbt-duckdb==1.11.1",
        "duckdb==2.0.0",
        "pandas==3.1.1",
    ],
    extras_require={
        # ORDERS_ENGINE=spark: dbt's Spark adapter in session mode and Spark itself (needs
        # Java 17+: scripts/install-java). Kept out of the default install so the DuckDB
        # quickstart does not download Spark (~450 MB).
        "spark": [
            "dbt-spark[session]==1.11.0",
            "pyspark==4.3.0",
        ],
        "dev": [
            "pytest==9.2.0",
            # test files side by side on both cores (`make test` runs -n 2)
            "pytest-xdist==3.8.0",
            "hypothesis==6.170.15",
            # drives Debian's /usr/bin/chromium in `make e2e`; its own browser download is
            # never used (it cannot reach its download host here)
            "playwright==1.65.2",
            "ruff==0.17.6",
            "sqlfluff==4.4.0",
            "sqlfluff-templater-dbt==4.4.0",
        ],
    },
)
