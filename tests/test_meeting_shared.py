"""The meeting issue's end to end, on a shared PostgreSQL deployment with sign-in (AppTest's user seeding stands
for the provider; tests/test_signin_browser.py signs in for real): a committee secretary, in Albanian, records a
meeting with three concerns, two actions and one concern resolved, closes it and takes its minutes (PDF, read
with pypdf); a commander's own session, open on the Concerns page before, shows the new concerns on its map at
its next refresh, and the secretary's records carry the secretary as their author.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from dashboard_fixtures import ok
from store_fixtures import new_engine_url, write_files  # noqa: F401 - the fixture
from streamlit.testing.v1 import AppTest
from test_meeting_page import concerns_of, field, fill_concern, meeting_page, open_meeting, press
from test_print_page import DEFERRED, recording_media  # noqa: F401 - its autouse fixture keeps the downloads
from test_public_leaks import map_features, proto_texts, walk
from test_roles_pages import AUTH

from geo import db, dbimport, users
from geo import meetings as mt

pypdf = pytest.importorskip("pypdf", reason="pypdf reads the minutes")

SECRETARY = "sekretaria@kp.example"
COMMANDER = "komandanti@kp.example"
HELD = dt.date(2024, 2, 20)  # in the small files' default period (February 2024)
#: The three concerns: (category, section, description), of categories the Concerns map compares.
RAISED = [
    ("theft", "S1", "Vjedhje biçikletash te shkolla"),
    ("road_safety", "S1", "Makinat kalojnë shpejt pranë shkollës"),
    ("drugs", "S2", "Shitje droge në park"),
]


@pytest.fixture
def shared(new_engine_url, tmp_path, monkeypatch):  # noqa: F811
    """A deployment on a database of the session's PostgreSQL cluster holding the small files, sign-in
    configured, a secretary of committee L1 and a commander."""
    url = new_engine_url()
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "own"))
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url)
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    eng = db.engine(url=url)
    db.upgrade(eng)
    assert dbimport.run(eng, write_files(tmp_path / "files")).ok
    users.grant(eng, SECRETARY, "secretary", actor="os:test@host")
    users.set_committees(eng, SECRETARY, ["L1"], actor="os:test@host")
    users.grant(eng, COMMANDER, "commander", actor="os:test@host")
    return eng


def concerns_on_the_map(at: AppTest) -> dict[str, int]:
    """Each section's "Concerns" in the tooltips of the Concerns page's map (what st_folium was given)."""
    texts: list[str] = []
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            proto_texts(proto, texts, [])
    found = {}
    for sid, props in map_features("\n".join(texts)).items():
        m = re.search(r"<td>Concerns</td><td[^>]*>(\d+)</td>", str(props.get("tip", "")))
        if m:
            found[sid] = int(m.group(1))
    return found


@pytest.mark.parametrize("new_engine_url", ["postgres"], indirect=True)
def test_a_secretary_records_a_meeting_and_a_commander_sees_its_concerns_on_the_map(shared):
    eng = shared
    commander = AppTest.from_file("../dashboard.py", default_timeout=120)
    commander.secrets["auth"] = dict(AUTH)
    commander.user = {"is_logged_in": True, "email": COMMANDER, "name": "komandanti"}
    commander.session_state["lang"] = "en"
    commander.run()
    commander.switch_page("views/concerns.py").run()
    ok(commander)
    assert "RESTRICTED" in commander.markdown[0].value
    before = concerns_on_the_map(commander)  # (none: no concern of these categories in February yet)

    at = meeting_page("sq", email=SECRETARY)
    committee = at.selectbox(key="mt_committee")
    assert committee.value == "L1" and len(committee.options) == 1  # theirs only (the files have two)
    field(at, "date_input", "open", "held_on").set_value(HELD).run()
    meeting_id = open_meeting(at)
    for category, section, text in RAISED:
        fill_concern(at, category=category, section=section, text=text)
        press(at, "mtb_concern")
    raised = concerns_of(eng, meeting_id)
    assert list(raised["description"]) == [text for _c, _s, text in RAISED]
    ids = [str(c) for c in raised["concern_id"]]
    for concern, what, owner in ((ids[0], "Patrulla në orët e shkollës", "police"),
                                 (ids[1], "Shenja dhe pengesa shpejtësie", "municipality")):  # fmt: skip
        field(at, "selectbox", "action", "concern").set_value(concern)
        field(at, "text_input", "action", "what").input(what)
        field(at, "selectbox", "action", "owner").set_value(owner)
        press(at, "mtb_action")
    at.selectbox(key="mt_status_concern").set_value(ids[2]).run()
    field(at, "radio", "status", f"status_{ids[2]}").set_value("resolved")
    at.run()
    field(at, "text_area", "status", f"taken_{ids[2]}").input("Parku u ndriçua dhe patrullohet")
    press(at, "mtb_status")
    press(at, "mtb_close")

    records = mt.meeting_records(eng, meeting_id)
    assert records.meeting["closed_at"] is not None and len(records.actions) == 2
    assert list(records.status_changes["record_id"]) == [ids[2]]
    assert mt.get(eng, "concern", ids[2])["status"] == "resolved"
    assert {e.actor for e in mt.history(eng, "meeting", meeting_id)} == {SECRETARY}

    pdfs = [name for name in DEFERRED if name and name.endswith(".pdf")]  # made when the button is pressed
    assert pdfs == [f"minutes-L1-{HELD}-restricted.pdf"], list(DEFERRED)
    made = DEFERRED[pdfs[0]][1]()
    minutes = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(made)).pages)
    assert minutes.startswith("I KUFIZUAR · RESTRICTED")  # restricted: the secretary's own committee, in full
    assert "Procesverbali i takimit" in minutes and "Mbajtur më 20.02.2024" in minutes  # in Albanian
    for _c, _s, text in RAISED:
        assert text in minutes
    assert "Patrulla në orët e shkollës" in minutes and "Parku u ndriçua dhe patrullohet" in minutes

    commander.run()  # the commander's next refresh (views/live.py reruns the page when concerns move)
    ok(commander)
    after = concerns_on_the_map(commander)
    assert after, "no section's concerns were found on the map: the check would prove nothing"
    assert after.get("S1", 0) == before.get("S1", 0) + 2 and after.get("S2", 0) == before.get("S2", 0) + 1, (
        before,
        after,
    )
