"""The marimo app in a real browser (Playwright driving Debian's Chromium).

The app runs as `airsick app` against the demo home, next to `airsick serve`: it shows a
real prediction from the model server, writes the diary through its form, and says so in
one line when the model server is down. Screenshots at 1280 and 390 px go to test-artifacts.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from airsick_core.http import free_port
from airsick_core.settings import Settings

from tests.conftest import ARTIFACTS, airsick_command

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTHS = {"laptop": 1280, "phone": 390}


def wait_until(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="module")
def running(demo_home, tmp_path_factory):
    """`airsick serve` and `airsick app` on free ports; yields their URLs and processes."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    env = {
        **demo_home["env"],
        "AIRSICK_SERVE_PORT": str(free_port()),
        "AIRSICK_APP_PORT": str(free_port()),
    }
    logs = tmp_path_factory.mktemp("browser-logs")
    model = subprocess.Popen(
        airsick_command("serve"), env=env, stdout=(logs / "serve.log").open("w"), stderr=-2
    )
    app = subprocess.Popen(
        airsick_command("app"), env=env, stdout=(logs / "app.log").open("w"), stderr=-2
    )
    model_url = f"http://127.0.0.1:{env['AIRSICK_SERVE_PORT']}"
    app_url = f"http://127.0.0.1:{env['AIRSICK_APP_PORT']}"
    try:
        wait_until(f"{model_url}/ping")
        wait_until(f"{app_url}/health")
        yield {"model": model_url, "app": app_url, "model_process": model, "env": env}
    finally:
        for process in (app, model):
            process.terminate()
            process.wait(timeout=60)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def open_app(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 2600})
    page.goto(url)
    # Cells arrive over a websocket: wait for the last section's heading and its content.
    page.get_by_role("heading", name="How the model has done").wait_for(timeout=120_000)
    page.get_by_text("chance of being sick").first.wait_for(timeout=120_000)
    return page


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.wait_for_timeout(1500)  # let the charts draw
    page.screenshot(path=str(path), full_page=True)
    return path


def test_the_app_shows_the_model_servers_prediction_and_my_triggers_at_both_widths(
    running, browser
):
    """One page at each width (each opened page is a notebook session of its own): the
    model server's answer for tomorrow, then what affects me."""
    from airsick_core.settings import Settings
    from airsick_lakehouse import connect
    from airsick_serving.client import AirsickClient
    from airsick_stores import Registry

    settings = Settings(home=running["env"]["AIRSICK_HOME"])
    with connect(settings.lakehouse) as con:
        rows = con.execute(
            "select * from lake.marts.fct_scoring_features order by local_date limit 1"
        ).df()
    (expected,) = AirsickClient(running["model"]).predict(rows)
    latest, _ = Registry(settings.tracking_uri).triggers(settings.person)
    raising = [t for t in latest["triggers"] if t["verdict"] == "raises your risk"]
    assert raising, "the demo persona's diary shows at least one trigger"
    for name, width in WIDTHS.items():
        page = open_app(browser, running["app"], width)
        text = page.inner_text("body")
        assert f"{expected.probability:.0%} chance of being sick" in text
        assert f"model version {expected.model_version}" in text
        # How personal the answer is, in the person's words.
        assert f"from your {expected.evidence_days} logged days" in text
        assert "not answering" not in text
        assert "The air and the weather in the coming days" in text
        # The form lives in marimo's shadow DOM, out of inner_text's reach: locate it.
        assert page.get_by_role("button", name="Log this day").is_visible()
        # Nothing runs off the side of a phone.
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width + 1, f"{overflow} px wide at {width} px"
        assert screenshot(page, f"app-{name}").stat().st_size > 20_000
        _my_triggers(page, latest, raising)
        assert screenshot(page, f"app-triggers-{name}").stat().st_size > 20_000
        page.close()


def _my_triggers(page, latest: dict, raising: list[dict]) -> None:
    heading = page.get_by_role("heading", name="What affects me")
    heading.scroll_into_view_if_needed()
    page.get_by_text(f"From your {latest['labelled_days']} logged days (training").wait_for()
    # The forest plot is drawn (Vega renders it as an SVG or a canvas).
    chart = page.locator(".vega-embed").filter(has=page.locator("canvas, svg"))
    assert chart.count() >= 1
    # The table (in marimo's shadow DOM) says each verdict in words and names what raises
    # the risk.
    for trigger in raising:
        row = page.locator("tr", has_text=trigger["label"]).first
        row.wait_for(timeout=30_000)
        assert "raises your risk" in row.inner_text()
    # The backtest stands apart from the evening-before predictions, from the first day.
    page.get_by_text("(not predictions you received)").wait_for(timeout=30_000)


def test_logging_a_day_through_the_form_lands_in_the_lake(running, browser):
    page = open_app(browser, running["app"], WIDTHS["laptop"])
    note = f"browser test {time.time_ns()}"
    page.get_by_role("radio", name="sick").check()
    page.locator("select").filter(has_text="moderate").select_option("mild")
    page.get_by_placeholder("Anything worth remembering").fill(note)
    page.get_by_role("button", name="Log this day").click()
    page.get_by_text(" as sick.").wait_for(timeout=60_000)
    # At once in the history table (not only in the form's own text box).
    page.locator("td", has_text=note).first.wait_for(timeout=60_000)
    row = page.locator("tr", has_text=note).first.inner_text()
    assert "sick" in row and "mild" in row
    screenshot(page, "app-diary-logged")
    page.close()

    lake = Path(running["env"]["AIRSICK_HOME"]) / "lake" / "raw" / "diary" / "*.parquet"
    written = duckdb.sql(
        f"select date, sick, severity, source from read_parquet('{lake}') where note = ?",
        params=[note],
    ).fetchall()
    assert len(written) == 1
    day, sick, severity, source = written[0]
    # "Today" is the person's, in their first place (Madrid is ahead of UTC in the evening).
    today = Settings(home=running["env"]["AIRSICK_HOME"]).today()
    assert sick and severity == 1 and source == "app" and day <= today


def test_a_stopped_model_server_gets_one_friendly_line_and_the_rest_works(running, browser):
    running["model_process"].terminate()
    running["model_process"].wait(timeout=60)
    page = browser.new_page(viewport={"width": WIDTHS["phone"], "height": 2600})
    page.goto(running["app"])
    page.get_by_text("The model server is not answering").wait_for(timeout=120_000)
    page.get_by_role("heading", name="How the model has done").wait_for(timeout=120_000)
    text = page.inner_text("body")
    # The last stored predictions stand in, and the other sections still work.
    assert "chance of being sick" in text
    assert page.get_by_role("button", name="Log this day").is_visible()
    assert page.get_by_text("not answering").count() == 1
    screenshot(page, "app-model-server-down-phone")
    page.close()


def test_the_risk_waits_until_today_is_logged_or_asked_for(running, browser, tmp_path):
    """With today not in the diary yet, the page leads with the diary form; the numbers
    come on request (AirRater's order: report first, then see the air)."""
    from datetime import timedelta

    settings = Settings(home=running["env"]["AIRSICK_HOME"])
    env = {
        **running["env"],
        "AIRSICK_APP_PORT": str(free_port()),
        "AIRSICK_AS_OF": (settings.today() + timedelta(days=1)).isoformat(),
    }
    app = subprocess.Popen(
        airsick_command("app"), env=env, stdout=(tmp_path / "app.log").open("w"), stderr=-2
    )
    try:
        url = f"http://127.0.0.1:{env['AIRSICK_APP_PORT']}"
        wait_until(f"{url}/health")
        page = browser.new_page(viewport={"width": WIDTHS["phone"], "height": 2600})
        page.goto(url)
        page.get_by_role("heading", name="How the model has done").wait_for(timeout=120_000)
        page.get_by_text("once today is in your diary").wait_for(timeout=60_000)
        assert page.get_by_role("button", name="Log this day").is_visible()
        assert "% chance of being sick" not in page.inner_text("body")
        screenshot(page, "app-diary-first-phone")
        page.get_by_role("button", name="Show tomorrow's risk and the air now").click()
        page.get_by_text("% chance of being sick").first.wait_for(timeout=60_000)
        page.get_by_role("heading", name="The air and the weather in the coming days").wait_for(
            timeout=60_000
        )
        page.close()
    finally:
        app.terminate()
        app.wait(timeout=60)


def _sign_in(browser, url: str, person: str, password: str):
    context = browser.new_context(viewport={"width": WIDTHS["phone"], "height": 2600})
    page = context.new_page()
    page.goto(url)  # a page asks to sign in first
    page.get_by_label("Your name").fill(person)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="How was today?").wait_for(timeout=120_000)
    page.get_by_text("The last two weeks").first.wait_for(timeout=120_000)
    return context, page


def test_each_person_sees_only_their_own_and_no_other_password_opens_it(
    demo_home, browser, tmp_path
):
    """Two people in one home, each with their password: each signs in to their own
    diary; bob's password does not open the demo person's app, nor anyone's none."""
    home = tmp_path / "home"
    shutil.copytree(demo_home["home"], home, ignore=shutil.ignore_patterns("prefect", "logs"))
    env = {
        **demo_home["env"],
        "AIRSICK_HOME": str(home),
        "AIRSICK_APP_PORT": str(free_port()),
        "AIRSICK_APP_PASSWORD": "correct horse battery staple",  # the default person's
    }

    def airsick(*args: str, given: str = "", **more: str) -> None:
        done = subprocess.run(
            airsick_command(*args), env=env | more, input=given, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr

    airsick("person", "add", "bob", "--place", "flat=24.7136,46.6753,Asia/Riyadh")
    airsick("person", "password", "bob", "--stdin", given="bob's own secret\n")
    airsick("diary", "log", "--sick", "--note", "bob's dusty day", AIRSICK_PERSON="bob")
    app = subprocess.Popen(
        airsick_command("app"), env=env, stdout=(tmp_path / "app.log").open("w"), stderr=-2
    )
    try:
        url = f"http://127.0.0.1:{env['AIRSICK_APP_PORT']}"
        wait_until(f"{url}/health")  # the health check needs no password
        page_answer = httpx.get(
            url, headers={"Accept": "text/html"}, follow_redirects=False, timeout=10
        )
        assert page_answer.status_code == 303 and page_answer.headers["location"] == "/login"
        assert httpx.get(f"{url}/api/status", timeout=10).status_code == 401
        for person, password in (("demo", "bob's own secret"), ("bob", "guess"), ("eve", "x")):
            refused = httpx.post(
                f"{url}/login", data={"person": person, "password": password}, timeout=30
            )
            assert refused.status_code == 401 and "do not match" in refused.text

        # Locators, not the body's text: marimo draws its outputs in shadow roots.
        context, page = _sign_in(browser, url, "bob", "bob's own secret")
        page.get_by_text("bob's dusty day").first.wait_for(timeout=60_000)  # his diary
        assert page.get_by_text("For bob").count() == 1
        assert page.get_by_text("For demo").count() == 0
        screenshot(page, "app-signed-in-bob-phone")
        context.close()

        context, page = _sign_in(browser, url, "demo", env["AIRSICK_APP_PASSWORD"])
        page.get_by_role("cell", name="well").first.wait_for(timeout=60_000)  # demo's days
        assert page.get_by_text("For demo").count() == 1
        assert page.get_by_text("bob's dusty day").count() == 0
        context.close()
    finally:
        app.terminate()
        app.wait(timeout=60)
