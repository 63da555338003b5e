"""The one settings object: defaults, the environment, and example.env listing every variable."""

import re
from pathlib import Path

import pytest
from airsick_core.settings import Settings
from pydantic import ValidationError

REPO = Path(__file__).resolve().parents[2]


def test_defaults_live_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRSICK_HOME", str(tmp_path / "h"))
    settings = Settings()
    assert settings.lake == str(tmp_path / "h" / "lake")
    assert settings.pipelines_dir == tmp_path / "h" / "dlt"
    assert settings.s3 is None
    assert [p.name for p in settings.place_list] == ["home"]
    assert not (tmp_path / "h").exists(), "building settings must create nothing"


def test_environment_and_s3(monkeypatch):
    monkeypatch.setenv("AIRSICK_LAKE_URL", "s3://lake/airsick")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AIRSICK_PLACES", "a=1,2,UTC;b=3,4,Europe/Paris")
    settings = Settings()
    assert settings.lake == "s3://lake/airsick"
    assert settings.s3.endpoint_url == "http://127.0.0.1:9000"
    assert [p.timezone for p in settings.place_list] == ["UTC", "Europe/Paris"]


def test_dotenv_is_read_and_empty_values_mean_default(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRSICK_HOME")
    (tmp_path / ".env").write_text("AIRSICK_HOME=\nAIRSICK_PERSON=ana\n")
    settings = Settings()
    assert settings.person == "ana"
    assert settings.home.name == ".airsick"


def test_bad_places_are_refused(monkeypatch):
    monkeypatch.setenv("AIRSICK_PLACES", "home=95,1,UTC")
    with pytest.raises(ValidationError, match="Latitude"):
        Settings()


def test_example_env_lists_every_setting():
    listed = set(re.findall(r"^([A-Z_]+)=", (REPO / "example.env").read_text(), re.M))
    expected = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        expected.add(alias.choices[0] if alias else f"AIRSICK_{name.upper()}")
    assert expected <= listed, f"missing from example.env: {sorted(expected - listed)}"


def test_secret_settings_are_masked_when_shown_and_usable_however_set(tmp_path):
    settings = Settings(
        home=tmp_path,
        mlflow_tracking_uri="postgresql://mlflow:pw@db/mlflow",
        notify_url="ntfy://token@host/topic",
        ducklake_catalog="postgres:dbname=d password=pw",
    )
    assert "pw" not in repr(settings) and "token" not in repr(settings)
    assert settings.tracking_uri == "postgresql://mlflow:pw@db/mlflow"
    assert settings.notify_target == "ntfy://token@host/topic"
    assert settings.lakehouse.catalog == "postgres:dbname=d password=pw"
    assert "pw" not in str(settings.as_parameters())
    # model_copy(update=...) does not validate: a plain string must work the same.
    copied = settings.model_copy(update={"mlflow_tracking_uri": "http://127.0.0.1:5000"})
    assert copied.tracking_uri == "http://127.0.0.1:5000"


def test_a_misspelt_variable_is_an_error_naming_the_setting_meant(monkeypatch):
    from airsick_core.settings import UnknownSettingError

    monkeypatch.setenv("AIRSICK_PALCES", "home=1,2,UTC")
    with pytest.raises(UnknownSettingError, match=r"AIRSICK_PALCES .* did you mean AIRSICK_PLACES"):
        Settings()


def test_a_name_like_no_setting_points_at_example_env(monkeypatch):
    from airsick_core.settings import UnknownSettingError

    monkeypatch.setenv("AIRSICK_XYZZY", "1")
    with pytest.raises(UnknownSettingError, match=r"example\.env lists every setting"):
        Settings()


def test_a_misspelt_variable_in_dotenv_is_an_error_too(tmp_path, monkeypatch):
    from airsick_core.settings import UnknownSettingError

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AIRSICK_NOTIFY_TRESHOLD=0.3\nPOSTGRES_PASSWORD=x\n")
    with pytest.raises(UnknownSettingError, match="did you mean AIRSICK_NOTIFY_THRESHOLD"):
        Settings()


def test_what_airsick_hands_dbt_and_other_prefixes_are_not_settings_errors(monkeypatch):
    from airsick_core.lake import Lakehouse

    for lake in ("/tmp/lake", "s3://lake/airsick"):
        for name in Lakehouse(lake, "sqlite:/tmp/c.sqlite").dbt_environment():
            monkeypatch.setenv(name, "x")
    monkeypatch.setenv("AIRSICK_TODAY", "2026-01-01")
    monkeypatch.setenv("AIRSICK_TEST_ANYTHING", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    Settings()


def test_every_setting_has_one_concern_and_example_env_groups_them_the_same_way():
    from airsick_core.settings import GROUPS, variable

    grouped = [name for fields in GROUPS.values() for name in fields]
    assert sorted(grouped) == sorted(Settings.model_fields), "each setting in exactly one group"
    sections: dict[str, set[str]] = {}
    current = None
    for line in (REPO / "example.env").read_text().splitlines():
        if line.startswith("# --- "):
            current = line.removeprefix("# --- ").rstrip("- ").split(" (only")[0]
            sections[current] = set()
        elif (found := re.match(r"#? ?((?:AIRSICK|AWS)_[A-Z_]+)=", line)) and current:
            sections[current].add(found.group(1))
    for group, fields in GROUPS.items():
        assert sections.get(group) == {variable(name) for name in fields}, group


def test_airsick_settings_shows_each_concern_and_hides_secrets(monkeypatch):
    from airsick_orchestration.cli import app
    from typer.testing import CliRunner

    monkeypatch.setenv("AIRSICK_NOTIFY_URL", "json://secret.example/hook")
    monkeypatch.setenv("AIRSICK_PERSON", "ana")
    shown = CliRunner().invoke(app, ["settings"], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    assert "secret.example" not in shown.output and "(hidden)" in shown.output
    assert re.search(r"AIRSICK_PERSON\s+ana\s+set", shown.output)
    assert "Messages: the evening alert" in shown.output and "AWS_REGION" in shown.output
