"""Fixtures of the meeting-capture tests: a database on each engine holding the small contract files
(committee L1, an LCPS covering S1 and S2, with meeting M1; committee M1, an MCPS), and a recorded meeting.

Test modules import what they use::

    from meeting_fixtures import eng, engine_url, new_engine_url  # noqa: F401
"""

from __future__ import annotations

import datetime as dt

import pytest
from store_fixtures import INSIDE, engine_url, new_engine_url, write_files  # noqa: F401

from geo import db, dbimport
from geo import meetings as mt

__all__ = ["INSIDE", "TODAY", "eng", "engine_url", "new_engine_url", "record_meeting"]

#: The day the tests run "today" (a fixed one: the rules on future dates are checked against it).
TODAY = dt.date(2026, 11, 20)
HELD = dt.date(2026, 11, 18)


@pytest.fixture
def eng(engine_url, tmp_path):  # noqa: F811
    """The database of ``engine_url`` with the small files imported."""
    engine = db.engine(url=engine_url)
    assert dbimport.run(engine, write_files(tmp_path / "files")).ok
    return engine


def record_meeting(eng, actor: str = "secretary@example.invalid") -> dict[str, str]:
    """A meeting of L1 with attendance, two concerns (one by section, one by a point), an action, the status
    change of the imported concern K1 to resolved, closed. Returns the ids."""
    m = mt.open_meeting(eng, "L1", HELD, actor=actor, key=mt.new_key(), today=TODAY).record_id
    mt.record_attendance(
        eng, m, 23, {"women": 9, "men": 14, "albanian": 19, "serb": 3}, version=None, actor=actor, key=mt.new_key()
    )
    lights = mt.add_concern(
        eng, m, "public_lighting", "Street lights out on Rruga A", True, section_id="S1", actor=actor,
        key=mt.new_key(), today=TODAY,
    ).record_id  # fmt: skip
    speed = mt.add_concern(
        eng, m, "road_safety", "Cars race past the school (Arben's house)", False, point=INSIDE["S2"],
        actor=actor, key=mt.new_key(), today=TODAY,
    ).record_id  # fmt: skip
    action = mt.add_action(
        eng, speed, "Speed checks twice a week", "police", due_on=dt.date(2027, 1, 15), meeting_id=m, actor=actor,
        key=mt.new_key(), today=TODAY,
    ).record_id  # fmt: skip
    k1 = mt.get(eng, "concern", "K1")
    mt.change_status(
        eng, "K1", "resolved", version=k1["version"], action_taken="Patrols at night", resolved_on=HELD,
        meeting_id=m, actor=actor, key=mt.new_key(), today=TODAY,
    )  # fmt: skip
    mt.close_meeting(eng, m, version=1, actor=actor, key=mt.new_key())
    return {"meeting": m, "lights": lights, "speed": speed, "action": action}
