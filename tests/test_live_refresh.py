"""Recorded data redraws itself (views/live.py): a concern recorded through geo.meetings by another session
shows on the Concerns, Committees and Section pages when their parts rerun by themselves, without reloading the
incidents; each automatic rerun decides again who may see it (views/gate.py ``still_allowed``) and is neither
activity nor a page view.

AppTest runs whole scripts only; :func:`run_parts` runs the page's registered fragments the way Streamlit's
``run_every`` timer does (a rerun request that names them), so what a test sees is what the fragments drew.
The same in a real browser: tests/test_browser_live.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from dashboard_fixtures import ok, texts
from store_fixtures import INSIDE, write_files
from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
from streamlit.testing.v1 import AppTest

from geo import db, dbimport, users
from geo import meetings as mt
from geo.settings import Settings
from views import cache

APP = "../dashboard.py"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "cookie-secret-for-the-tests-0123456789",
    "client_id": "dashboard",
    "client_secret": "client-secret",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}
HELD = dt.date(2024, 3, 20)  # in March 2024, where the small files' records are
SECRETARY = "secretary@police.example"
LIGHTS = "Street lights out behind the school"
PRIVATE = "Threats against the shopkeeper Arben"


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """A deployment whose embedded database (in its data folder) holds the small contract files."""
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "own"))
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    eng = db.engine(Settings.load())
    assert dbimport.run(eng, write_files(tmp_path / "files")).ok
    return eng


def session(page: str, email: str | None = None) -> AppTest:
    """A session on ``page`` (on this computer without sign-in, or signed in as ``email``)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "en"
    if email is not None:
        at.secrets["auth"] = dict(AUTH)
        at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    at.run()
    ok(at)
    if "PUBLIC" not in texts(at):  # March 2024, where the small files' records are (public: February, the
        # newest whole month)
        at.sidebar.date_input(key="period_start").set_value(dt.date(2024, 3, 1))
        at.sidebar.date_input(key="period_end").set_value(dt.date(2024, 3, 31)).run()
    at.switch_page(page).run()
    ok(at)
    return at


def run_parts(at: AppTest) -> AppTest:
    """Rerun only the fragments the last run registered, as their ``run_every`` timer does."""
    ids = list(at._fragment_storage._fragments)
    assert ids, "the page registered no fragment"
    real = ScriptRunner._run_script
    asked = []

    def run_script(self, rerun_data):
        if not asked:  # this run; a rerun the fragment asks for goes as it is
            asked.append(True)
            rerun_data = dataclasses.replace(rerun_data, fragment_id_queue=ids, is_auto_rerun=True)
        return real(self, rerun_data)

    with mock.patch.object(ScriptRunner, "_run_script", run_script):
        at.run()
    return at


def record(eng, description: str, public: bool, section: str = "S1", held: dt.date = HELD) -> str:
    """A meeting of L1 (in March 2024) with one concern (as a secretary's session saves it)."""
    meeting = mt.open_meeting(eng, "L1", held, actor=SECRETARY, key=mt.new_key()).record_id
    return mt.add_concern(
        eng, meeting, "public_lighting", description, public, section_id=section, actor=SECRETARY, key=mt.new_key()
    ).record_id


def shown(at: AppTest) -> str:
    return "\n".join([texts(at), *(d.value.to_csv() for d in at.dataframe)])


def loaded(at: AppTest):
    """The process's newest load of the session's source (views/cache.py), as every session shares it."""
    ctx = at.session_state["ctx"]
    return cache._latest(ctx.source.key()).loaded


def grant(eng, email: str, *roles: str) -> None:
    for role in roles:
        users.grant(eng, email, role, actor="os:test@host")


# ---------------------------------------------------------------- new records show


def test_a_concern_recorded_elsewhere_shows_on_the_concerns_page_without_reloading_the_incidents(deployment):
    at = session("views/concerns.py")
    assert LIGHTS not in shown(at)
    raised = {m.label: m.value for m in at.metric}["Raised in the period"]
    page_data = at.session_state["ctx"].data
    before = loaded(at)

    record(deployment, LIGHTS, True)
    run_parts(at)
    ok(at)
    assert LIGHTS in shown(at)
    assert {m.label: m.value for m in at.metric}["Raised in the period"] == str(int(raised) + 1)
    # the concerns moved, so the page's watcher reran the whole page too: its map shows the new concern
    assert at.title and "Worry and incidents" in texts(at)

    after = loaded(at)
    assert after is not before and LIGHTS in set(after.dataset.concerns["description"])
    assert after.dataset.incidents is page_data.incidents  # the incidents were not read again
    assert after.dataset.__dict__.get("cube") is page_data.__dict__.get("cube")  # nor their cube made again
    assert after.revisions["incidents"] == before.revisions["incidents"]
    assert at.session_state["ctx"].data.incidents is page_data.incidents  # the page's rerun reread nothing


def test_an_unchanged_part_draws_the_same_and_reads_nothing_again(deployment):
    at = session("views/concerns.py")
    first = shown(at)
    before = loaded(at)
    run_parts(at)
    ok(at)
    assert loaded(at) is before  # no revision moved: the same load
    assert all(line in first for line in shown(at).splitlines() if line)


def test_a_status_change_and_a_meeting_show_on_the_section_and_committees_pages(deployment):
    section = session("views/concerns.py")
    section.sidebar.selectbox(key="municipality").select("Prishtinë").run()
    section.sidebar.selectbox(key="section").select("S1").run()
    section.switch_page("views/section.py").run()
    ok(section)
    committees = session("views/committees.py")
    meetings_before = committees.dataframe[-1].value.to_csv()

    k1 = mt.get(deployment, "concern", "K1")
    meeting = mt.open_meeting(deployment, "L1", HELD, actor=SECRETARY, key=mt.new_key()).record_id
    mt.change_status(
        deployment, "K1", "resolved", version=k1["version"], action_taken="Patrols every night",
        resolved_on=HELD, meeting_id=meeting, actor=SECRETARY, key=mt.new_key(),
    )  # fmt: skip
    run_parts(section)
    ok(section)
    assert "Patrols every night" in shown(section)
    assert "20 Mar 2024" in shown(section)  # the new meeting among the latest meetings
    run_parts(committees)
    ok(committees)
    assert committees.dataframe[-1].value.to_csv() != meetings_before  # the register counts the new meeting


# ---------------------------------------------------------------- who may still see it


def test_a_commander_demoted_to_viewer_gets_no_restricted_text_from_a_refresh(deployment):
    email = "cmd@police.example"
    grant(deployment, email, "commander")
    at = session("views/concerns.py", email)
    assert "RESTRICTED" in texts(at)
    idle_since = datetime.now(UTC) - timedelta(minutes=5)
    users.touch(deployment, email, idle_since)
    views = len(users.entries(deployment, action="view"))

    users.revoke(deployment, email, "commander", actor="os:admin@host")
    grant(deployment, email, "viewer")
    record(deployment, PRIVATE, False)
    run_parts(at)
    ok(at)
    seen = shown(at)
    assert PRIVATE not in seen
    assert "PUBLIC" in seen and "RESTRICTED" not in seen  # the whole page was drawn again as the viewer's
    assert users.get(deployment, email).last_activity == idle_since  # the refresh was not activity
    assert len(users.entries(deployment, action="view")) == views  # nor a page view


def test_a_disabled_user_gets_nothing_from_a_refresh(deployment):
    email = "cmd@police.example"
    grant(deployment, email, "commander")
    at = session("views/concerns.py", email)
    users.set_disabled(deployment, email, True, actor="os:admin@host")
    record(deployment, PRIVATE, False)
    run_parts(at)
    seen = shown(at)
    assert PRIVATE not in seen and "You have no access to this dashboard." in seen


def test_the_idle_timeout_applies_to_a_refresh(deployment):
    email = "cmd@police.example"
    grant(deployment, email, "commander")
    at = session("views/concerns.py", email)
    users.touch(deployment, email, datetime.now(UTC) - timedelta(minutes=31))
    record(deployment, PRIVATE, False)
    run_parts(at)
    seen = shown(at)
    assert PRIVATE not in seen and "Your session ended after 30 minutes without activity." in seen


def test_a_refresh_of_an_unchanged_access_is_not_activity(deployment):
    email = "cmd@police.example"
    grant(deployment, email, "commander")
    at = session("views/concerns.py", email)
    idle_since = datetime.now(UTC) - timedelta(minutes=5)
    users.touch(deployment, email, idle_since)
    views = len(users.entries(deployment, action="view"))
    record(deployment, PRIVATE, False)
    run_parts(at)
    ok(at)
    assert PRIVATE in shown(at)  # a commander sees the private description
    assert users.get(deployment, email).last_activity == idle_since
    assert len(users.entries(deployment, action="view")) == views


def test_a_viewer_given_the_commander_role_is_asked_to_reload(deployment):
    email = "v@police.example"
    grant(deployment, email, "viewer")
    at = session("views/concerns.py", email)
    grant(deployment, email, "commander")
    record(deployment, PRIVATE, False)
    run_parts(at)
    ok(at)
    assert "Your access to this dashboard has changed. Reload the page" in texts(at)
    assert PRIVATE not in shown(at)


# ---------------------------------------------------------------- public


def test_a_refresh_in_the_public_view_shows_the_public_copy(deployment):
    email = "v@police.example"
    grant(deployment, email, "viewer")
    at = session("views/concerns.py", email)
    assert "PUBLIC" in texts(at)
    february = dt.date(2024, 2, 20)  # the public view's period: the newest whole month
    record(deployment, PRIVATE, False, section="S2", held=february)
    record(deployment, LIGHTS, True, section="S2", held=february)
    run_parts(at)
    ok(at)
    seen = shown(at)
    assert LIGHTS in seen and PRIVATE not in seen and "(not public)" in seen
    ctx = at.session_state["ctx"]
    public = cache._latest(ctx.source.key()).public[ctx.policy][1]
    assert PRIVATE not in set(public.concerns["description"].dropna())


def test_a_refresh_setting_of_off_leaves_the_parts_to_the_page(deployment, monkeypatch):
    monkeypatch.setenv("DASHBOARD_REFRESH_SECONDS", "off")
    assert Settings.load().refresh_seconds is None
    at = session("views/concerns.py")
    record(deployment, LIGHTS, True)
    at.run()  # the page's own rerun still shows it
    assert LIGHTS in shown(at)


def test_the_point_of_a_concern_is_enough_to_place_it(deployment):
    at = session("views/concerns.py")
    meeting = mt.open_meeting(deployment, "L1", HELD, actor=SECRETARY, key=mt.new_key()).record_id
    mt.add_concern(
        deployment, meeting, "road_safety", "Cars race past the market", True, point=INSIDE["S2"],
        actor=SECRETARY, key=mt.new_key(),
    )  # fmt: skip
    run_parts(at)
    ok(at)
    assert "Cars race past the market" in shown(at)


@pytest.mark.parametrize(("value", "seconds"), [("", 5.0), ("2", 2.0), ("off", None), ("0", None), ("-3", 5.0)])
def test_the_refresh_setting(value, seconds):
    from types import SimpleNamespace

    from views import live

    settings = Settings.load({"DASHBOARD_REFRESH_SECONDS": value} if value else {}, secrets_file=None)
    assert live.every(SimpleNamespace(settings=settings)) == seconds  # a wrong value: the default


def test_the_page_rerun_a_recorded_concern_causes_is_not_activity(deployment):
    email = "cmd@police.example"
    grant(deployment, email, "commander")
    at = session("views/concerns.py", email)
    idle_since = datetime.now(UTC) - timedelta(minutes=5)
    users.touch(deployment, email, idle_since)
    record(deployment, LIGHTS, True)
    run_parts(at)  # the watcher sees the concerns move and reruns the whole page (the map shows it too)
    ok(at)
    assert at.title and LIGHTS in shown(at) and "RESTRICTED" in texts(at)
    assert users.get(deployment, email).last_activity == idle_since
