"""The core every airsick component stands on, with nothing heavy in it.

- ``settings``: the one settings object (environment variables and ``.env``);
- ``names``: the names the components share (raw tables, marts, the model, the variables);
- ``places``: a person's named places;
- ``lake``: where the lake, its raw zone and the lakehouse are.

No dbt, dlt, DuckDB or Prefect: the app, the model server and the notebooks import it freely.
"""
