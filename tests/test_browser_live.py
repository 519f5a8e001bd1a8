"""In headless Chromium: a concern recorded by another session (here the test, through geo.meetings, into the
deployment's embedded database) appears on an open Concerns page by itself, without the page being reloaded.

Waits on conditions only (the page's text), never on the clock. Skipped, saying why, without Chromium or
Playwright (tests/test_browser.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from store_fixtures import write_files
from test_browser import streamlit_app

from geo import db, dbimport
from geo import meetings as mt
from geo.settings import Settings

pytestmark = pytest.mark.browser

TEXT = "Broken street lights by the bus station"
FEBRUARY = dt.date(2024, 2, 20)  # in the default period of the small files: the last whole month, February 2024


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The app on a deployment whose embedded database holds the small contract files; parts refresh every
    second."""
    own = tmp_path / "own"
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(own))
    monkeypatch.setenv("DASHBOARD_REFRESH_SECONDS", "1")
    eng = db.engine(Settings.load())
    assert dbimport.run(eng, write_files(tmp_path / "files")).ok
    with streamlit_app(own) as url:
        yield url, eng


def test_a_concern_recorded_elsewhere_appears_on_the_open_concerns_page(server, page):
    url, eng = server
    page.goto(f"{url}/concerns?lang=en", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Community concerns").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Open concerns").click()
    page.get_by_text("No concern was open at the end of the period.").wait_for(timeout=30_000)
    page.evaluate("() => { window.__notReloaded = true; }")  # gone if the page were loaded again
    assert TEXT not in page.locator("body").inner_text()

    meeting = mt.open_meeting(eng, "L1", FEBRUARY, actor="secretary@police.example", key=mt.new_key()).record_id
    mt.add_concern(
        eng, meeting, "public_lighting", TEXT, True, section_id="S1", actor="secretary@police.example",
        key=mt.new_key(),
    )  # fmt: skip

    # the open concerns' table (a canvas grid) lists it: its accessible table holds the cells' text
    page.wait_for_function(
        "(text) => Array.from(document.querySelectorAll(\"[data-testid='stDataFrame']\"))"
        "  .some(e => (e.innerText + ' ' + Array.from(e.querySelectorAll('td, [role=gridcell]'))"
        "    .map(c => c.textContent).join(' ')).includes(text))",
        arg=TEXT,
        timeout=30_000,
    )
    assert page.evaluate("() => window.__notReloaded === true")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
