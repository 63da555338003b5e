"""Every malformed scoring request is a 4xx with a message that says what was wrong."""

import json
import math

import pytest
from airsick_serving.validate import MAX_ROWS, Invalid, max_bytes, parse
from airsick_serving.words import chance, reasons

COLUMNS = ["pm2_5_mean", "ozone_max", "sick_today"]


def split(columns, data):
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


def test_a_good_request_is_normalized_to_floats_in_model_order():
    body = split(["sick_today", "pm2_5_mean", "ozone_max"], [[1, 12, None]])
    (row,) = parse(body, COLUMNS)["inputs"]
    assert row[0] == 12.0 and math.isnan(row[1]) and row[2] == 1.0
    records = json.dumps(
        {"dataframe_records": [{"pm2_5_mean": 3, "ozone_max": 4.5, "sick_today": 0}]}
    ).encode()
    assert parse(records, COLUMNS)["inputs"] == [[3.0, 4.5, 0.0]]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"", 400, "body is empty"),
        (b"{nope", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"instances": []}', 400, "dataframe_split or dataframe_records"),
        (split(COLUMNS, []), 400, "no rows"),
        (split(COLUMNS, [[1, 2]]), 400, "Row 0 has 2 values for 3 columns"),
        (split(COLUMNS[:2], [[1, 2]]), 422, "Missing column: sick_today"),
        (split([*COLUMNS, "mood"], [[1, 2, 3, 4]]), 422, "Unknown column: mood"),
        (
            split(COLUMNS, [[1, "high", 0]]),
            422,
            "Column 'ozone_max', row 0: \"high\" is not a number",
        ),
        (split(COLUMNS, [[1, True, 0]]), 422, "is not a number"),
        (
            b'{"dataframe_split": {"columns": ["pm2_5_mean", "ozone_max", "sick_today"], '
            b'"data": [[NaN, 1, 0]]}}',
            400,
            "NaN is not JSON; send null",
        ),
        (
            b'{"dataframe_split": {"columns": ["pm2_5_mean", "ozone_max", "sick_today"], '
            b'"data": [[Infinity, 1, 0]]}}',
            400,
            "Infinity is not JSON",
        ),
        (
            b'{"dataframe_split": {"columns": ["pm2_5_mean", "ozone_max", "sick_today"], '
            b'"data": [[1e400, 1, 0]]}}',
            422,
            "infinite values are not allowed",
        ),
        (b" " * (max_bytes(MAX_ROWS) + 1), 413, "AIRSICK_SERVE_MAX_ROWS"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
        (b'{"dataframe_split": ' * 50_000 + b"1" + b"}" * 50_000, 400, "nested too deeply"),
        (b'{"dataframe_records": [1, 2]}', 400, "list of objects"),
    ],
)
def test_malformed_requests(body, status, says):
    with pytest.raises(Invalid) as error:
        parse(body, COLUMNS)
    assert error.value.status == status
    assert says in error.value.message


def test_words():
    assert chance(0.25) == "about 1 in 4"
    assert chance(0.7) == "about 7 in 10"
    assert chance(0.01).startswith("very unlikely")
    assert (
        reasons([{"factor": "PM2.5", "effect": 0.4}, {"factor": "ozone", "effect": -0.1}])
        == "PM2.5 raised it, ozone lowered it"
    )


def test_ten_thousand_rows_are_accepted_in_either_format_and_the_limit_is_a_setting():
    columns = [f"column_{i:02d}_with_a_long_name" for i in range(92)]
    row = [12.345678] * len(columns)
    data = [row] * 10_000
    assert len(parse(split(columns, data), columns)["inputs"]) == 10_000
    records = json.dumps(
        {"dataframe_records": [dict(zip(columns, row, strict=True))] * 10_000}
    ).encode()
    assert len(parse(records, columns)["inputs"]) == 10_000
    with pytest.raises(Invalid) as error:
        parse(split(columns, data[:101]), columns, max_rows=100)
    assert error.value.status == 413 and "at most 100 " in error.value.message
