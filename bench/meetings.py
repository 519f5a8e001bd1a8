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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.meetings", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="single saves of each kind")
    parser.add_argument("--per", type=int, default=20, help="concerns each of the 10 secretaries saves")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
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
