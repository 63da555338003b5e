"""Transform: the dbt-duckdb project (``transform/dbt``) and the functions that run it.

Modules:
    runner: ``dbt build`` and ``dbt docs generate`` through dbt's Python API.
    docs: serving the generated docs page.

The DuckLake catalog, connections and maintenance live in ``airsick_lakehouse``.
"""
