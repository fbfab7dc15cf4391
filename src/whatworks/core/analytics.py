"""Analytics engines behind one interface: DuckDB (embedded, the default) or Spark.

Child-level measures are written once as Ibis expressions and run on whichever engine
`WHATWORKS_ENGINE` names. DuckDB runs in-process with nothing to install. Spark runs in
local mode by default, or on a cluster when `WHATWORKS_SPARK_MASTER` names one; its
session takes seconds to start, so one is shared by the whole process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis

from whatworks.core.errors import ConfigurationError

_spark_lock = threading.Lock()
_spark: Any = None


def spark_session() -> Any:
    """The process's Spark session, started on first use (local mode unless configured)."""
    global _spark
    with _spark_lock:
        if _spark is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise ConfigurationError(
                    "WHATWORKS_ENGINE is spark but PySpark is not installed; install the "
                    "extra with `pip install 'whatworks[spark]'` (it needs Java 17)."
                ) from None
            master = os.environ.get("WHATWORKS_SPARK_MASTER", "local[2]")
            _spark = (
                SparkSession.builder.master(master)
                .appName("whatworks")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_PARTITIONS", "4"))
                .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
                .config("spark.sql.ansi.enabled", "false")
                .getOrCreate()
            )
            _spark.sparkContext.setLogLevel("ERROR")
        return _spark


def connect(engine: str = "duckdb") -> Any:
    """An Ibis backend for `engine` ("duckdb" or "spark")."""
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        return ibis.pyspark.connect(spark_session())
    raise ConfigurationError(f"Unknown analytics engine {engine!r}; use duckdb or spark.")


def read_parquet(backend: Any, paths: Sequence[Path], name: str) -> Any:
    """One Ibis table over Parquet files that share a schema."""
    files = [str(path) for path in paths]
    if not files:
        raise ValueError(f"no Parquet files for {name}")
    if backend.name == "pyspark":  # Ibis would pass a list to Spark as one glob pattern
        spark_session().read.parquet(*files).createOrReplaceTempView(name)
        return backend.table(name)
    return backend.read_parquet(files, table_name=name)
