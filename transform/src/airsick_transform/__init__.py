"""Transform: the dbt-duckdb project (``transform/dbt``) and the functions that run it.

Modules:
    lakehouse: where the DuckLake catalog and data live, connecting to it, maintenance.
    extensions: DuckDB extensions installed from their PyPI packages, never downloaded.
    runner: ``dbt build`` and ``dbt docs generate`` through dbt's Python API.
"""
