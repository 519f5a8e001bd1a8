"""Recording meetings (:mod:`geo.meetings`, what the meeting page calls): saving one concern, and 10 committee
secretaries saving concurrently through two processes (as two replicas of the app would), on the embedded
SQLite file (durable: WAL, ``synchronous=FULL``) and on a temporary PostgreSQL 15 cluster (durable defaults).

The database holds the demo (imported first). One concern save = :func:`geo.meetings.add_concern` by section,
one transaction (the concern, its event, the counts, the revisions, the idempotency key); a concern by point
also joins the point to the sections. The concurrent part: two processes of 5 threads each, every thread a
secretary with a meeting of their own committee, each saving ``--per`` concerns and then sending every save a
second time with the same key (a retry or a double click); afterwards the concerns are counted: every save
recorded once, none lost, none twice.

    python -m bench.meetings [--n 100] [--per 20] [--no-postgres]

``--rerun DATA`` measures instead what follows a save at national scale: the data folder ``DATA`` of
:mod:`bench.data` (e.g. ``/tmp/benchdata/s2000_i1000000``: 2,000 sections, 1M incidents) and one committee
is imported once per engine (:mod:`bench.dbstage` ``import``, ``DASHBOARD_CACHE_DIR=off``); then, each in its
own process, a concern is saved (:func:`geo.meetings.add_concern`, at a meeting opened first) and (a)
:func:`geo.source.refresh` after it is timed (only the tables the save moved are reloaded: the incidents'
frame and cube stay the same objects), (b) on the meeting page in AppTest, the concern form filled and "Save
the concern" pressed: the time from the press to the end of the page's run that shows "Saved" (the save and the
whole-page rerun after it), (c) a whole AppTest rerun of the Overview and of the Concerns page after a save
(``--runs`` saves each, the median reported).

    python -m bench.meetings --rerun /tmp/benchdata/s2000_i1000000 [--runs 5] [--no-postgres]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from geo import db, dbimport, store
from geo import meetings as mt
from geo.settings import Settings
from geo.source import demo_source

SAVERS = 10
PROCESSES = 2


def _row(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return f"| {name} | {statistics.median(values):.1f} | {p95:.1f} | {max(values):.1f} |"


def prepare(eng) -> tuple[list[str], list[str], list[tuple[float, float]]]:
    """The demo in the database; ``SAVERS`` committees, a section of each, a point inside it."""
    db.upgrade(eng)
    source = demo_source()
    assert dbimport.run(eng, dict(source.paths), source.options).ok
    sections = store.read(eng, ["sections"])[1]["sections"].frame
    with eng.connect() as conn:
        committees = [r[0] for r in conn.execute(sa.select(db.COMMITTEES.c.committee_id).limit(SAVERS))]
    chosen = sections.iloc[:SAVERS]
    points = [(p.x, p.y) for p in chosen.geometry.representative_point()]
    return committees, [str(s) for s in chosen["section_id"]], points


def single(eng, committee: str, section: str, point: tuple[float, float], n: int) -> list[str]:
    meeting = mt.open_meeting(eng, committee, mt.now_local().date(), actor="bench", key=mt.new_key()).record_id

    def by_section(i: int) -> None:
        mt.add_concern(eng, meeting, "theft", f"concern {i}", True, section_id=section, actor="bench", key=mt.new_key())

    def by_point(i: int) -> None:
        mt.add_concern(eng, meeting, "theft", f"point {i}", False, point=point, actor="bench", key=mt.new_key())

    loaded = store.read(eng, ["sections"])[1]["sections"].frame

    def by_point_known(i: int) -> None:  # as the page saves it: the loaded sections given
        mt.add_concern(
            eng, meeting, "theft", f"known {i}", False, point=point, actor="bench", key=mt.new_key(), sections=loaded
        )

    rows = []
    kinds = (
        ("save a concern by section", by_section),
        ("save a concern by point", by_point),
        ("save a concern by point, the loaded sections given (the page)", by_point_known),
    )
    for name, fn in kinds:
        times = []
        for i in range(n):
            started = time.perf_counter()
            fn(i)
            times.append((time.perf_counter() - started) * 1000)
        rows.append(_row(name, times))
    return rows


def _saver(url: str, meeting: str, section: str, per: int, out: list, errors: list) -> None:
    eng = db.engine(url=url)
    try:
        keys = []
        for i in range(per):
            key = mt.new_key()
            started = time.perf_counter()
            mt.add_concern(eng, meeting, "theft", f"{meeting} {i}", True, section_id=section, actor="bench", key=key)
            out.append((time.perf_counter() - started) * 1000)
            keys.append(key)
        for i, key in enumerate(keys):  # every save sent again: replayed, nothing written
            again = mt.add_concern(
                eng, meeting, "theft", f"{meeting} {i}", True, section_id=section, actor="bench", key=key
            )
            if not again.replayed:
                errors.append(f"{meeting}: a second save with the same key was recorded")
    except Exception as exc:  # noqa: BLE001 - reported and counted
        errors.append(f"{type(exc).__name__}: {exc}")


def _process(url: str, jobs: list[tuple[str, str]], per: int, queue) -> None:
    times: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=_saver, args=(url, m, s, per, times, errors)) for m, s in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((times, errors))


def concurrent(url: str, committees: list[str], sections: list[str], per: int) -> list[str]:
    eng = db.engine(url=url)
    meetings = [
        mt.open_meeting(eng, c, mt.now_local().date(), actor="bench", key=mt.new_key()).record_id for c in committees
    ]
    jobs = list(zip(meetings, sections, strict=True))
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    half = len(jobs) // PROCESSES
    parts = [jobs[i * half : (i + 1) * half] for i in range(PROCESSES)]
    procs = [spawn.Process(target=_process, args=(url, part, per, queue)) for part in parts]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    times = [t for r in results for t in r[0]]
    errors = [e for r in results for e in r[1]]
    c = db.CONCERNS
    with eng.connect() as conn:
        counts = dict(
            conn.execute(
                sa.select(c.c.meeting_id, sa.func.count()).where(c.c.meeting_id.in_(meetings)).group_by(c.c.meeting_id)
            ).all()
        )
        distinct = conn.execute(
            sa.select(sa.func.count(sa.distinct(c.c.description))).where(c.c.meeting_id.in_(meetings))
        ).scalar()
    expected = len(meetings) * per
    recorded = sum(counts.values())
    lost = expected - distinct
    twice = recorded - distinct
    return [
        _row(f"save a concern, {SAVERS} secretaries at once through {PROCESSES} processes", times),
        "",
        f"saves sent {2 * expected:,} ({expected:,} + the same {expected:,} again with their keys); "
        f"concerns recorded {recorded:,} (expected {expected:,}); lost {lost}; recorded twice {twice}; "
        f"errors {len(errors)}{': ' + errors[0] if errors else ''}; wall time {wall:.1f} s",
    ]


def measure(url: str, n: int, per: int) -> list[str]:
    eng = db.engine(url=url)
    committees, sections, points = prepare(eng)
    header = ["| operation | median ms | p95 ms | max ms |", "|---|---:|---:|---:|"]
    rows = single(eng, committees[0], sections[0], points[0], n)
    rows += concurrent(url, committees, sections, per)
    eng.dispose()
    return [*header, *rows]


def rerun_folder(data: Path, where: Path) -> Path:
    """A data folder with ``data``'s sections and incidents (linked) and one committee covering the first
    section (the one the saves go to; :data:`bench.dbstage.COMMITTEE`)."""
    import json

    import pandas as pd

    from bench.dbstage import COMMITTEE

    where.mkdir(parents=True, exist_ok=True)
    files = json.loads((data / "options.json").read_text(encoding="utf-8"))
    for name in files["files"].values():
        (where / name).symlink_to(data / name)
    first = pd.read_parquet(data / files["files"]["sections"], columns=["section_id", "municipality"]).iloc[0]
    (where / "committees.csv").write_text(
        "committee_id,type,name,municipality,sections,established_on,active,members\n"
        f"{COMMITTEE},LCPS,Bench committee,{first['municipality']},{first['section_id']},2020-01-01,true,12\n",
        encoding="utf-8",
    )
    files["files"]["committees"] = "committees.csv"
    (where / "options.json").write_text(json.dumps(files), encoding="utf-8")
    return where


def _ms(values) -> str:
    f = ".1f" if statistics.median(values) < 0.01 else ".0f"
    return f"{statistics.median(values) * 1000:{f}} ({min(values) * 1000:{f}}–{max(values) * 1000:{f}})"


def rerun(data: Path, runs: int, postgres: bool) -> int:
    """The ``--rerun`` benchmark (see the module's doc); prints its table."""
    import json
    import os
    import shutil

    from bench.database import ROOT, base_env, db_stage

    data = data.resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-aftersave-"))
    pg = None
    results: dict = {"load_before": os.getloadavg(), "data": str(data), "runs": runs}
    try:
        folder = rerun_folder(data, work / "data")
        engines = {"sqlite": base_env(DASHBOARD_DATA_DIR=str(work / "sqlite"))}
        (work / "sqlite").mkdir()
        if postgres:
            from bench.pg import Cluster

            pg = Cluster.start()
            (work / "empty").mkdir()
            engines["postgresql"] = base_env(
                DASHBOARD_DATA_DIR=str(work / "empty"), DASHBOARD_DATABASE_URL=pg.create_database("bench_aftersave")
            )
        for engine, env in engines.items():
            res = db_stage("import", str(folder), env=env)
            print(f"import {engine}: {res.get('seconds')} s", res.get("error", ""), flush=True)
            if res.get("error") or not res.get("ok"):
                results[engine] = {"error": res.get("error") or "the import failed"}
                continue
            got = {"import": res}
            if engine == "postgresql":  # settled, as autovacuum leaves it soon after an import: not measured
                pg.execute("VACUUM ANALYZE", dbname="bench_aftersave")
                pg.execute("CHECKPOINT")
            got["refresh"] = db_stage("refresh_after_save", str(runs), env=env, tree=ROOT)
            print(f"refresh after a save, {engine}: {json.dumps(got['refresh'], default=str)}", flush=True)
            got["rerun"] = db_stage("rerun_after_save", str(runs), "overview", "concerns", env=env, tree=ROOT)
            print(f"reruns after a save, {engine}: {json.dumps(got['rerun'], default=str)}", flush=True)
            got["meeting"] = db_stage("meeting_save", str(runs), env=env, tree=ROOT)
            print(f"saves on the meeting page, {engine}: {json.dumps(got['meeting'], default=str)}", flush=True)
            results[engine] = got
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    print(f"\n{data.name}: after one concern saved (add_concern), median (min–max) of {runs}, ms")
    print(f"load average before {results['load_before']}, after {results['load_after']}\n")
    print(
        '| engine | save a concern | refresh() after it | meeting page: press to "Saved" | Overview rerun after it '
        "| Concerns rerun after it |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    notes = []
    for engine in ("sqlite", "postgresql"):
        got = results.get(engine)
        if got is None:
            continue
        ref, rer, met = got.get("refresh", {}), got.get("rerun", {}), got.get("meeting", {})
        errors = [part["error"] for part in (got, ref, rer, met) if part.get("error")]
        if errors:
            notes.append(f"{engine}: {errors[0]}")
        cells = [
            _ms(ref["save_s"]) if ref.get("save_s") else "–",
            _ms(ref["refresh_s"]) if ref.get("refresh_s") else "–",
            _ms(met["press_to_saved_s"]) if met.get("press_to_saved_s") else "–",
        ]
        if met.get("press_to_saved_s"):
            notes.append(
                f'{engine} meeting page: every press saved once and showed "Saved": {all(met["saved_and_shown"])}; '
                f"incidents kept: {met['incidents_kept']}; a rerun of the page without a save "
                f"{met['plain_rerun_s'] * 1000:.0f} ms; its first run {met['switch_s']:.1f} s"
            )
        for page in ("overview", "concerns"):
            p = (rer.get("pages") or {}).get(page)
            cells.append(_ms(p["rerun_s"]) if p else "–")
        print(f"| {engine} | " + " | ".join(cells) + " |")
        if ref.get("refresh_s"):
            notes.append(
                f"{engine}: refresh reloaded {sorted({t for r in ref['reloaded'] for t in r})}; incidents' frame and "
                f"cube kept: {ref['incidents_and_cube_kept']}; the new concern loaded each time: "
                f"{all(c == 1 for c in ref['new_concerns_loaded'])}; revisions() {_ms(ref['revisions_s'])} ms; "
                f"first load {ref['first_load_s']:.1f} s + cube {ref['cube_s']:.1f} s"
            )
        for page, p in (rer.get("pages") or {}).items():
            notes.append(
                f"{engine} {page}: incidents' frame and cube kept {p['incidents_and_cube_kept']}; the new concern "
                f"loaded each time {all(c == 1 for c in p['new_concerns_loaded'])}; a rerun without a save "
                f"{p['plain_rerun_s'] * 1000:.0f} ms; saves in that process {_ms(p['save_s'])} ms"
            )
        if rer.get("first_run_s"):
            notes.append(f"{engine}: the app's first run {rer['first_run_s']:.1f} s")
    print("\n" + "\n".join(f"- {n}" for n in notes))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.meetings", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="single saves of each kind")
    parser.add_argument("--per", type=int, default=20, help="concerns each of the 10 secretaries saves")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--rerun", type=Path, default=None, metavar="DATA", help="the rerun after a save (a data folder)"
    )
    parser.add_argument("--runs", type=int, default=5, help="saves per measurement of --rerun")
    args = parser.parse_args(argv)
    if args.rerun is not None:
        return rerun(args.rerun, args.runs, not args.no_postgres)
    with tempfile.TemporaryDirectory(prefix="bench-meetings-") as folder:
        settings = Settings.load({"DASHBOARD_DATA_DIR": str(Path(folder) / "own")}, secrets_file=None)
        db.embedded_path(settings).parent.mkdir(parents=True, exist_ok=True)
        url = db.url_of(settings).render_as_string(hide_password=False)
        print(f"SQLite (embedded, WAL, synchronous=FULL), the demo, n={args.n}, {args.per} concerns per secretary")
        print("\n".join(measure(url, args.n, args.per)))
    if not args.no_postgres:
        from bench.pg import Cluster

        with Cluster.start() as pg:
            url = pg.create_database("bench_meetings")
            print(f"\nPostgreSQL 15 (durable defaults), the demo, n={args.n}, {args.per} concerns per secretary")
            print("\n".join(measure(url, args.n, args.per)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
