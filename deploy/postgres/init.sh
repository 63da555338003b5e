#!/bin/sh
# Creates one database and one owner per service (Prefect, MLflow, the DuckLake catalog).
# Run once by the postgres image on an empty volume, and by the native topology test.
# Passwords come from the environment; an empty one stops everything.
set -eu

for name in PREFECT MLFLOW DUCKLAKE; do
    eval "password=\${${name}_DB_PASSWORD:-}"
    if [ -z "$password" ]; then
        echo "${name}_DB_PASSWORD is empty: set it in .env" >&2
        exit 1
    fi
done

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v prefect_password="$PREFECT_DB_PASSWORD" \
    -v mlflow_password="$MLFLOW_DB_PASSWORD" \
    -v ducklake_password="$DUCKLAKE_DB_PASSWORD" <<'SQL'
CREATE ROLE prefect LOGIN PASSWORD :'prefect_password';
CREATE DATABASE prefect OWNER prefect;
CREATE ROLE mlflow LOGIN PASSWORD :'mlflow_password';
CREATE DATABASE mlflow OWNER mlflow;
CREATE ROLE ducklake LOGIN PASSWORD :'ducklake_password';
CREATE DATABASE ducklake OWNER ducklake;
-- Nobody but each owner connects to its database.
REVOKE CONNECT ON DATABASE prefect, mlflow, ducklake FROM PUBLIC;
SQL
