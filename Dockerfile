# syntax=docker/dockerfile:1.7
# One image recipe for every airsick component: PACKAGE names the workspace member to install
# (airsick-orchestration, airsick-training, airsick-serving, airsick-notebooks), and only it
# and what it depends on are installed from uv.lock. compose.yml builds one image per member
# and gives each service its `command:`.
ARG PACKAGE=airsick-orchestration

FROM ghcr.io/astral-sh/uv:0.9.7 AS uv

FROM python:3.11.14-slim-bookworm AS build
ARG PACKAGE
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The lock and every member's metadata first: dependencies stay cached while code changes.
COPY pyproject.toml uv.lock ./
COPY core/pyproject.toml core/pyproject.toml
COPY lakehouse/pyproject.toml lakehouse/pyproject.toml
COPY ingestion/pyproject.toml ingestion/pyproject.toml
COPY stores/pyproject.toml stores/pyproject.toml
COPY standin/pyproject.toml standin/pyproject.toml
COPY transform/pyproject.toml transform/pyproject.toml
COPY training/pyproject.toml training/pyproject.toml
COPY serving/pyproject.toml serving/pyproject.toml
COPY orchestration/pyproject.toml orchestration/pyproject.toml
COPY marimo_notebooks/pyproject.toml marimo_notebooks/pyproject.toml
RUN uv sync --frozen --no-dev --no-install-workspace --package "$PACKAGE"
COPY . .
RUN uv sync --frozen --no-dev --no-editable --package "$PACKAGE"

FROM python:3.11.14-slim-bookworm
RUN useradd --create-home --uid 10001 airsick \
    && mkdir -p /home/airsick/state && chown airsick:airsick /home/airsick/state
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
USER airsick
WORKDIR /home/airsick
