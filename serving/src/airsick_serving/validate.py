"""Check a scoring request before the model sees it: every problem is a 4xx that says why.

Accepted bodies are MLflow's ``dataframe_split`` and ``dataframe_records`` with the model's
named columns. What goes on to the model server is ``{"inputs": matrix}``: the model's
columns in its order, as floats, missing values as NaN (its signature is one tensor).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

MAX_ROWS = 20_000  # the default of AIRSICK_SERVE_MAX_ROWS
PERSON = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # as airsick_stores.people names them
# A row as dataframe_records, with every column name spelled out, takes about 3 KB.
BYTES_PER_ROW = 4096


def max_bytes(max_rows: int) -> int:
    """The largest body accepted for ``max_rows`` rows, in either format."""
    return max_rows * BYTES_PER_ROW + 65_536


@dataclass(frozen=True)
class Invalid(Exception):
    """A request the server refuses: HTTP status and a one-sentence message."""

    status: int
    message: str


def _no_constants(token: str) -> float:
    raise Invalid(400, f"{token} is not JSON; send null for a missing value.")


def _number(value: object, column: str, row: int) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(422, f"Column '{column}', row {row}: {json.dumps(value)} is not a number.")
    number = float(value)
    if math.isinf(number):
        raise Invalid(422, f"Column '{column}', row {row}: infinite values are not allowed.")
    return number


def parse(body: bytes, columns: list[str], max_rows: int = MAX_ROWS, person: str = "") -> dict:
    """Return the normalized request for ``body`` (the rows as one ``inputs`` matrix, and
    whose they are as ``params``: the request's ``person``, else ``person``), or raise
    Invalid.

    Long because it is the checks in the order a request meets them (size, JSON, shape,
    columns, rows, values), each with the one sentence its 4xx says.
    """
    limit = max_bytes(max_rows)
    if len(body) > limit:
        raise Invalid(
            413,
            f"The request is {len(body):,} bytes; send at most {limit:,} "
            f"(up to {max_rows:,} rows, AIRSICK_SERVE_MAX_ROWS).",
        )
    if not body.strip():
        raise Invalid(400, "The request body is empty; send a JSON dataframe_split.")
    try:
        payload = json.loads(body, parse_constant=_no_constants)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise Invalid(
            400, f"The request is not valid JSON ({error.msg if hasattr(error, 'msg') else error})."
        ) from error
    except RecursionError as error:
        raise Invalid(
            400, "The request is nested too deeply; send a flat dataframe_split."
        ) from error
    if not isinstance(payload, dict):
        raise Invalid(
            400, "The request must be a JSON object with dataframe_split or dataframe_records."
        )
    params = payload.get("params") or {}
    if not isinstance(params, dict):
        raise Invalid(400, 'params must be an object, for example {"person": "ana"}.')
    person = params.get("person", person)
    if (person or "person" in params) and (
        not isinstance(person, str) or not PERSON.fullmatch(person)
    ):
        raise Invalid(400, "params.person must name a person (lower-case letters, digits, - or _).")
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        if (
            not isinstance(split, dict)
            or not isinstance(split.get("columns"), list)
            or not isinstance(split.get("data"), list)
        ):
            raise Invalid(400, "dataframe_split needs a 'columns' list and a 'data' list of rows.")
        given, data = split["columns"], split["data"]
        for index, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(given):
                raise Invalid(
                    400,
                    f"Row {index} has {len(row) if isinstance(row, list) else 'no'} "
                    f"values for {len(given)} columns.",
                )
        records = [dict(zip(given, row, strict=True)) for row in data]
    elif "dataframe_records" in payload:
        records = payload["dataframe_records"]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise Invalid(400, "dataframe_records must be a list of objects, one per row.")
        given = list(dict.fromkeys(k for r in records for k in r))
    else:
        raise Invalid(400, "Send the rows as dataframe_split or dataframe_records.")
    if not records:
        raise Invalid(400, "The request has no rows; send at least one.")
    if len(records) > max_rows:
        raise Invalid(
            413,
            f"The request has {len(records):,} rows; send at most {max_rows:,} "
            "(AIRSICK_SERVE_MAX_ROWS), or split it.",
        )
    missing = [c for c in columns if c not in given]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise Invalid(422, f"Missing column{'s' if len(missing) > 1 else ''}: {shown}.")
    extra = [c for c in given if c not in columns]
    if extra:
        shown = ", ".join(map(str, extra[:5])) + (
            f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        )
        raise Invalid(
            422,
            f"Unknown column{'s' if len(extra) > 1 else ''}: {shown}; "
            "send the model's inputs only (GET /airsick/model lists them).",
        )
    rows = [[_number(r.get(c), c, i) for c in columns] for i, r in enumerate(records)]
    return {"inputs": rows, **({"params": {"person": person}} if person else {})}
