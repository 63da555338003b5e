"""Diary validation: every bad input gets one clear sentence, and nothing partial."""

from datetime import date

import pytest
from airsick_ingestion.diary.events import DiaryError, make_event, parse_sick, read_csv

TODAY = date(2026, 5, 20)


@pytest.mark.parametrize("text", ["yes", "YES", "true", "True", "1", "y", "sick"])
def test_sick_values(text):
    assert parse_sick(text) is True


@pytest.mark.parametrize("text", ["no", "False", "0", "N", "well"])
def test_well_values(text):
    assert parse_sick(text) is False


def test_unknown_sick_value():
    with pytest.raises(DiaryError, match="'maybe' is not a sick value; use yes/no"):
        parse_sick("maybe")


def test_event_checks():
    event = make_event(
        person="p",
        day="2026-05-19",
        sick="yes",
        today=TODAY,
        symptoms="Cough; itchy eyes",
        severity="moderate",
    )
    assert event.symptoms == ("cough", "itchy_eyes") and event.severity == 2
    with pytest.raises(DiaryError, match="in the future"):
        make_event(person="p", day="2026-05-21", sick="no", today=TODAY)
    with pytest.raises(DiaryError, match="YYYY-MM-DD"):
        make_event(person="p", day="20/05/2026", sick="no", today=TODAY)
    with pytest.raises(DiaryError, match="Unknown symptom sneezes"):
        make_event(person="p", day="2026-05-19", sick="yes", today=TODAY, symptoms="sneezes")
    with pytest.raises(DiaryError, match="not a severity"):
        make_event(person="p", day="2026-05-19", sick="yes", today=TODAY, severity="7")
    with pytest.raises(DiaryError, match="logged as well"):
        make_event(person="p", day="2026-05-19", sick="no", today=TODAY, severity="1")


def test_same_content_same_hash_whenever_recorded():
    a = make_event(person="p", day="2026-05-19", sick="yes", today=TODAY, symptoms="cough")
    b = make_event(person="p", day="2026-05-19", sick="1", today=TODAY, symptoms="Cough")
    c = make_event(person="p", day="2026-05-19", sick="no", today=TODAY)
    assert a.content_hash == b.content_hash != c.content_hash


def test_csv_import_reads_all_known_columns(tmp_path):
    path = tmp_path / "diary.csv"
    path.write_text(
        "Date,Sick,symptoms,severity,note\n"
        "2026-05-18,no,,,\n"
        "2026-05-19,YES,cough;wheeze,2,bad night\n"
    )
    events = read_csv(path, person="p", today=TODAY)
    assert [e.sick for e in events] == [False, True]
    assert events[1].symptoms == ("cough", "wheeze") and events[1].note == "bad night"
    assert all(e.source == "import" for e in events)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("day,sick\n2026-05-18,no\n", "no column date"),
        ("date,sick,mood\n2026-05-18,no,ok\n", "unknown column mood"),
        ("date,sick\n2026-05-18,no\n2026-05-19,perhaps\n", "line 3: 'perhaps' is not a sick"),
        ("date,sick\n2026-05-18,no\n2026-05-18,yes\n", "line 3: 2026-05-18 is already on line 2"),
        ("date,sick\n2027-01-01,no\n", "line 2: 2027-01-01 is in the future"),
        ("date,sick\n", "has no entries"),
    ],
)
def test_bad_files_name_the_problem_and_write_nothing(tmp_path, content, says):
    path = tmp_path / "diary.csv"
    path.write_text(content)
    with pytest.raises(DiaryError, match=says):
        read_csv(path, person="p", today=TODAY)


def test_missing_or_binary_file(tmp_path):
    with pytest.raises(DiaryError, match="does not exist"):
        read_csv(tmp_path / "nope.csv", person="p", today=TODAY)
    binary = tmp_path / "diary.csv"
    binary.write_bytes(b"\xff\xfe\x00date")
    with pytest.raises(DiaryError, match="not UTF-8"):
        read_csv(binary, person="p", today=TODAY)
