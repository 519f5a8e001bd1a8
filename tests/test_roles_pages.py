"""Roles on the pages (AppTest with Streamlit's user seeding): each role sees its view, pages and marking;
the database decides on every rerun; page views are audited once per change; a failing audit refuses.

The sign-in flow itself, with a real OpenID Connect provider and a real server, is tested in headless
Chromium (tests/test_signin_browser.py); here ``at.user`` stands for the identity ``st.login`` would give.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_fixtures import ok, texts
from streamlit.testing.v1 import AppTest
from test_print_page import recording_media  # noqa: F401 - its autouse fixture keeps the files downloads make
from test_restricted_view import CONTACT, PRIVATE, Source

from geo import db, users
from geo.settings import Settings

APP = "../dashboard.py"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "cookie-secret-for-the-tests-0123456789",
    "client_id": "dashboard",
    "client_secret": "client-secret",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """A deployment with its own embedded database (users, roles, audit log) and sign-in configured."""
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "own"))
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    eng = db.engine(Settings.load())
    db.upgrade(eng)
    return eng


def session(email: str | None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = dict(AUTH)
    at.session_state["source"] = Source()
    at.session_state["lang"] = lang
    if email is not None:
        at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    at.run()
    ok(at)
    return at


def marking(at) -> str:
    line = at.markdown[0].value
    return "RESTRICTED" if "RESTRICTED" in line else "PUBLIC" if "PUBLIC" in line else line


def audit(eng, action: str | None = None) -> list[tuple]:
    frame = users.entries(eng, action=action)
    return list(zip(frame["actor"], frame["action"], frame["detail"], strict=True))[::-1]


def grant(eng, email: str, *roles: str) -> None:
    for role in roles:
        users.grant(eng, email, role, actor="os:test@host")


# ---------------------------------------------------------------- who sees what


def test_a_visitor_who_is_not_signed_in_sees_only_the_sign_in_page(deployment):
    at = session(None)
    assert [b.label for b in at.button] == ["Sign in"]
    shown = texts(at)
    assert "RESTRICTED" not in shown and "PUBLIC" not in shown and not at.dataframe
    assert CONTACT not in shown


def test_the_sign_in_page_speaks_albanian(deployment):
    at = session(None, lang="sq")
    assert [b.label for b in at.button] == ["Hyr"]


@pytest.mark.parametrize(
    ("role", "view"),
    [("commander", "RESTRICTED"), ("analyst", "RESTRICTED"), ("secretary", "PUBLIC"), ("viewer", "PUBLIC")],
)
def test_each_role_gets_its_marking(deployment, role, view):
    grant(deployment, f"{role}@police.example", role)
    at = session(f"{role}@police.example")
    assert marking(at) == view
    assert f"Signed in as {role}@police.example" in texts(at).replace("\\", "")


def test_a_viewer_never_sees_restricted_text_on_the_section_page(deployment):
    grant(deployment, "viewer@police.example", "viewer")
    grant(deployment, "cmd@police.example", "commander")
    for email, visible in (("cmd@police.example", True), ("viewer@police.example", False)):  # commander first
        at = session(email)
        at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
        at.sidebar.selectbox(key="section").select("S1").run()
        at.switch_page("views/section.py").run()
        ok(at)
        shown = texts(at) + "\n".join(d.value.to_csv() for d in at.dataframe)
        assert (CONTACT in shown) is visible, email
        at.switch_page("views/concerns.py").run()
        ok(at)
        shown = texts(at) + "\n".join(d.value.to_csv() for d in at.dataframe)
        assert (PRIVATE in shown) is visible, email


def test_a_commander_sees_no_uploads_and_no_validation_report_an_analyst_does(deployment):
    grant(deployment, "cmd@police.example", "commander")
    grant(deployment, "ana@police.example", "analyst")
    at = session("cmd@police.example")
    at.switch_page("views/data.py").run()
    ok(at)
    assert not at.get("file_uploader")
    assert "Validation report" not in [h.value for h in at.header]
    assert "Uploads, imports and the validation report are for analysts." in texts(at)
    at = session("ana@police.example")
    at.switch_page("views/data.py").run()
    ok(at)
    assert at.get("file_uploader") and "Validation report" in [h.value for h in at.header]


def test_the_administration_page_is_only_for_administrators(deployment):
    grant(deployment, "cmd@police.example", "commander")
    at = session("cmd@police.example")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered for them
        at.switch_page("views/admin.py")
    grant(deployment, "admin@police.example", "administrator")
    at = session("admin@police.example")
    assert marking(at) == "PUBLIC"  # the administrator's own view of the data is the public one
    at.switch_page("views/admin.py").run()
    ok(at)
    assert "Administration" in [t.value for t in at.title]
    assert "cmd@police.example" in at.dataframe[0].value.to_csv()


def test_an_administrator_grants_a_role_and_the_change_is_audited(deployment):
    grant(deployment, "admin@police.example", "administrator")
    at = session("admin@police.example")
    at.switch_page("views/admin.py").run()
    at.text_input(key="admin_email").set_value("new@police.example").run()
    at.multiselect(key="admin_roles_new@police.example").set_value(["commander"]).run()
    at.button(key="admin_save").click().run()
    ok(at)
    user = users.get(deployment, "new@police.example")
    assert user is not None and user.roles == {"commander"}
    changes = [r for r in audit(deployment, "role") if r[0] == "admin@police.example"]
    assert len(changes) == 1 and '"grant"' in changes[0][2]


# ---------------------------------------------------------------- the database decides on every rerun


def test_a_removed_role_takes_effect_on_the_next_rerun(deployment):
    grant(deployment, "cmd@police.example", "commander")
    at = session("cmd@police.example")
    assert marking(at) == "RESTRICTED"
    users.revoke(deployment, "cmd@police.example", "commander", actor="os:test@host")
    users.grant(deployment, "cmd@police.example", "viewer", actor="os:test@host")
    at.run()
    ok(at)
    assert marking(at) == "PUBLIC"


def test_a_disabled_user_loses_access_on_the_next_rerun(deployment):
    grant(deployment, "cmd@police.example", "commander")
    at = session("cmd@police.example")
    users.set_disabled(deployment, "cmd@police.example", True, actor="os:test@host")
    at.run()
    shown = texts(at)
    assert "You have no access to this dashboard." in shown and "disabled" in shown
    assert "RESTRICTED" not in shown and CONTACT not in shown


def test_an_unknown_user_gets_viewer_or_nothing_as_the_deployment_says(deployment, monkeypatch):
    at = session("someone@police.example")
    assert marking(at) == "PUBLIC"
    assert users.get(deployment, "someone@police.example").roles == {"viewer"}
    monkeypatch.setenv("DASHBOARD_UNKNOWN_USERS", "none")
    at = session("other@police.example")
    assert "Your account is not known to this dashboard." in texts(at)
    assert users.get(deployment, "other@police.example") is None


def test_a_claim_gives_a_new_user_their_role_once(deployment, monkeypatch):
    monkeypatch.setenv("DASHBOARD_ROLE_CLAIM", "groups")
    monkeypatch.setenv("DASHBOARD_ROLE_MAP", "cp-commanders=commander")
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = dict(AUTH)
    at.session_state["source"] = Source()
    at.session_state["lang"] = "en"
    at.user = {"is_logged_in": True, "email": "c@police.example", "groups": ["cp-commanders"]}
    at.run()
    ok(at)
    assert marking(at) == "RESTRICTED"
    users.revoke(deployment, "c@police.example", "commander", actor="os:test@host")
    at.run()  # afterwards the database decides, whatever the claim says
    assert "You have no access to this dashboard." in texts(at)


def test_restricted_roles_time_out_after_the_idle_period(deployment):
    grant(deployment, "cmd@police.example", "commander")
    at = session("cmd@police.example")
    assert marking(at) == "RESTRICTED"
    users.touch(deployment, "cmd@police.example", datetime.now(UTC) - timedelta(minutes=31))
    at.run()
    shown = texts(at)
    assert "Your session ended after 30 minutes without activity." in shown
    assert "RESTRICTED" not in shown and CONTACT not in shown
    assert [r[1] for r in audit(deployment, "timeout")] == ["timeout"]


def test_a_viewer_does_not_time_out(deployment):
    grant(deployment, "v@police.example", "viewer")
    at = session("v@police.example")
    users.touch(deployment, "v@police.example", datetime.now(UTC) - timedelta(hours=5))
    at.run()
    assert marking(at) == "PUBLIC"


# ---------------------------------------------------------------- the audit log


def test_a_restricted_page_view_is_recorded_once_per_change(deployment):
    grant(deployment, "cmd@police.example", "commander")
    at = session("cmd@police.example")
    at.run()  # a rerun with the same page and filters: no new record
    views = audit(deployment, "view")
    assert len(views) == 1 and '"page": "overview"' in views[0][2]
    at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
    at.switch_page("views/concerns.py").run()
    ok(at)
    views = audit(deployment, "view")
    assert len(views) == 3
    assert '"municipality": "Prishtinë"' in views[1][2] and '"page": "concerns"' in views[2][2]
    assert [r[1] for r in audit(deployment, "sign-in")] == ["sign-in"]  # once per session


def test_public_views_are_not_recorded_as_restricted_views(deployment):
    grant(deployment, "v@police.example", "viewer")
    session("v@police.example").run()
    assert audit(deployment, "view") == []


def test_a_view_that_cannot_be_recorded_is_refused(deployment, tmp_path):
    grant(deployment, "cmd@police.example", "commander")
    at = session("cmd@police.example")
    path = db.embedded_path(Settings.load())
    with sqlite3.connect(path) as conn:  # the audit log made unwritable (as a full disk or a lost grant would)
        conn.execute("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'full'); END")
    at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
    shown = texts(at)
    assert "could not be recorded in the audit log" in shown
    assert "RESTRICTED" not in shown and CONTACT not in shown and not at.get("deck_gl_json_chart")


# ---------------------------------------------------------------- audited downloads


def _prepare_brief(at) -> None:
    at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
    at.switch_page("views/print.py").run()
    at.button(key="print_brief_button").click().run()
    ok(at)


def test_a_restricted_brief_is_recorded_once_per_download_and_a_public_one_not(deployment):
    from test_print_page import downloads

    grant(deployment, "cmd@police.example", "commander")
    at = session("cmd@police.example")
    _prepare_brief(at)
    assert audit(deployment, "brief") == []  # prepared, not yet sent
    (name, _mime, payload), *_ = [d for d in downloads(at) if d[0].startswith("brief-")]
    assert "restricted" in name.lower() and payload
    briefs = audit(deployment, "brief")
    assert len(briefs) == 1 and name in briefs[0][2] and briefs[0][0] == "cmd@police.example"

    grant(deployment, "v@police.example", "viewer")
    at = session("v@police.example")
    _prepare_brief(at)
    public = [d for d in downloads(at) if d[0].startswith("brief-")]
    assert public and "public" in public[0][0].lower()
    assert len(audit(deployment, "brief")) == 1  # a public file is not a restricted one


def test_a_restricted_download_that_cannot_be_recorded_is_not_made(deployment):
    from views import gate

    grant(deployment, "cmd@police.example", "commander")
    made = []
    who = gate.Visitor(
        gate.Access("restricted", "signed in", frozenset({"commander"})),
        "cmd@police.example",
        recorder=lambda *a: (_ for _ in ()).throw(users.AuditError("disk full")),
    )
    build = gate.audited(who, "export", {"file": "incidents.csv"}, lambda: made.append(1) or b"rows")
    with pytest.raises(gate.Refused, match="disk full"):
        build()
    assert made == []
    ok_who = gate.Visitor(who.access, who.actor, recorder=gate._recorder(Settings.load()))
    assert gate.audited(ok_who, "export", {"file": "incidents.csv"}, lambda: b"rows")() == b"rows"
    assert len(audit(deployment, "export")) == 1
