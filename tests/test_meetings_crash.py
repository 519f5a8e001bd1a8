"""A server killed (``kill -9``) in the middle of saving a concern leaves no half-record; killed right after saves
it reported, it loses none of them. Real processes on both engines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from meeting_fixtures import TODAY, eng, engine_url, new_engine_url  # noqa: F401

from geo import db, store
from geo import meetings as mt

REPO = Path(__file__).resolve().parent.parent
#: The saving process: ``during`` stops inside the save's transaction (after the concern and its counts are
#: written, before the commit) and waits to be killed; ``after`` saves concerns one after the other and says
#: "saved ID KEY" once each save has returned.
CHILD = """
import sys, threading
from geo import db, meetings, store
eng = db.engine(url=sys.argv[1])
mode, meeting = sys.argv[2], sys.argv[3]
if mode == "during":
    write_image = store.write_image
    def stall(conn, name):
        write_image(conn, name)
        if name == "concerns":
            print("inside the transaction", flush=True)
            threading.Event().wait()
    store.write_image = stall
    meetings.add_concern(eng, meeting, "theft", "half", True, section_id="S1", actor="crash", key="during")
else:
    i = 0
    while True:
        key = f"after-{i}"
        saved = meetings.add_concern(eng, meeting, "theft", f"n{i}", True, section_id="S1", actor="crash", key=key)
        print("saved", saved.record_id, key, flush=True)
        i += 1
"""


def _child(url: str, mode: str, meeting: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, mode, meeting],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines(proc: subprocess.Popen, n: int, deadline_s: float = 120) -> list[str]:
    """The child's first ``n`` lines (readline blocks until each is written; a dead child ends the test)."""
    end = time.monotonic() + deadline_s
    out = []
    while len(out) < n:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"the saving process ended ({proc.wait()}): {proc.stderr.read()[-2000:]}")
        out.append(line.strip())
        assert time.monotonic() < end, "the saving process is too slow"
    return out


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _by_crash(engine) -> list[tuple[str, str]]:
    c = db.CONCERNS
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(c.c.concern_id, c.c.description).where(c.c.origin == "app"))]


def _consistent(engine, meeting: str) -> None:
    """Every recorded concern has its one 'created' event and its key; the meeting counts exactly them."""
    e, c = db.EVENTS, db.CONCERNS
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(c.c.concern_id).where(c.c.meeting_id == meeting))]
        created = conn.execute(
            sa.select(e.c.record_id).where(e.c.record_kind == "concern", e.c.change == "created")
        ).all()
        keys = conn.execute(sa.select(sa.func.count()).select_from(db.IDEMPOTENCY)).scalar_one()
        raised = conn.execute(sa.select(db.MEETINGS.c.concerns_raised).where(db.MEETINGS.c.meeting_id == meeting))
        counts = store.get_part(conn, "concerns")[1]
    assert sorted(r[0] for r in created) == sorted(ids)
    assert keys == len(ids) + 1  # and the meeting's opening
    assert raised.scalar_one() == len(ids)
    assert counts["loaded"] == 2 + len(ids)  # the two imported concerns and these


def test_killed_in_the_middle_of_a_save_leaves_no_half_record(eng, engine_url):  # noqa: F811
    meeting = mt.open_meeting(eng, "L1", TODAY, actor="t", key=mt.new_key(), today=TODAY).record_id
    revisions = store.revisions(eng)
    proc = _child(engine_url, "during", meeting)
    try:
        assert _lines(proc, 1) == ["inside the transaction"]
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _by_crash(eng) == []
    assert store.revisions(eng) == revisions
    _consistent(eng, meeting)
    # the key was never recorded: the same save again happens now, once
    saved = mt.add_concern(eng, meeting, "theft", "whole", True, section_id="S1", actor="t", key="during")
    assert not saved.replayed and _by_crash(eng) == [(saved.record_id, "whole")]
    _consistent(eng, meeting)


def test_killed_right_after_saves_it_reported_loses_none_of_them(eng, engine_url):  # noqa: F811
    meeting = mt.open_meeting(eng, "L1", TODAY, actor="t", key=mt.new_key(), today=TODAY).record_id
    proc = _child(engine_url, "after", meeting)
    try:
        reported = [line.split()[1:] for line in _lines(proc, 5)]
        _kill(proc)  # at once: the next save may be anywhere, from before its transaction to after its commit
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stored = dict(_by_crash(eng))
    assert {cid for cid, _key in reported} <= set(stored)  # every save reported saved is there
    assert len(stored) in (len(reported), len(reported) + 1)  # and at most the one in flight besides
    _consistent(eng, meeting)
    for cid, key in reported:  # a retry of a reported save (the page reloaded) writes nothing
        again = mt.add_concern(eng, meeting, "theft", "retry", True, section_id="S1", actor="t", key=key)
        assert again.replayed and again.record_id == cid
    assert len(dict(_by_crash(eng))) == len(stored)
