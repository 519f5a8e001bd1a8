"""What sign-in and the audit log add to a rerun: the database work of :func:`views.gate.visitor` and
:func:`views.gate.record_view`, timed on the embedded SQLite file (durable: WAL, ``synchronous=FULL``) and
on a temporary PostgreSQL 15 cluster (durable defaults), with the audit log already holding many records.

Every rerun of a signed-in session looks its user up (:func:`geo.users.get`); a rerun that changes the page,
area, period or categories of a restricted view also commits one audit record (:func:`geo.users.record`);
last activity is written at most every 20 seconds (:func:`geo.users.touch`).

    python -m bench.access [--n 300] [--records 100000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from geo import db, users
from geo.settings import Settings


def _times(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _row(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return f"| {name} | {statistics.median(values):.2f} | {p95:.2f} |"


def fill(eng, records: int) -> None:
    """``records`` audit records already in the log (a deployment after months of use)."""
    if records <= 0:
        return
    table = db.METADATA.tables["audit_log"]
    now = datetime.now(UTC)
    rows = [
        {
            "at": now,
            "actor": f"user{i % 50}@police.example",
            "roles": "commander",
            "address": "203.0.113.7",
            "action": "view",
            "detail": '{"page": "overview"}',
        }
        for i in range(records)
    ]
    with eng.begin() as conn:
        for start in range(0, records, 10_000):
            conn.execute(sa.insert(table), rows[start : start + 10_000])


def measure(eng, n: int, records: int) -> list[str]:
    db.upgrade(eng)
    for i in range(50):
        users.grant(eng, f"user{i}@police.example", "commander", actor="bench")
    fill(eng, records)
    email = "user7@police.example"
    detail = {"page": "overview", "region": "", "municipality": "Prishtinë", "section": "", "categories": []}
    get = _times(lambda i: users.get(eng, email), n)
    record = _times(lambda i: users.record(eng, email, "view", {**detail, "n": i}, "203.0.113.7", ("commander",)), n)
    touch = _times(lambda i: users.touch(eng, email, datetime.now(UTC)), n)
    both = [g + r for g, r in zip(get, record, strict=True)]
    return [
        _row("look the user up (every rerun)", get),
        _row("record a page view (a rerun that changes page, area, period or categories)", record),
        _row("write last activity (at most every 20 s)", touch),
        _row("a rerun that changes the view: look-up + record", both),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.access", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="repetitions of each operation")
    parser.add_argument("--records", type=int, default=100_000, help="audit records already in the log")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    header = ["| operation | median ms | p95 ms |", "|---|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="bench-access-") as folder:
        settings = Settings.load({"DASHBOARD_DATA_DIR": str(Path(folder) / "own")}, secrets_file=None)
        eng = db.engine(settings)
        print(f"SQLite (embedded, WAL, synchronous=FULL), {args.records:,} audit records before, n={args.n}")
        print("\n".join([*header, *measure(eng, args.n, args.records)]))
        eng.dispose()
    if not args.no_postgres:
        from bench.pg import Cluster

        with Cluster.start() as pg:
            eng = db.engine(url=pg.create_database("bench_access"))
            print(f"\nPostgreSQL 15 (durable defaults), {args.records:,} audit records before, n={args.n}")
            print("\n".join([*header, *measure(eng, args.n, args.records)]))
            eng.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
