"""The meeting page in a real headless Chromium, with a second visitor watching: record concerns, see them
appear in the other session, close the meeting, download its minutes.

Starts ``streamlit run dashboard.py`` on the small contract files in a fresh data folder (imported into the
embedded database on the first start; parts that show recorded data refresh every second). A second browser
session has the Concerns page open. The first opens a meeting on 20 February 2024 (in the small files' default
period), records a public concern (its section chosen by a click on the form's map) and a sensitive one
(domestic violence, marked public by mistake): the second session's open concerns list the new concern by
themselves, without the page being reloaded. Then the meeting is closed, and the RESTRICTED and the PUBLIC
minutes are downloaded as PDF: the restricted ones list both concerns, the public ones leave the sensitive
concern out (read with pypdf). Waits on conditions, never on the clock.
"""

from __future__ import annotations

import io
import json

import pytest
from store_fixtures import write_files
from test_browser import ARTIFACTS, TIMEOUT, map_frame, on_screen, streamlit_app

pytestmark = pytest.mark.browser
playwright_errors = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
pypdf = pytest.importorskip("pypdf", reason="pypdf reads the minutes")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("own")
    paths = write_files(data)
    (data / "options.json").write_text(
        json.dumps({"files": {name: p.name for name, p in paths.items()}, "options": {}}), encoding="utf-8"
    )
    with streamlit_app(data, DASHBOARD_REFRESH_SECONDS="1") as url:
        yield url


def thrice(page, action) -> None:
    """``action()`` once the app has finished its run, tried up to three times: a rerun (the draft kept as the user
    chooses) may redraw what it clicks, and while a form's rerun shifts a widget, the old one is still on screen
    beside the new one for a moment. A person clicks again; so does the test."""
    for attempt in range(3):
        settled(page)
        try:
            action()
            return
        except playwright_errors.Error:  # a timeout, or two widgets at once (strict mode)
            if attempt == 2:
                raise


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the main area's select box labelled ``label``."""
    box = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(
        has=page.get_by_text(label, exact=True)
    )

    def pick() -> None:
        box.locator("input").click()
        page.get_by_role("option", name=option, exact=True).click(timeout=5_000)

    thrice(page, pick)


def record_concern(page, category: str, text: str, on_the_map: bool = False) -> None:
    choose(page, "Category", category)
    if on_the_map:  # a click on the section in the form's map chooses it in the list

        def click_s1() -> None:
            page.mouse.click(*on_screen(page, map_frame(page), "S1"))
            page.wait_for_function(  # the list shows the section chosen
                "() => [...document.querySelectorAll('input[aria-label=\"Section\"]')]"
                ".some(i => i.value === 'Sektori S1 (S1)')",
                timeout=TIMEOUT / 3,
            )

        thrice(page, click_s1)
    else:
        choose(page, "Section", "Sektori S1 (S1)")
    area = page.get_by_label("Description", exact=True)
    area.fill(text)
    area.blur()
    page.get_by_text("The description may be shown in public").click()
    page.get_by_role("button", name="Save the concern").click()
    page.get_by_text("Saved: the concern.").wait_for(timeout=TIMEOUT)
    page.wait_for_function(  # the form starts anew, empty
        "() => [...document.querySelectorAll('textarea')].every(t => t.value === '')", timeout=TIMEOUT
    )


def settled(page) -> None:
    """The app has finished its run (a download button's file belongs to the run that drew it)."""
    page.wait_for_function(
        "() => document.querySelector('[data-test-script-state]')?.dataset.testScriptState === 'notRunning'",
        timeout=TIMEOUT,
    )


def pdf_text(page, button: str) -> str:
    settled(page)
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name=button).click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def type_date(page, label: str, day: str) -> None:
    """Type ``day`` (ISO) into the date input labelled ``label``: its day, month and year fields in turn."""
    year, month, date = day.split("-")
    page.get_by_role("spinbutton", name=f"day, {label}", exact=True).click()
    page.keyboard.type(date + month + year)  # each field, when full, moves on to the next
    page.keyboard.press("Enter")
    page.wait_for_function(  # the field's value (ISO), which the app receives
        "(day) => [...document.querySelectorAll('input')].some(i => i.value === day)", arg=day, timeout=TIMEOUT
    )
    settled(page)


LIGHTS = "Street lights out near the school"


def test_a_meeting_recorded_in_one_session_shows_in_another_and_its_public_minutes_leave_out_the_sensitive_concern(
    server, page, another_page
):
    watcher = another_page  # a commander with the Concerns page open on another computer
    watcher.goto(f"{server}/concerns?lang=en", wait_until="domcontentloaded")
    watcher.get_by_role("heading", name="Community concerns").wait_for(timeout=TIMEOUT)
    watcher.get_by_role("tab", name="Open concerns").click()
    watcher.get_by_text("No concern was open at the end of the period.").wait_for(timeout=TIMEOUT)
    watcher.evaluate("() => { window.__notReloaded = true; }")  # gone if the page were loaded again

    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/meeting?lang=en", wait_until="domcontentloaded")
    page.get_by_role("button", name="Open the meeting").wait_for(timeout=TIMEOUT)
    type_date(page, "Held on", "2024-02-20")  # in the Concerns page's default period (February 2024)
    page.get_by_role("button", name="Open the meeting").click()
    page.get_by_role("tab", name="Concerns raised").click(timeout=TIMEOUT)
    record_concern(page, "Public lighting", LIGHTS, on_the_map=True)
    record_concern(page, "Domestic violence", "Sensitive matter in the family of Arben")
    assert "k_concern=" in page.url and "meeting=" in page.url  # the form's key lives in the URL

    # the other session counts the two new open concerns by itself, without being reloaded (its figures: the
    # open concerns' table is a canvas grid, whose cells reach the page's text only while drawn on screen)
    watcher.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stMetric']\")].some(m =>"
        ' m.innerText.includes("Open at the period\'s end") &&'
        " m.querySelector(\"[data-testid='stMetricValue']\")?.innerText.trim() === '2')",
        timeout=TIMEOUT,
    )
    assert watcher.evaluate("() => window.__notReloaded === true")
    assert watcher.locator("[data-testid='stException']").count() == 0
    assert watcher.blocked == [], f"the page asked for the internet: {watcher.blocked[:5]}"
    # The watcher has seen what it came for; it leaves before the downloads. Streamlit 1.67 keeps the file a
    # download button made on its click in no session's references: the end of the next two script runs in
    # the server (the watcher's refresh, every second here) deletes it, and a browser slower than that to
    # fetch it gets a cancelled download. That race is Streamlit's (see the closing note), not this page's.
    watcher.context.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meeting.png"))

    page.get_by_role("tab", name="Minutes").click()
    page.get_by_role("button", name="Close the meeting").click()
    page.get_by_text("closed", exact=True).first.wait_for(timeout=TIMEOUT)
    page.get_by_role("tab", name="Minutes").click()

    restricted = pdf_text(page, "Minutes (PDF)")
    assert "RESTRICTED" in restricted
    assert LIGHTS in restricted and "Sensitive matter" in restricted

    page.get_by_text("PUBLIC", exact=True).click()
    page.get_by_text("Public minutes: only the descriptions marked public").wait_for(timeout=TIMEOUT)
    public = pdf_text(page, "Minutes (PDF)")
    assert "PUBLIC" in public and "RESTRICTED" not in public
    assert LIGHTS in public
    assert "Sensitive matter" not in public and "Domestic violence" not in public
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
