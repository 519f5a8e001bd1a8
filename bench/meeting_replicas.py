"""10 committee secretaries saving concerns at once on the meeting page, through two Streamlit replicas of one
PostgreSQL database: every save recorded exactly once (counted in the database), and the save time as each
secretary sees it.

A temporary PostgreSQL 15 cluster (:mod:`bench.pg`, durable defaults) holds the demo, imported first, and one
open meeting of each of 10 committees (:func:`geo.meetings.open_meeting`). Two ``streamlit run dashboard.py``
processes (:func:`bench.replicas.start_replica`) share it (``DASHBOARD_DATABASE_URL``); one headless Chromium
(Debian's) has a page per secretary (its own browser context), half of them on each replica's port, each on
its committee's meeting (``/meeting?committee=…&meeting=…``), on the "Concerns raised" tab. The visitor is
the server's own computer (the restricted local user): signing in adds nothing to a save.

Then ``--per`` rounds. In each, every secretary fills the form (a category, a section, a description of
their own), and then all press "Save the concern" one after the other without waiting (a burst: 10 saves in
flight on two processes); in the first round each presses it twice (a double click). A save is timed in the
page itself: from ``Date.now()`` just before the press to the moment the page shows "Saved: the concern."
(a ``MutationObserver``); the driver waits on that condition, never sleeps. At the end the concerns of each
meeting are counted: ``sessions × per`` recorded, none lost, none twice.

    python -m bench.meeting_replicas [--sessions 10] [--per 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.database import base_env, demo_folder  # noqa: E402
from bench.pg import Cluster  # noqa: E402
from bench.replicas import CHROMIUM_ARGS, free_port, memory, pct, start_replica, wait_healthy  # noqa: E402

SAVED = "Saved: the concern."
#: Records in the page when a save pressed at ``window.__pressed`` is done: "Saved" shown and the form anew
#: (its description, filled before the press, empty again).
WATCH = """
() => {
  window.__saved = [];
  new MutationObserver(() => {
    const t = window.__pressed;
    if (!t || window.__saved.some(s => s[0] === t)) return;
    const shown = (document.body.innerText || '').includes(SAVED);
    const anew = [...document.querySelectorAll('textarea')].every(a => a.value === '');
    if (shown && anew) window.__saved.push([t, Date.now()]);
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}
""".replace("SAVED", json.dumps(SAVED))
DONE = "(t) => (window.__saved || []).some(s => s[0] === t)"
TOOK = "(t) => { const s = window.__saved.find(s => s[0] === t); return s[1] - s[0]; }"


def prepare(url: str, sessions: int) -> list[tuple[str, str, str]]:
    """The demo in the database and an open meeting of each of ``sessions`` committees: (committee, meeting,
    a section of the committee's municipality)."""
    import datetime as dt

    import sqlalchemy as sa

    from geo import db, dbimport, store
    from geo import meetings as mt

    eng = db.engine(url=url)
    db.upgrade(eng)
    folder = demo_folder(Path(tempfile.mkdtemp(prefix="bench-meeting-demo-")))
    paths = {k: folder / v for k, v in json.loads((folder / "options.json").read_text())["files"].items()}
    assert dbimport.run(eng, paths).ok
    sections = store.read(eng, ["sections"])[1]["sections"].frame
    with eng.connect() as conn:
        rows = conn.execute(sa.select(db.COMMITTEES.c.committee_id, db.COMMITTEES.c.municipality)).all()
    found = []
    for committee, municipality in rows:
        inside = sections[sections["municipality"] == municipality]
        if inside.empty:
            continue
        meeting = mt.open_meeting(eng, committee, dt.date.today(), actor="bench", key=mt.new_key()).record_id
        found.append((str(committee), str(meeting), str(inside["section_id"].iloc[0])))
        if len(found) == sessions:
            break
    if len(found) < sessions:
        raise SystemExit(f"the demo has {len(found)} committees with sections, not {sessions}")
    return found


def open_form(page, base: str, committee: str, meeting: str) -> None:
    page.goto(f"{base}/meeting?committee={committee}&meeting={meeting}&lang=en", wait_until="domcontentloaded")
    page.get_by_role("tab", name="Concerns raised").click(timeout=120_000)
    page.get_by_role("button", name="Save the concern").wait_for(timeout=120_000)
    page.evaluate(WATCH)


def settled(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-test-script-state]')?.dataset.testScriptState === 'notRunning'",
        timeout=120_000,
    )


def choose_first(page, label: str) -> None:
    """The first option of the main area's select box labelled ``label``."""
    from playwright.sync_api import TimeoutError as Timeout

    for attempt in range(5):  # a rerun (the draft kept as the user chooses) may redraw the open list
        settled(page)
        page.locator(f"[data-testid='stMain'] input[aria-label='{label}']:visible").first.click()
        try:
            page.get_by_role("option").first.click(timeout=10_000)
            return
        except Timeout:
            if attempt == 4:
                raise


def fill(page, text: str) -> None:
    choose_first(page, "Category")
    choose_first(page, "Section")
    area = page.get_by_label("Description", exact=True)
    area.fill(text)
    area.blur()
    settled(page)


def run(sessions: int, per: int, log=print) -> dict:
    from playwright.sync_api import sync_playwright

    from geo import db
    from geo import meetings as mt

    work = Path(tempfile.mkdtemp(prefix="bench-meeting-replicas-"))
    with Cluster.start() as pg:
        url = pg.create_database("bench_meetings")
        jobs = prepare(url, sessions)
        env = base_env(DASHBOARD_DATABASE_URL=url, DASHBOARD_DATA_DIR=str(work / "own"), DASHBOARD_TILES_URL="")
        ports = [free_port(), free_port()]
        procs = [start_replica(ROOT, env, p, work / f"replica-{p}.log") for p in ports]
        try:
            for port, proc in zip(ports, procs, strict=True):
                wait_healthy(port, proc, time.time() + 120)
            times: list[float] = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                pages = []
                for i, (committee, meeting, _section) in enumerate(jobs):
                    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
                    open_form(page, f"http://127.0.0.1:{ports[i % 2]}", committee, meeting)
                    pages.append(page)
                log(f"{len(pages)} secretaries on the meeting page, {len(pages) // 2} per replica")
                for r in range(per):
                    for i, page in enumerate(pages):
                        fill(page, f"bench secretary {i} concern {r}")
                    pressed = []
                    for page in pages:  # the burst: every save sent before any is waited for
                        button = page.get_by_role("button", name="Save the concern")
                        t = page.evaluate("() => (window.__pressed = Date.now())")
                        button.dblclick() if r == 0 else button.click()
                        pressed.append(t)
                    for page, t in zip(pages, pressed, strict=True):
                        page.wait_for_function(DONE, arg=t, timeout=120_000, polling=50)
                        times.append(page.evaluate(TOOK, t) / 1000)
                        page.wait_for_function(  # the form starts anew, empty
                            "() => [...document.querySelectorAll('textarea')].every(t => t.value === '')",
                            timeout=120_000,
                        )
                    log(f"round {r + 1}: {len(pages)} saves")
                browser.close()
            rss = [memory(proc.pid) for proc in procs]
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
        eng = db.engine(url=url)
        recorded = []
        for _committee, meeting, _section in jobs:
            recorded += list(mt.meeting_records(eng, meeting).concerns["description"])
        eng.dispose()
    expected = {f"bench secretary {i} concern {r}" for i in range(sessions) for r in range(per)}
    return {
        "sessions": sessions,
        "per": per,
        "expected": len(expected),
        "recorded": len(recorded),
        "lost": len(expected - set(recorded)),
        "twice": len(recorded) - len(set(recorded)),
        "unexpected": len(set(recorded) - expected),
        "save_s": times,
        "rss_mb": [m.get("VmRSS") for m in rss],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.meeting_replicas", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10, help="secretaries, each a browser session")
    parser.add_argument("--per", type=int, default=3, help="concerns each saves (the first with a double click)")
    args = parser.parse_args(argv)
    got = run(args.sessions, args.per)
    t = got["save_s"]
    print()
    print("| secretaries | replicas | saves | recorded | lost | twice | save median (s) | p95 (s) | max (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {got['sessions']} | 2 | {got['expected']} | {got['recorded']} | {got['lost']} | {got['twice']} | "
        f"{statistics.median(t):.2f} | {pct(t, 0.95):.2f} | {max(t):.2f} |"
    )
    print(f"\nreplicas' resident memory at the end (MB): {got['rss_mb']}")
    ok = got["lost"] == 0 and got["twice"] == 0 and got["unexpected"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
