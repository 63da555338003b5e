import pytest
from airsick_core.places import Place, PlaceError, parse_place, parse_places


def test_parse_place_with_and_without_timezone():
    assert parse_place("home=40.42,-3.70", "Europe/Madrid") == Place(
        "home", 40.42, -3.70, "Europe/Madrid"
    )
    assert parse_place("work=52.5,13.4,Europe/Berlin").timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("home", "NAME=LAT,LON"),
        ("home=abc,1", "not numbers"),
        ("home=91,0", "Latitude"),
        ("home=0,181", "Longitude"),
        ("Home Town=1,1", "not valid"),
        ("home=1,1,Mars/Olympus", "IANA"),
    ],
)
def test_bad_places_say_what_to_fix(text, says):
    with pytest.raises(PlaceError, match=says):
        parse_place(text)


def test_place_names_are_unique():
    with pytest.raises(PlaceError, match="unique"):
        parse_places("a=1,1,UTC;a=2,2,UTC")
    assert [p.name for p in parse_places("a=1,1,UTC; b=2,2,UTC;")] == ["a", "b"]
