"""The presentation layout (a deployment setting and a sidebar toggle), and texts that must fit public mode.

AppTest only: what the layout puts where on screen is looked at in Chromium
(``tests/test_browser_labels.py`` for the maps, the README's screenshots).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_fixtures import TinySource, ok, public_policy, texts
from leakcheck import sensitive_hits
from streamlit.testing.v1 import AppTest

from geo import i18n

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
TRUST = "views/trust.py"


def run(page: str | None = None, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    at.session_state["source"] = TinySource()
    at.session_state["lang"] = "en"
    at.run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.fixture(autouse=True)
def no_settings(monkeypatch):
    monkeypatch.delenv("DASHBOARD_PRESENTATION", raising=False)
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)


def test_off_by_default_with_the_usual_overview():
    at = run()
    ok(at)
    assert at.sidebar.toggle(key="presentation").value is False
    assert at.session_state["ctx"].presentation is False
    assert at.title[0].value == "Overview"
    assert len(at.metric) == 7 and at.caption  # the headline cards with their comparison lines
    shown = texts(at)
    assert "Previous period: " in shown and "A year earlier: " in shown
    assert "For police use" in at.markdown[0].value  # the marking with its explanation


@pytest.mark.parametrize("how", ["env", "secrets"])
def test_the_deployment_setting_starts_the_presentation_layout(monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("DASHBOARD_PRESENTATION", "1")
        at = run()
    else:
        at = run(secrets={"display": {"presentation": True}})
    ok(at)
    assert at.sidebar.toggle(key="presentation").value is True
    assert at.session_state["ctx"].presentation is True
    assert not at.title  # the page, area and period in one line, the map right under it
    assert at.markdown[0].value == ":red-badge[**RESTRICTED**]"  # the banner is one line: the marking alone
    assert at.markdown[1].value.startswith("**Overview** · **All of Kosovo** · ")
    assert len(at.metric) == 7  # the headline figures beside the map, without their comparison lines
    assert "Previous period: " not in texts(at)
    assert at.selectbox(key="measure").value == "rate"  # a select box fits the column beside the map


def test_the_sidebar_toggle_switches_the_layout_for_the_session():
    at = run()
    at.sidebar.toggle(key="presentation").set_value(True).run()
    ok(at)
    assert not at.title and len(at.metric) == 7
    at.switch_page("views/data.py").run()
    ok(at)
    assert at.session_state["ctx"].presentation is True  # kept across pages
    at.sidebar.toggle(key="presentation").set_value(False).run()
    ok(at)
    assert at.session_state["ctx"].presentation is False


def test_a_setting_that_is_off_stays_off(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PRESENTATION", "0")
    at = run(secrets={"display": {"presentation": True}})  # the environment wins, as for the other settings
    ok(at)
    assert at.session_state["ctx"].presentation is False


# ---------------------------------------------------------------- public mode: texts that promise nothing hidden


def test_public_overview_does_not_send_the_audience_to_a_hidden_data_page_section(monkeypatch):
    at = run()
    assert "Records outside every section are listed on the Data page." in texts(at)
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = run()
    public_ok(at)
    shown = texts(at)
    assert "Click a section to select it." in shown
    assert "Records outside every section" not in shown


def public_ok(at: AppTest) -> None:
    """A public run: no exception, marked PUBLIC, the note on adjusted figures once, no sensitive category."""
    ok(at)
    shown = texts(at)
    assert ":blue-badge[**PUBLIC**]" in shown and ":red-badge[" not in shown
    assert not sensitive_hits(shown + "".join(df.value.to_csv() for df in at.dataframe))


def test_the_public_presentation_layout_keeps_the_marking_and_the_note(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = run(secrets={"display": {"presentation": True}})
    public_ok(at)
    assert at.markdown[0].value.startswith(":blue-badge[**PUBLIC**]")  # one line: the marking alone
    assert texts(at).count(public_policy().note(i18n.translator("en"))) == 1
    assert len(at.metric) == 7 and "withheld" not in [m.value for m in at.metric]


def test_public_trust_page_promises_no_incident_rates(monkeypatch):
    at = run(TRUST)
    assert "next to the incident rate" in texts(at)
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = run(TRUST)
    public_ok(at)
    shown = texts(at)
    assert "Survey results on public trust" in shown
    assert "incident rate" not in shown and "Rates are annualised" not in shown
