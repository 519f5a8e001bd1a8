"""One database stage of the benchmark, in its own process: ``python bench/dbstage.py STAGE …``; prints JSON.

Stages (the deployment's database is the one of the environment: ``DASHBOARD_DATABASE_URL`` for
PostgreSQL, else the embedded SQLite file of ``DASHBOARD_DATA_DIR``):

* ``import DATA``: :func:`geo.dbimport.run` of the files of the data folder ``DATA`` (its
  ``options.json``) into an empty database; the schema (``db upgrade``) is made first and timed apart;
* ``fresh [N]``: the freshness check of a rerun: ``source.revisions()`` and ``views.cache.current``
  when nothing changed, median of ``N`` calls each (after one load, not timed);
* ``concern [N]``: the page in AppTest (the Overview's first run), then ``N`` times: another process
  records a concern (:func:`write_concern`) and this one reruns; the time from that commit to the end
  of the rerun that shows it (the "Open concerns" figure one higher), and whether the incidents' frame
  and cube are the very objects of before;
* ``write_concern N``: record concern number ``N`` as the app would (``origin="app"``), print the commit time;
* ``refresh_after_save N``: the source loaded as the app loads it (:func:`geo.source.refresh`, the incidents'
  cube built), then ``N`` times: a concern saved by :func:`geo.meetings.add_concern` (at a meeting of the
  committee :data:`COMMITTEE`, opened first) and ``refresh()`` timed; which tables it reloaded, and whether the
  incidents' frame and cube are the very objects of before;
* ``meeting_save N``: the meeting page in AppTest, a meeting opened on it, then ``N`` times the concern form
  filled and "Save the concern" pressed: the time from the press to the end of the run that shows "Saved";
* ``rerun_after_save N PAGE…``: the app in AppTest; on each page (``overview``, ``concerns``) ``N`` times: a
  concern saved the same way in this process (as the meeting page saves it), then a whole rerun of the page
  timed; whether the rerun loaded the new concern and kept the incidents' frame and cube.

Like :mod:`bench.stage`, it imports only the measured ``geo`` (and ``views``) and libraries.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from stage import peak_rss_mb  # noqa: E402


def clock() -> float:
    return time.perf_counter()


def stage_import(data: Path) -> dict:
    from geo import db, dbimport, saved, store
    from geo.settings import Settings

    source, problem = saved.read_folder(data, data.name)
    if source is None:
        return {"seconds": None, "error": problem}
    eng = db.engine(Settings.load())
    t = clock()
    db.upgrade(eng)
    t_schema = clock() - t
    steps: list[tuple[str, float]] = []

    def progress(label: str, total):
        steps.append((label, clock()))
        return lambda n: None

    t = clock()
    outcome = dbimport.run(eng, source.paths, source.options, progress=progress)
    seconds = clock() - t
    marks = [*steps, ("commit", clock())]
    out = {
        "seconds": seconds,
        "schema_seconds": t_schema,
        "steps": {a[0]: b[1] - a[1] for a, b in zip(marks, marks[1:], strict=False)},
        "ok": outcome.ok,
        "rows": store.rows(eng),
        "engine": eng.dialect.name,
    }
    if not outcome.ok:
        out["error"] = "; ".join(p.message for p in outcome.report.errors[:3])
    return out


def stage_fresh(n: int) -> dict:
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from geo.settings import Settings
    from geo.source import DatabaseSource
    from views import cache

    source = DatabaseSource(Settings.load())
    source.revisions()  # the pool's first connection
    times = []
    for _ in range(n):
        t = clock()
        source.revisions()
        times.append(clock() - t)
    t = clock()
    data, key = cache.current(source)  # the first load
    t_load = clock() - t
    again = []
    for _ in range(n):
        t = clock()
        d2, k2 = cache.current(source)
        again.append(clock() - t)
        assert d2 is data and k2 == key
    return {
        "seconds": statistics.median(times),
        "revisions_median_s": statistics.median(times),
        "revisions_p95_s": sorted(times)[int(0.95 * n)],
        "current_median_s": statistics.median(again),
        "current_p95_s": sorted(again)[int(0.95 * n)],
        "first_load_s": t_load,
        "calls": n,
        "incidents": len(data.incidents),
    }


#: The day the recorded concerns are raised on: inside the Overview's default period (the data's last month).
CONCERN_DAY = "2026-10-15"


def write_concern(n: int) -> dict:
    import pandas as pd

    from geo import db, store
    from geo.settings import Settings

    eng = db.engine(Settings.load())
    with eng.connect() as conn:
        import sqlalchemy as sa

        section = conn.execute(sa.select(db.SECTIONS.c.section_id).order_by(db.SECTIONS.c.rid).limit(1)).scalar_one()
    frame = pd.DataFrame(
        {
            "concern_id": pd.array([f"bench-concern-{n}-{os.getpid()}"], dtype="string"),
            "raised_on": pd.Series([pd.Timestamp(CONCERN_DAY)]).astype("datetime64[us]"),
            "category": pd.Series(["road_safety"], dtype="category"),
            "description": pd.array(["recorded by the benchmark"], dtype="string"),
            "description_public": [False],
            "source": pd.array(["lcps_meeting"], dtype="string"),
            "meeting_id": pd.array([None], dtype="string"),
            "status": pd.array(["open"], dtype="string"),
            "resolved_on": pd.Series([pd.NaT]).astype("datetime64[us]"),
            "action_taken": pd.array([None], dtype="string"),
            "lon": [float("nan")],
            "lat": [float("nan")],
            "section_id": pd.array([section], dtype="string"),
            "row": [n],
        }
    )
    t = clock()
    with db.write(eng) as conn:
        store.insert(conn, "concerns", frame, None, origin="app")
        problems, counts = store.get_part(conn, "concerns")
        counts = {**counts, "rows": counts.get("rows", 0) + 1}
        store.set_part(conn, "concerns", problems, counts)
        store.bump(conn, "concerns")
    committed = time.time()
    return {"seconds": clock() - t, "committed": committed}


def _open_concerns(at) -> str:
    """The Overview's "Open concerns" figure (found by its help text's key: the labels are translated)."""
    from geo import i18n

    labels = {i18n.translator(lang)("Open concerns") for lang in i18n.LANGS}
    for m in at.metric:
        if m.label in labels:
            return str(m.value)
    return ""


def stage_concern(n: int) -> dict:
    warnings.simplefilter("ignore")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path.cwd() / "dashboard.py"), default_timeout=600)
    t = clock()
    at.run()
    first = clock() - t
    if at.exception:
        return {"seconds": None, "error": [e.message for e in at.exception][:3]}
    from geo.settings import Settings
    from geo.source import DatabaseSource
    from views import cache

    latest = cache._latest(DatabaseSource(Settings.load()).key())
    if latest.loaded is None:
        return {"seconds": None, "error": "the page's loaded data is not where views.cache keeps it"}
    before = latest.loaded.dataset
    incidents, cube = before.incidents, before.__dict__.get("cube")
    shown = _open_concerns(at)
    latencies, reruns, same, writes = [], [], [], []
    for i in range(n):
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "write_concern", str(i), "--tree", str(Path.cwd())],
            capture_output=True,
            text=True,
            cwd=Path.cwd(),
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not lines:
            return {"seconds": None, "error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
        written = json.loads(lines[-1])
        t = clock()
        at.run()
        done = time.time()
        reruns.append(clock() - t)
        now = _open_concerns(at)
        if at.exception or now == shown:
            return {"seconds": None, "error": f"the rerun did not show the new concern ({shown} → {now})"}
        shown = now
        latencies.append(done - written["committed"])
        writes.append(written["seconds"])
        data = latest.loaded.dataset
        same.append(data.incidents is incidents and data.__dict__.get("cube") is cube and cube is not None)
    return {
        "seconds": statistics.median(latencies),
        "latencies_s": latencies,
        "rerun_s": reruns,
        "write_s": writes,
        "first_run_s": first,
        "incidents_and_cube_kept": all(same),
        "open_concerns_shown": shown,
    }


#: The committee the "after a save" stages save at: in the data folder the benchmark makes
#: (:func:`bench.meetings.rerun_folder`), covering the first section.
COMMITTEE = "LCPS-BENCH-1"


def _save_concern(eng, meeting: str, section: str, i: int) -> float:
    """One concern saved as the meeting page saves it; the seconds it took."""
    import datetime as dt

    from geo import meetings as mt

    t = clock()
    mt.add_concern(
        eng,
        meeting,
        "road_safety",
        f"after-save benchmark {i}",
        True,
        section_id=section,
        raised_on=dt.date.fromisoformat(CONCERN_DAY),
        actor="bench",
        key=mt.new_key(),
    )
    return clock() - t


def _meeting(eng) -> tuple[str, str]:
    """A meeting of :data:`COMMITTEE` opened on :data:`CONCERN_DAY`, and the section concerns are saved in."""
    import datetime as dt

    import sqlalchemy as sa

    from geo import db
    from geo import meetings as mt

    meeting = mt.open_meeting(
        eng, COMMITTEE, dt.date.fromisoformat(CONCERN_DAY), actor="bench", key=mt.new_key()
    ).record_id
    with eng.connect() as conn:
        section = conn.execute(sa.select(db.SECTIONS.c.section_id).order_by(db.SECTIONS.c.rid).limit(1)).scalar_one()
    return meeting, section


def stage_refresh_after_save(n: int) -> dict:
    warnings.simplefilter("ignore")
    from geo.settings import Settings
    from geo.source import TABLES, DatabaseSource, refresh

    source = DatabaseSource(Settings.load())
    eng = source.engine()
    t = clock()
    loaded = refresh(source)
    t_load = clock() - t
    t = clock()
    cube = loaded.dataset.cube  # as the pages build it
    t_cube = clock() - t
    incidents = loaded.dataset.incidents
    meeting, section = _meeting(eng)
    loaded = refresh(source, loaded)  # the meeting: not timed
    saves, refreshes, revisions_s, reloaded, same, concerns = [], [], [], [], [], []
    for i in range(n):
        before = loaded
        saves.append(_save_concern(eng, meeting, section, i))
        t = clock()
        source.revisions()
        revisions_s.append(clock() - t)
        t = clock()
        loaded = refresh(source, before)
        refreshes.append(clock() - t)
        reloaded.append(sorted(x for x in TABLES if loaded.revisions.get(x) != before.revisions.get(x)))
        data = loaded.dataset
        same.append(data.incidents is incidents and data.__dict__.get("cube") is cube)
        concerns.append(len(data.concerns) - len(before.dataset.concerns))
    return {
        "seconds": statistics.median(refreshes),
        "refresh_s": refreshes,
        "revisions_s": revisions_s,
        "save_s": saves,
        "first_load_s": t_load,
        "cube_s": t_cube,
        "reloaded": reloaded,
        "incidents_and_cube_kept": all(same),
        "new_concerns_loaded": concerns,
        "incidents": len(incidents),
        "concerns": len(loaded.dataset.concerns),
    }


PAGES = {"overview": "views/overview.py", "concerns": "views/concerns.py"}


def _errors(at) -> dict | None:
    """The stage's result when the app's last run raised, else ``None``."""
    return {"seconds": None, "error": [e.message for e in at.exception][:3]} if at.exception else None


def _app_first_run():
    """The dashboard in AppTest (English), its first run timed: (the AppTest, seconds, the deployment's source)."""
    from streamlit.testing.v1 import AppTest

    from geo.settings import Settings
    from geo.source import DatabaseSource

    at = AppTest.from_file(str(Path.cwd() / "dashboard.py"), default_timeout=600)
    at.session_state["lang"] = "en"
    t = clock()
    at.run()
    return at, clock() - t, DatabaseSource(Settings.load())


def stage_rerun_after_save(n: int, pages: list[str]) -> dict:
    warnings.simplefilter("ignore")
    from views import cache

    at, first, source = _app_first_run()
    if err := _errors(at):
        return err
    eng = source.engine()
    latest = cache._latest(source.key())
    if latest.loaded is None:
        return {"seconds": None, "error": "the page's loaded data is not where views.cache keeps it"}
    incidents, cube = latest.loaded.dataset.incidents, latest.loaded.dataset.__dict__.get("cube")
    meeting, section = _meeting(eng)
    out: dict = {"first_run_s": first, "pages": {}}
    for page in pages:
        t = clock()
        at.switch_page(PAGES[page]).run()  # the page's first run and a plain rerun: not timed
        switched = clock() - t
        t = clock()
        at.run()
        plain = clock() - t
        if err := _errors(at):
            return err
        reruns, saves, same, shown = [], [], [], []
        for i in range(n):
            count = len(latest.loaded.dataset.concerns)
            saves.append(_save_concern(eng, meeting, section, i))
            t = clock()
            at.run()
            reruns.append(clock() - t)
            if err := _errors(at):
                return err
            data = latest.loaded.dataset
            shown.append(len(data.concerns) - count)
            same.append(data.incidents is incidents and data.__dict__.get("cube") is cube and cube is not None)
        out["pages"][page] = {
            "rerun_s": reruns,
            "median_s": statistics.median(reruns),
            "save_s": saves,
            "switch_s": switched,
            "plain_rerun_s": plain,
            "incidents_and_cube_kept": all(same),
            "new_concerns_loaded": shown,
        }
    out["seconds"] = max(p["median_s"] for p in out["pages"].values())
    return out


def _field(at, kind: str, form: str, name: str):
    """A meeting form's widget by its field (its key carries the form's generation, ``mt_<form>_<n>_<name>``)."""
    import re

    pattern = re.compile(rf"mt_{form}_\d+_{name}$")
    found = [w for w in getattr(at, kind) if w.key and pattern.match(w.key)]
    if len(found) != 1:
        raise LookupError(f"{kind} {form}.{name}: {[w.key for w in getattr(at, kind)]}")
    return found[0]


def stage_meeting_save(n: int) -> dict:
    """The meeting page in AppTest, as the secretary uses it: a meeting of :data:`COMMITTEE` opened on the page;
    then ``n`` times the concern form filled (category, section, description) and "Save the concern" pressed,
    timed from the press to the end of the page's run that shows "Saved: the concern." (the save's transaction
    and the whole-page rerun after it). AppTest runs the whole script for a press inside a fragment, where the
    browser runs the fragment first: the time is an upper bound of the browser's."""
    warnings.simplefilter("ignore")
    from geo import meetings as mt
    from views import cache

    at, first, source = _app_first_run()
    if err := _errors(at):
        return err
    eng = source.engine()
    t = clock()
    at.switch_page("views/meeting.py").run()
    switched = clock() - t
    if err := _errors(at):
        return err
    at.button(key="mtb_open").click().run()
    if err := _errors(at):
        return err
    latest = cache._latest(source.key())
    incidents = latest.loaded.dataset.incidents if latest.loaded is not None else None
    t = clock()
    at.run()
    plain = clock() - t
    presses, shown, same = [], [], []
    meeting = at.query_params["meeting"]
    meeting = meeting if isinstance(meeting, str) else meeting[0]
    for i in range(n):
        _field(at, "selectbox", "concern", "category").set_value("road_safety")
        section_box = _field(at, "selectbox", "concern", "section_id")
        section_box.set_value(section_box.options[0])
        _field(at, "text_area", "concern", "description").input(f"meeting-page benchmark {i}")
        at.run()
        before = len(mt.meeting_records(eng, meeting).concerns)
        t = clock()
        at.button(key="mtb_concern").click().run()
        presses.append(clock() - t)
        if err := _errors(at):
            return err
        saved_once = len(mt.meeting_records(eng, meeting).concerns) == before + 1
        shown.append(saved_once and "Saved: the concern." in [s.value for s in at.success])
        now = cache._latest(source.key()).loaded
        same.append(incidents is not None and now is not None and now.dataset.incidents is incidents)
    return {
        "seconds": statistics.median(presses),
        "press_to_saved_s": presses,
        "plain_rerun_s": plain,
        "first_run_s": first,
        "switch_s": switched,
        "saved_and_shown": shown,
        "incidents_kept": all(same),
    }


def main(argv: list[str]) -> int:
    tree = Path.cwd()
    if "--tree" in argv:
        i = argv.index("--tree")
        tree = Path(argv[i + 1]).resolve()
        argv = argv[:i] + argv[i + 2 :]
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    stage, *rest = argv
    if stage == "import":
        out = stage_import(Path(rest[0]).resolve())
    elif stage == "fresh":
        out = stage_fresh(int(rest[0]) if rest else 300)
    elif stage == "concern":
        out = stage_concern(int(rest[0]) if rest else 5)
    elif stage == "write_concern":
        out = write_concern(int(rest[0]))
    elif stage == "refresh_after_save":
        out = stage_refresh_after_save(int(rest[0]) if rest else 5)
    elif stage == "meeting_save":
        out = stage_meeting_save(int(rest[0]) if rest else 5)
    elif stage == "rerun_after_save":
        out = stage_rerun_after_save(int(rest[0]), rest[1:] or list(PAGES))
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
