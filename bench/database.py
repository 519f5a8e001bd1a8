"""The database rows of the benchmark (issue 15): ``python -m bench.database``.

    python -m bench.database --before /tmp/before        # everything (about 25 minutes on 2 cores)
    python -m bench.database --only import,cold --runs 1
    python -m bench.database --out bench/results/database.md --json bench/results/database.json

At 1M incidents and 2,000 sections (``--data``, made by :mod:`bench.data`) and ``DASHBOARD_CACHE_DIR=off``:

* ``import``: :func:`geo.dbimport.run` into an empty SQLite file (a temporary folder) and into an empty
  PostgreSQL database (a temporary cluster, :mod:`bench.pg`);
* ``cold``: process start → first Overview map in AppTest (:func:`bench.stage.stage_app`), then reruns after
  a filter change: from the files with the old tree (``--before``, the reference), from each engine
  (imported beforehand); and the built-in demo: old tree, this tree (reads the demo's files), the demo's
  files imported into the embedded database at first start, and read from it once imported;
* ``fresh``: ``source.revisions()`` and ``views.cache.current`` when nothing changed (:mod:`bench.dbstage`);
* ``concern``: a concern recorded by another process, until a rerun of an AppTest session shows it;
* ``replicas``: 20 browser sessions through two ``streamlit run`` replicas on PostgreSQL (:mod:`bench.replicas`).

Every measurement runs in its own process; the runs of a row alternate with the other rows'.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STEPS = ("import", "cold", "fresh", "concern", "replicas")


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASHBOARD_", "PG"))}
    env.pop("PYTHONPATH", None)
    env["DASHBOARD_CACHE_DIR"] = "off"
    env.update(extra)
    return env


def run_json(cmd: list[str], env: dict, cwd: Path, timeout: float = 900) -> dict:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        return {"seconds": None, "error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(lines[-1])


def app_run(tree: Path, env: dict) -> dict:
    """:func:`bench.stage.stage_app` in a new process (from its start)."""
    started = time.time()
    cmd = [
        sys.executable,
        str(HERE / "stage.py"),
        "app",
        "ours",
        str(tree),
        "--tree",
        str(tree),
        "--started",
        repr(started),
    ]
    return run_json(cmd, env, tree)


def db_stage(*args: str, env: dict, tree: Path = ROOT, timeout: float = 900) -> dict:
    return run_json([sys.executable, str(HERE / "dbstage.py"), *args, "--tree", str(tree)], env, tree, timeout)


def demo_folder(where: Path) -> Path:
    """A data folder holding the demo's files and an ``options.json``: a first start imports it."""
    sys.path.insert(0, str(ROOT))
    from geo.source import DEMO_DIR, DEMO_FILES

    where.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES.values():
        shutil.copy2(DEMO_DIR / name, where / name)
    (where / "options.json").write_text(json.dumps({"files": DEMO_FILES, "options": {}}), encoding="utf-8")
    return where


def med(values) -> float | None:
    vals = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.database", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=Path("/tmp/benchdata/s2000_i1000000"),
        help="a data folder of bench.data (sections.parquet, incidents.parquet, options.json)",
    )
    ap.add_argument("--before", type=Path, default=None, help="the old tree, the reference of the cold start")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps of {', '.join(STEPS)}")
    ap.add_argument("--sessions", type=int, default=20, help="browser sessions of the replicas step")
    ap.add_argument("--changes", type=int, default=4, help="filter changes per session in the replicas step")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    steps = set(args.only.split(","))
    data = args.data.resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-db-"))
    results: dict = {"load_before": os.getloadavg(), "runs": args.runs, "data": str(data)}
    sys.path.insert(0, str(ROOT))
    from bench.pg import Cluster

    pg = Cluster.start(max_connections=200)
    try:
        sqlite_dir = work / "sqlite"
        empty = work / "empty"
        empty.mkdir()
        pg_url = None

        def log(*a):
            print(*a, flush=True)

        # ---------------------------------------------------------- import (also makes the databases used below)
        imports: dict[str, list] = {"sqlite": [], "postgresql": []}
        runs = args.runs if "import" in steps else 1
        for r in range(runs):
            d = work / f"sqlite-import-{r}"
            d.mkdir()
            res = db_stage("import", str(data), env=base_env(DASHBOARD_DATA_DIR=str(d)))
            imports["sqlite"].append(res)
            log(f"import sqlite run {r + 1}: {res.get('seconds')}", res.get("error", ""))
            if r == runs - 1:
                d.rename(sqlite_dir)
            else:
                shutil.rmtree(d)
            name = f"bench_{r}"
            url = pg.create_database(name)
            res = db_stage("import", str(data), env=base_env(DASHBOARD_DATA_DIR=str(empty), DASHBOARD_DATABASE_URL=url))
            imports["postgresql"].append(res)
            log(f"import postgresql run {r + 1}: {res.get('seconds')}", res.get("error", ""))
            if r == runs - 1:
                pg_url = url
            else:
                pg.drop_database(name)
        if "import" in steps:
            results["import"] = imports

        envs = {
            "sqlite": base_env(DASHBOARD_DATA_DIR=str(sqlite_dir)),
            "postgresql": base_env(DASHBOARD_DATA_DIR=str(empty), DASHBOARD_DATABASE_URL=pg_url),
        }
        # ---------------------------------------------------------- cold start and reruns
        if "cold" in steps:
            cold: dict[str, list] = {}
            for r in range(args.runs):
                rows = []
                if args.before:
                    rows.append(("files, old tree", args.before, base_env(DASHBOARD_DATA_DIR=str(data))))
                rows += [("sqlite", ROOT, envs["sqlite"]), ("postgresql", ROOT, envs["postgresql"])]
                if args.before:
                    rows.append(("demo, old tree", args.before, base_env(DASHBOARD_DATA_DIR=str(empty))))
                rows.append(("demo, files", ROOT, base_env(DASHBOARD_DATA_DIR=str(empty))))
                first = demo_folder(work / f"demo-{r}")
                rows.append(("demo, imported at first start", ROOT, base_env(DASHBOARD_DATA_DIR=str(first))))
                rows.append(("demo, from sqlite once imported", ROOT, base_env(DASHBOARD_DATA_DIR=str(first))))
                for what, tree, env in rows:
                    res = app_run(tree, env)
                    cold.setdefault(what, []).append(res)
                    log(
                        f"cold {what} run {r + 1}: {res.get('seconds')} reruns {res.get('rerun_seconds')}",
                        res.get("error", ""),
                    )
                log("  demo folder after first start:", sorted(p.name for p in first.iterdir()))
            results["cold"] = cold
        # ---------------------------------------------------------- freshness check
        if "fresh" in steps:
            fresh: dict[str, list] = {}
            for r in range(args.runs):
                for engine in ("sqlite", "postgresql"):
                    res = db_stage("fresh", "300", env=envs[engine])
                    fresh.setdefault(engine, []).append(res)
                    log(
                        f"fresh {engine} run {r + 1}: revisions {res.get('revisions_median_s')} current "
                        f"{res.get('current_median_s')}",
                        res.get("error", ""),
                    )
            results["fresh"] = fresh
        # ---------------------------------------------------------- a new concern seen by another session
        if "concern" in steps:
            concern: dict[str, list] = {}
            for engine in ("sqlite", "postgresql"):
                res = db_stage("concern", str(max(args.runs, 3) + 2), env=envs[engine])
                concern.setdefault(engine, []).append(res)
                log(
                    f"concern {engine}: {res.get('latencies_s')} kept {res.get('incidents_and_cube_kept')}",
                    res.get("error", ""),
                )
            results["concern"] = concern
        # ---------------------------------------------------------- 20 sessions, two replicas
        if "replicas" in steps:
            from bench import replicas

            try:
                results["replicas"] = replicas.run(
                    ROOT, envs["postgresql"], sessions=args.sessions, changes=args.changes, log=log
                )
            except Exception as exc:  # noqa: BLE001 - the other steps' figures are kept
                results["replicas"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
                log("replicas failed:", results["replicas"]["error"])
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    text = json.dumps(results, indent=1, default=str)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text, encoding="utf-8")
    summary(results)
    return 0


def summary(results: dict) -> None:
    print("\nload average before", results["load_before"], "after", results["load_after"])
    for engine, rs in results.get("import", {}).items():
        print(f"import {engine}: median {med(r.get('seconds') for r in rs)} s of {[r.get('seconds') for r in rs]}")
    for what, rs in results.get("cold", {}).items():
        per: dict[str, list] = {}
        for r in rs:
            for k, v in (r.get("rerun_seconds") or {}).items():
                per.setdefault(k, []).append(v)
        print(
            f"cold {what}: median {med(r.get('seconds') for r in rs)} s; reruns "
            + ", ".join(f"{k} {med(v):.3f}" for k, v in per.items())
            + f"; peak RSS {med(r.get('peak_rss_mb') for r in rs)}"
        )
    for engine, rs in results.get("fresh", {}).items():
        print(
            f"fresh {engine}: revisions {med(r.get('revisions_median_s') for r in rs)} current "
            f"{med(r.get('current_median_s') for r in rs)}"
        )
    for engine, rs in results.get("concern", {}).items():
        for r in rs:
            print(
                f"concern {engine}: median {r.get('seconds')} {r.get('latencies_s')} kept "
                f"{r.get('incidents_and_cube_kept')}"
            )
    if "replicas" in results:
        print("replicas:", json.dumps({k: v for k, v in results["replicas"].items() if k != "reruns"}, default=str))


if __name__ == "__main__":
    sys.exit(main())
