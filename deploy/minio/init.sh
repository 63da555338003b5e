#!/bin/sh
# One-shot MinIO setup: the lake and MLflow buckets, and one least-privilege user per
# service (see the policies next to this file). Safe to run again.
set -eu

require() {
    for name in "$@"; do
        eval "value=\${$name:-}"
        if [ -z "$value" ]; then
            echo "$name is empty: set it in .env" >&2
            exit 1
        fi
    done
}
require MINIO_ROOT_USER MINIO_ROOT_PASSWORD \
    LAKE_PIPELINE_ACCESS_KEY LAKE_PIPELINE_SECRET_KEY \
    LAKE_APP_ACCESS_KEY LAKE_APP_SECRET_KEY \
    LAKE_READER_ACCESS_KEY LAKE_READER_SECRET_KEY \
    MLFLOW_S3_ACCESS_KEY MLFLOW_S3_SECRET_KEY

mc alias set airsick http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing airsick/lake airsick/mlflow
# The lake keeps every object's older versions (an overwritten or deleted file can be
# restored) for 30 days, then lets them expire: what `airsick forget` removes is gone from
# the bucket's history too after that. Importing the rule replaces it: safe to rerun.
mc version enable airsick/lake
mc ilm import airsick/lake < /init/lake-lifecycle.json

user() {  # access key, secret key, policy name
    mc admin policy create airsick "$3" "/init/policies/$3.json"
    mc admin user add airsick "$1" "$2"
    mc admin policy attach airsick "$3" --user "$1" || true  # already attached on a rerun
}
user "$LAKE_PIPELINE_ACCESS_KEY" "$LAKE_PIPELINE_SECRET_KEY" lake-pipeline
user "$LAKE_APP_ACCESS_KEY" "$LAKE_APP_SECRET_KEY" lake-app
user "$LAKE_READER_ACCESS_KEY" "$LAKE_READER_SECRET_KEY" lake-reader
user "$MLFLOW_S3_ACCESS_KEY" "$MLFLOW_S3_SECRET_KEY" mlflow-artifacts
echo "buckets and users ready"
