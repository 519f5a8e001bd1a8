"""The meeting page's record details (views/meeting.py), in AppTest on the embedded default (the fixtures of
tests/test_meeting_page.py): a concern's history in words, an action marked done (with the conflict case), a
record retracted with a reason, a text redacted by an administrator (audited first), and hostile text shown
literally on the page, in the minutes and on the Concerns page.
"""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import test_meeting_page as base
from dashboard_fixtures import ok, texts
from payloads import BLOCK, EVAL, decoded, inert_findings
from streamlit.testing.v1 import AppTest
from test_meeting_page import field, fill_concern, meeting_page, open_meeting, press

from geo import meetings as mt
from geo import store, users
from geo.public import PublicPolicy
from views import meeting as page

ADMIN = "admin@police.example"
#: The fresh embedded database of tests/test_meeting_page.py.
eng = base.eng


def local_actor() -> str:
    return users.os_actor().replace("os:", "local:")


def shown_frames(at) -> str:
    return "\n".join(d.value.to_csv() for d in at.dataframe)


def history_frame(at) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if "What changed" in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


# ---------------------------------------------------------------- history


def test_a_concerns_history_is_told_in_words_with_before_and_after(eng):
    at = meeting_page()
    open_meeting(at)
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    field(at, "radio", "status", "status_K1").set_value("in_progress")
    at.run()
    field(at, "text_area", "status", "taken_K1").input("Patrols at night")
    press(at, "mtb_status")
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    rows = history_frame(at)
    assert list(rows["Change"])[-1] == "status changed"
    last = rows["What changed"].iloc[-1]
    assert "Status: Open → In progress" in last and "Action taken: – → Patrols at night" in last
    assert "{" not in "".join(rows["What changed"])  # no raw JSON
    assert rows["Who"].iloc[-1] == local_actor()
    when = dt.datetime.strptime(rows["When"].iloc[-1], "%d.%m.%Y %H:%M")
    assert abs(when - mt.now_local().replace(tzinfo=None)) < dt.timedelta(minutes=5)  # Kosovo time


def test_a_resolved_concerns_history_is_still_shown_once_the_meeting_is_closed(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    fill_concern(at, text="Lights out")
    press(at, "mtb_concern")
    concern = str(mt.meeting_records(eng, meeting_id).concerns["concern_id"].iloc[0])
    mt.change_status(eng, concern, "resolved", version=1, action_taken="Fixed", actor="other", key=mt.new_key())
    press(at, "mtb_close")
    at.selectbox(key="mt_raised_history").set_value(concern).run()
    rows = history_frame(at)
    assert list(rows["Change"]) == ["created", "status changed"]
    assert "Status: Open → Resolved" in rows["What changed"].iloc[1] and rows["Who"].iloc[1] == "other"


def test_the_history_speaks_the_session_language():
    from geo import i18n

    event = mt.Event("e", dt.datetime(2026, 3, 1, 18, 5), "sec@x", "concern", "K1", "status",
                     {"status": "open"}, {"status": "resolved"})  # fmt: skip
    rows = page.history_rows(i18n.translator("sq"), [event])
    assert rows.columns[0] != "When" and rows.iloc[0, 2] != "status changed"
    assert "→" in rows.iloc[0, 3] and "resolved" not in rows.iloc[0, 3]


def test_a_redaction_says_who_and_when_never_the_text():
    from geo import i18n

    events = [
        mt.Event("a", dt.datetime(2026, 3, 1, 18, 5), "sec@x", "concern", "K9", "created", None,
                 {"description": None, "category": "drugs", "status": "open"}),
        mt.Event("b", dt.datetime(2026, 3, 2, 9, 30), ADMIN, "concern", "K9", "redacted", None,
                 {"redacted": "description"}),
    ]  # fmt: skip
    rows = page.history_rows(i18n.translator("en"), events)
    assert list(rows["Change"]) == ["created", "redacted"]
    assert rows["What changed"].iloc[1] == f"Description redacted by {ADMIN} on 02.03.2026 09:30"
    assert rows["What changed"].iloc[0] == "Category: Drugs; Status: Open"  # the blanked text is not listed


# ---------------------------------------------------------------- actions done, retraction


def test_an_action_is_marked_done_and_a_concurrent_change_is_shown(eng):
    first = mt.add_action(eng, "K1", "Lights fixed", "municipality", actor="x", key=mt.new_key()).record_id
    second = mt.add_action(eng, "K1", "Patrols", "police", actor="x", key=mt.new_key()).record_id
    at = meeting_page()
    meeting_id = open_meeting(at)
    at.selectbox(key="mt_done_action").set_value(first).run()
    press(at, "mtb_done")
    assert "Saved: the action is done." in [s.value for s in at.success]
    done = mt.get(eng, "action", first)
    assert done["done_on"] is not None and done["version"] == 2
    assert first not in at.selectbox(key="mt_done_action").options
    assert list(mt.meeting_records(eng, meeting_id).status_changes["record_id"]) == [first]

    at.selectbox(key="mt_done_action").set_value(second).run()
    version = mt.get(eng, "action", second)["version"]
    mt.mark_action_done(eng, second, version=version, actor="other@police.example", key=mt.new_key())
    press(at, "mtb_done")
    assert "Someone else changed this action" in texts(at)
    assert mt.get(eng, "action", second)["version"] == version + 1  # theirs stands
    assert len(mt.history(eng, "action", second)) == 2


def test_a_concern_retracted_with_a_reason_leaves_the_agenda_and_stays_in_the_history(eng):
    at = meeting_page()
    open_meeting(at)
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    press(at, "mtb_retract_concern_K1")
    assert "Required." in texts(at)  # no reason, nothing retracted
    assert mt.get(eng, "concern", "K1")["retracted"] is None
    field(at, "text_input", "retract_concern", "reason_K1").input("Recorded twice")
    at.run()
    press(at, "mtb_retract_concern_K1")
    assert "Retracted: it stays in the history." in [s.value for s in at.success]
    assert "K1" not in set(mt.agenda(eng, "L1").concerns["concern_id"])
    history = mt.history(eng, "concern", "K1")
    assert history[-1].change == "retracted" and history[-1].after["retracted"] == "Recorded twice"
    assert "Vjedhje, shpesh" not in shown_frames(at)


# ---------------------------------------------------------------- redaction


def admin_page(eng) -> AppTest:
    users.grant(eng, ADMIN, "commander", actor="os:test@host")
    users.grant(eng, ADMIN, "administrator", actor="os:test@host")
    at = meeting_page(email=ADMIN)
    open_meeting(at)
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    return at


def test_an_administrator_redacts_a_text_audited_first(eng):
    text = mt.get(eng, "concern", "K1")["description"]
    at = admin_page(eng)
    at.selectbox(key="mt_redact_field_K1").set_value("description").run()
    assert at.button(key="mtb_redact_K1").disabled  # not before confirming
    at.checkbox(key="mt_redact_sure_K1").check().run()
    press(at, "mtb_redact_K1")
    assert mt.get(eng, "concern", "K1")["description"] is None
    assert "Redacted: the history keeps only that it was." in [s.value for s in at.success]
    audit = users.entries(eng, action="redaction")
    assert len(audit) == 1 and audit["actor"].iloc[0] == ADMIN
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    rows = history_frame(at)
    assert rows["What changed"].iloc[-1].startswith(f"Description redacted by {ADMIN} on ")
    assert text not in shown_frames(at) and text not in texts(at)


def test_a_redaction_that_cannot_be_audited_is_refused(eng, monkeypatch):
    at = admin_page(eng)
    at.selectbox(key="mt_redact_field_K1").set_value("description").run()
    at.checkbox(key="mt_redact_sure_K1").check().run()

    def broken(*args, **kwargs):
        raise users.AuditError("the audit log is read-only")

    monkeypatch.setattr(users, "record", broken)
    press(at, "mtb_redact_K1")
    assert "Not redacted" in "\n".join(w.value for w in at.warning)
    assert mt.get(eng, "concern", "K1")["description"]


def test_only_an_administrator_sees_the_redaction(eng):
    at = meeting_page()
    open_meeting(at)
    at.selectbox(key="mt_status_concern").set_value("K1").run()
    assert not any(b.key == "mtb_redact_K1" for b in at.button)
    assert any(b.key == "mtb_retract_concern_K1" for b in at.button)


# ---------------------------------------------------------------- hostile text

HOSTILE = f"{EVAL} <script>alert(1)</script> **bold** [x](javascript:alert(1)) {BLOCK}"


def test_hostile_text_is_shown_literally_on_the_page_in_the_minutes_and_on_the_concerns_page(eng):
    at = meeting_page()
    meeting_id = open_meeting(at)
    fill_concern(at, text=HOSTILE, public=True)
    press(at, "mtb_concern")
    saved = mt.meeting_records(eng, meeting_id).concerns
    assert list(saved["description"]) == [HOSTILE]  # stored as typed
    concern = str(saved["concern_id"].iloc[0])
    # the meeting page: in tables as text; wherever Markdown shows it, escaped
    assert HOSTILE in shown_frames(at)
    at.selectbox(key="mt_status_concern").set_value(concern).run()
    assert HOSTILE in shown_frames(at)  # in the history too
    assert "<script>" not in texts(at) and "**bold**" not in texts(at)
    assert inert_findings(texts(at) + shown_frames(at), "meeting page", names=False) == []

    sections = store.read(eng, ["sections"])[1]["sections"].frame[["section_id", "section_name"]]
    for policy in (None, PublicPolicy.for_public_version({"DASHBOARD_PUBLIC_SECRET": "s" * 32})):
        out = page.minutes_file(eng, meeting_id, "en", policy, "html", sections).decode("utf-8")
        assert "<script>alert" not in out and 'href="javascript' not in out and "<strong>bold" not in out
        assert html.escape("<script>alert(1)</script>") in out or "&lt;script&gt;" in out
        assert HOSTILE in decoded(out)  # literally, "{{7*7}}" and all
        assert inert_findings(out, "minutes", names=False) == []

    at.switch_page("views/concerns.py").run()
    at.sidebar.date_input(key="period_end").set_value(mt.now_local().date()).run()  # the concern is of today
    ok(at)
    assert HOSTILE in shown_frames(at)
    assert "<script>" not in texts(at) and "**bold**" not in texts(at)
    assert inert_findings(texts(at) + shown_frames(at), "concerns page", names=False) == []
