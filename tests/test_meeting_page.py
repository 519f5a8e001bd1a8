"""The meeting page (views/meeting.py) in AppTest, on the embedded default: a fresh data folder per test whose
embedded database holds the small contract files (committees L1, an LCPS, and M1, an MCPS; concern K1 open at
meeting M1 of L1). The whole flow in the three languages, field errors, a secretary's committees, idempotency
across a rerun with the same URL key, two people changing the same concern, a draft surviving a new session,
and the demo imported into the database on the first recording.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from dashboard_fixtures import ok, texts
from store_fixtures import INSIDE, write_files
from streamlit.testing.v1 import AppTest
from test_roles_pages import AUTH

from geo import db, dbimport, store, users
from geo import meetings as mt
from geo.settings import Settings

APP = "../dashboard.py"
PAGE = "views/meeting.py"
MCPS = "MCPS · KKSB Prishtinë"


@pytest.fixture
def eng(tmp_path, monkeypatch):
    """The embedded database of a fresh data folder, holding the small files."""
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "own"))
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    engine = db.engine(Settings.load())
    db.upgrade(engine)
    assert dbimport.run(engine, write_files(tmp_path / "files")).ok
    return engine


def meeting_page(lang: str = "en", query: dict | None = None, email: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if email is not None:
        at.secrets["auth"] = dict(AUTH)
        at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    at.run()
    ok(at)
    at.switch_page(PAGE).run()
    ok(at)
    return at


def field(at: AppTest, kind: str, form: str, name: str):
    """A form's widget by its field (its key carries the form's generation)."""
    pattern = re.compile(rf"mt_{form}_\d+_{name}$")
    found = [w for w in getattr(at, kind) if w.key and pattern.match(w.key)]
    assert len(found) == 1, (kind, form, name, [w.key for w in getattr(at, kind)])
    return found[0]


def query(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value if isinstance(value, str) else value[0]


def press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    ok(at)
    return at


def open_meeting(at: AppTest) -> str:
    press(at, "mtb_open")
    meeting_id = query(at, "meeting")
    assert at.selectbox(key="mt_meeting").value == meeting_id
    return meeting_id


def concerns_of(eng, meeting_id: str):
    return mt.meeting_records(eng, meeting_id).concerns


def fill_concern(at: AppTest, category="public_lighting", section="S1", text="Street lights out", public=True):
    field(at, "selectbox", "concern", "category").set_value(category)
    field(at, "selectbox", "concern", "section_id").set_value(section)
    field(at, "text_area", "concern", "description").input(text)
    field(at, "checkbox", "concern", "public").set_value(public)
    at.run()
    ok(at)


# ---------------------------------------------------------------- the whole flow


@pytest.mark.parametrize(
    ("lang", "tab", "saved"),
    [
        ("en", "Attendance", "Saved: 23 people present."),
        ("sq", "Pjesëmarrja", "U ruajt: 23 të pranishëm."),
        ("sr", "Prisustvo", "Sačuvano: prisutno 23."),
    ],
)
def test_a_meeting_is_recorded_from_opening_to_closing(eng, lang, tab, saved):
    at = meeting_page(lang)
    assert at.selectbox(key="mt_committee").value == "L1"  # the first committee (LCPS before MCPS)
    meeting_id = open_meeting(at)
    assert tab in [t.label for t in at.tabs]
    # the agenda: the committee's open concern K1, raised at its earlier meeting
    assert "Vjedhje, shpesh" in "\n".join(d.value.to_csv() for d in at.dataframe)

    field(at, "number_input", "attendance", "total").set_value(23)
    field(at, "number_input", "attendance", "women").set_value(9)
    press(at, "mtb_attendance")
    assert saved in [s.value for s in at.success]

    fill_concern(at, text="Street lights out on *Rruga A*")
    press(at, "mtb_concern")
    field(at, "selectbox", "concern", "category").set_value("road_safety")
    field(at, "radio", "concern", "where").set_value("point")
    at.run()
    field(at, "text_input", "concern", "lon").input(str(INSIDE["S2"][0]))
    field(at, "text_input", "concern", "lat").input(str(INSIDE["S2"][1]))
    field(at, "text_area", "concern", "description").input("Cars race past the school")
    press(at, "mtb_concern")
    raised = concerns_of(eng, meeting_id)
    assert list(raised["section_id"]) == ["S1", "S2"] and list(raised["description_public"]) == [True, False]

    speed = str(raised["concern_id"].iloc[1])
    field(at, "selectbox", "action", "concern").set_value(speed)
    field(at, "text_input", "action", "what").input("Speed checks twice a week")
    field(at, "selectbox", "action", "owner").set_value("police")
    press(at, "mtb_action")

    at.selectbox(key="mt_status_concern").set_value("K1").run()
    field(at, "radio", "status", "status_K1").set_value("resolved")
    at.run()
    field(at, "text_area", "status", "taken_K1").input("Patrols at night")
    press(at, "mtb_status")
    assert mt.get(eng, "concern", "K1")["status"] == "resolved"

    press(at, "mtb_close")
    records = mt.meeting_records(eng, meeting_id)
    assert records.meeting["closed_at"] is not None
    assert records.attendance["total"] == 23 and records.attendance["women"] == 9
    assert list(records.actions["what"]) == ["Speed checks twice a week"]
    assert list(records.status_changes["record_id"]) == ["K1"]
    assert {e.actor for e in mt.history(eng, "meeting", meeting_id)} == {users.os_actor().replace("os:", "local:")}
    # closed: no more forms, the minutes offered in both formats
    assert not any(b.key == "mtb_concern" for b in at.button)
    assert len(at.get("download_button")) == 2
    # the recorded text is shown literally (a dataframe), never as Markdown
    assert "Street lights out on *Rruga A*" in "\n".join(d.value.to_csv() for d in at.dataframe)


# ---------------------------------------------------------------- field errors


def test_field_errors_are_shown_at_their_fields_and_nothing_is_saved(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    field(at, "selectbox", "concern", "category").set_value("public_lighting")
    field(at, "text_area", "concern", "description").input("No place given")
    at.run()
    press(at, "mtb_concern")
    shown = texts(at)
    assert "Required." in shown  # the section, next to it
    assert concerns_of(eng, meeting_id).empty

    field(at, "radio", "concern", "where").set_value("point")
    at.run()
    field(at, "text_input", "concern", "lon").input("30.0")
    field(at, "text_input", "concern", "lat").input("10.0")
    press(at, "mtb_concern")
    assert "The point is in no section." in texts(at)
    assert concerns_of(eng, meeting_id).empty
    # the typed description is still there to correct the place
    assert field(at, "text_area", "concern", "description").value == "No place given"

    field(at, "number_input", "attendance", "total").set_value(5)
    field(at, "number_input", "attendance", "men").set_value(7)
    press(at, "mtb_attendance")
    assert "More than the total." in texts(at)
    assert mt.get(eng, "attendance", meeting_id) is None


def test_field_errors_speak_the_session_language(eng):
    at = meeting_page("sq")
    open_meeting(at)
    field(at, "selectbox", "concern", "category").set_value("public_lighting")
    at.run()
    press(at, "mtb_concern")
    assert "E detyrueshme." in texts(at)


# ---------------------------------------------------------------- who may record for which committee


def test_a_secretary_records_only_for_their_committees(eng):
    users.grant(eng, "sec@police.example", "secretary", actor="os:test@host")
    users.set_committees(eng, "sec@police.example", frozenset({"M1"}), actor="os:test@host")
    at = meeting_page(email="sec@police.example")
    assert "PUBLIC" in at.markdown[0].value  # everywhere else the public-safe view
    assert at.selectbox(key="mt_committee").options == [MCPS]
    meeting_id = open_meeting(at)
    assert mt.get(eng, "meeting", meeting_id)["committee_id"] == "M1"
    fill_concern(at, text="A private worry", public=False)
    press(at, "mtb_concern")
    # on this page, their own records in full (also the description that is not public)
    assert "A private worry" in "\n".join(d.value.to_csv() for d in at.dataframe)
    assert mt.history(eng, "meeting", meeting_id)[0].actor == "sec@police.example"

    # the assignment is removed between two clicks: the next save is refused, nothing recorded
    fill_concern(at, text="Another worry")
    users.set_committees(eng, "sec@police.example", frozenset({"L1"}), actor="os:test@host")
    press(at, "mtb_concern")
    assert len(concerns_of(eng, meeting_id)) == 1
    assert at.selectbox(key="mt_committee").value == "L1"


def test_a_viewer_has_no_meeting_page(eng):
    users.grant(eng, "viewer@police.example", "viewer", actor="os:test@host")
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = dict(AUTH)
    at.user = {"is_logged_in": True, "email": "viewer@police.example", "name": "viewer"}
    at.run()
    ok(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    assert mt.meetings_of(eng, "L1").shape[0] == 1  # only the imported M1


# ---------------------------------------------------------------- nothing lost


def test_a_double_click_or_a_rerun_with_the_same_url_key_records_once(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    key = query(at, "k_concern")
    fill_concern(at)
    press(at, "mtb_concern")
    assert len(concerns_of(eng, meeting_id)) == 1
    assert query(at, "k_concern") != key  # a new key for the next concern

    # the same values pressed again (the second click of a double click): replayed, not recorded
    fill_concern(at)
    press(at, "mtb_concern")
    assert len(concerns_of(eng, meeting_id)) == 1
    assert "This concern had been saved already." in [s.value for s in at.success]

    # a browser whose URL still has the first key (the page never heard of the save) sends it again
    mt.clear_draft(eng, users.os_actor().replace("os:", "local:"), f"concern:{meeting_id}")
    again = meeting_page(query={"meeting": meeting_id, "committee": "L1", "k_concern": key})
    fill_concern(again)
    press(again, "mtb_concern")
    assert len(concerns_of(eng, meeting_id)) == 1

    # and one that reloads after the save, with the draft saying it was saved: told so, given a new key
    fill_concern(at, text="A second concern")
    second = query(at, "k_concern")
    press(at, "mtb_concern")
    assert len(concerns_of(eng, meeting_id)) == 2
    reload = meeting_page(query={"meeting": meeting_id, "committee": "L1", "k_concern": second})
    assert "Your last entry in this form had been saved." in [s.value for s in reload.success]
    assert query(reload, "k_concern") != second


def test_a_draft_survives_a_new_session(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    field(at, "text_area", "concern", "description").input("Half typed when the laptop died")
    field(at, "selectbox", "concern", "category").set_value("drugs")
    at.run()
    assert mt.load_draft(eng, users.os_actor().replace("os:", "local:"), f"concern:{meeting_id}")["category"] == "drugs"
    fresh = meeting_page(query={"meeting": meeting_id, "committee": "L1"})
    assert field(fresh, "text_area", "concern", "description").value == "Half typed when the laptop died"
    assert field(fresh, "selectbox", "concern", "category").value == "drugs"
    assert concerns_of(eng, meeting_id).empty  # a draft is not a record


def test_a_second_person_changing_the_same_concern_sees_the_first_change_and_keeps_their_text(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    field(at, "radio", "status", "status_K1").set_value("resolved")
    at.run()
    field(at, "text_area", "status", "taken_K1").input("My note: patrols at night")
    at.run()
    # meanwhile someone else saves the concern
    k1 = mt.get(eng, "concern", "K1")
    mt.change_status(
        eng, "K1", "in_progress", version=k1["version"], action_taken="Their note: asked the municipality",
        actor="other@police.example", key=mt.new_key(),
    )  # fmt: skip
    press(at, "mtb_status")
    warning = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "Their note: asked the municipality" in warning
    assert mt.get(eng, "concern", "K1")["status"] == "in_progress"  # theirs, not overwritten
    assert field(at, "text_area", "status", "taken_K1").value == "My note: patrols at night"
    press(at, "mtb_status")  # re-applied knowingly
    assert mt.get(eng, "concern", "K1")["action_taken"] == "My note: patrols at night"
    assert list(mt.meeting_records(eng, meeting_id).status_changes["status"]) == ["resolved"]


def test_a_concern_resolved_by_someone_else_meanwhile_stays_on_screen_and_no_other_concern_is_saved(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    other = mt.add_concern(
        eng, meeting_id, "theft", "Bicycles stolen at the station", True, section_id="S1",
        actor="other@police.example", key=mt.new_key(),
    ).record_id  # fmt: skip
    at.run()  # another open concern, next in the list, that the click must not change
    assert len(at.selectbox(key="mt_status_concern").options) == 2
    others = [other]
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    field(at, "text_area", "status", "taken_K1").input("My note: patrols at night")
    at.run()
    before = {c: mt.get(eng, "concern", c)["version"] for c in others}
    k1 = mt.get(eng, "concern", "K1")
    mt.change_status(
        eng, "K1", "resolved", version=k1["version"], action_taken="Their note: lights repaired",
        resolved_on=dt.date(2024, 3, 5), actor="other@police.example", key=mt.new_key(),
    )  # fmt: skip
    press(at, "mtb_status")  # K1 is no longer open: the list would have moved on to the next concern
    assert at.selectbox(key="mt_status_concern").value == "K1"
    warning = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "Their note: lights repaired" in warning
    assert mt.get(eng, "concern", "K1")["status"] == "resolved"  # theirs stands
    assert {c: mt.get(eng, "concern", c)["version"] for c in others} == before  # nothing else was saved
    assert field(at, "text_area", "status", "taken_K1").value == "My note: patrols at night"


# ---------------------------------------------------------------- the demo


def test_on_the_demo_the_first_recording_imports_it_into_the_database_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "own"))
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    at = meeting_page()
    eng = db.engine(Settings.load())
    assert not (db.ready(eng) and store.has_data(eng))  # the demo is read from its files until now
    assert "the demo is first imported" in texts(at)
    press(at, "mtb_import")
    assert store.has_data(eng)
    meeting_id = open_meeting(at)
    first = field(at, "selectbox", "concern", "section_id").options[0]
    fill_concern(at, section=first.rsplit("(", 1)[1].rstrip(")"))
    press(at, "mtb_concern")
    assert "Demo data" in texts(at)  # still labelled the demo
    assert len(concerns_of(eng, meeting_id)) == 1


# ---------------------------------------------------------------- the fragments' own check


def test_fresh_visitor_looks_the_user_up_again(eng):
    from datetime import UTC, datetime, timedelta

    from geo import access
    from views import gate
    from views.meeting import committees_for

    settings = Settings.load()
    email = "cmdsec@police.example"
    users.grant(eng, email, "secretary", actor="os:test@host")
    users.set_committees(eng, email, frozenset({"L1"}), actor="os:test@host")
    user = users.get(eng, email)
    decided = access.decide(
        sign_in=True, anonymous=False, open_network=False, public_mode=False, local=False, signed_in=True,
        roles=user.roles,
    )  # fmt: skip
    who = gate.Visitor(decided, email, None, email, "cmdsec", user)
    assert committees_for(gate.fresh_visitor(settings, who, lambda a: a.meeting)) == {"L1"}
    users.set_committees(eng, email, frozenset({"M1"}), actor="os:test@host")  # reassigned meanwhile
    assert committees_for(gate.fresh_visitor(settings, who, lambda a: a.meeting)) == {"M1"}
    users.grant(eng, email, "commander", actor="os:test@host")  # a commander records for every committee
    fresh = gate.fresh_visitor(settings, who, lambda a: a.meeting)
    assert fresh.access.restricted and committees_for(fresh) is None
    users.touch(eng, email, datetime.now(UTC) - timedelta(minutes=settings.idle_minutes + 1))
    assert gate.fresh_visitor(settings, who, lambda a: a.meeting) is None  # a restricted role, idle too long
    users.touch(eng, email, datetime.now(UTC))
    users.revoke(eng, email, actor="os:test@host")
    assert gate.fresh_visitor(settings, who, lambda a: a.meeting) is None  # no role left
    users.grant(eng, email, "secretary", actor="os:test@host")
    users.set_disabled(eng, email, True, actor="os:test@host")
    assert gate.fresh_visitor(settings, who, lambda a: a.meeting) is None
    # the local user (no sign-in) keeps the run's access
    assert gate.fresh_visitor(settings, gate.LOCAL, lambda a: a.meeting) is gate.LOCAL


def test_the_action_taken_typed_for_a_status_change_is_kept_as_a_draft(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    field(at, "text_area", "status", "taken_K1").input("Patrols, typed before the power cut")
    at.run()
    fresh = meeting_page(query={"meeting": meeting_id, "committee": "L1"})
    fresh.selectbox(key="mt_status_concern").set_value("K1").run()
    assert field(fresh, "text_area", "status", "taken_K1").value == "Patrols, typed before the power cut"


def test_a_url_key_used_by_another_meeting_does_not_stop_or_lose_a_save(eng):
    at = meeting_page()
    first = open_meeting(at)
    key = query(at, "k_concern")
    fill_concern(at)
    press(at, "mtb_concern")
    second = mt.open_meeting(eng, "L1", mt.now_local().date(), actor="other", key=mt.new_key()).record_id
    copied = meeting_page(query={"meeting": second, "committee": "L1", "k_concern": key})  # a URL copied
    fill_concern(copied)
    press(copied, "mtb_concern")
    assert len(concerns_of(eng, first)) == 1 and len(concerns_of(eng, second)) == 1
