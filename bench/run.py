"""The national-scale benchmark: one command, one table.

    python -m bench                 # full run (about 15 minutes on 2 cores): 100k, 1M and 5M incidents
    python -m bench --quick         # smoke run (a minute or two): small data, one run each
    python -m bench --tree DIR      # measure another copy of the project (e.g. an older commit) the same way

Generates seeded synthetic data (:mod:`bench.data`; kept under ``bench/.data``
for later runs), then times every stage in its own process
(:mod:`bench.stage`), our way and, up to 1M incidents, the naive way,
alternately, and prints one table of medians with the ratio and the peak
memory of each process. ``--out FILE`` also writes the table and a
description of the machine as Markdown (``bench/RESULTS.md`` records one);
``--json FILE`` writes every single measurement.

Not part of the test suite or CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STAGE = HERE / "stage.py"


@dataclass
class Job:
    """One row of the table: a stage on one dataset, ours and (optionally) the naive way."""

    stage: str
    what: str  # the row's description
    sections: int
    incidents: int
    variants: tuple[str, ...] = ("ours",)  # the first is ours; "naive" is the baseline
    target: str = ""
    check: str = ""  # how a target is judged: see judge()
    target2: str = ""  # a second target on the same row
    check2: str = ""
    env: dict = field(default_factory=dict)
    fresh_cache: bool = False  # an empty columnar cache for every run (a first start)
    results: dict = field(default_factory=dict)  # variant -> list of result dicts


def plan(quick: bool) -> list[Job]:
    if quick:
        s, small, big = 250, 20_000, 60_000
        return [
            Job("read", "read files (Parquet | naive: GeoJSON)", s, big, ("ours", "naive")),
            Job("validate", "validate sections + incidents", s, big),
            Job("join", "join points to sections (| naive: sjoin within)", s, big, ("ours", "naive")),
            Job("join_check", "join agrees with sjoin (strictly inside)", s, big),
            Job("load", "load: read + validate + join", s, big),
            Job("load", "load from the columnar cache", s, big, ("cached",)),
            Job("rollup", "roll-up: cube + one filter → municipality, region", s, big),
            Job("gi", "Gi* 999 permutations (+ queen graph)", s, small),
            Job("permutations", "permutation check, enough to confirm at 99 % after FDR", s, small),
            Job("density", "density surface", s, big),
            Job("map", "overview map build + HTML (| naive: GeoJson + HeatMap)", s, small, ("ours", "naive")),
            Job("app", "page: start → first overview map (empty cache)", s, small, fresh_cache=True),
            Job("keys", "record keys: identities + HMAC", s, big),
            Job("public", "public dataset + Overview questions on the published cube", s, big),
        ]
    jobs = []
    for n in (100_000, 1_000_000):
        jobs.append(Job("read", "read files (Parquet | naive: GeoJSON)", 2000, n, ("ours", "naive")))
    jobs.append(Job("read", "read files (Parquet)", 2000, 5_000_000))
    for s, n in ((2000, 100_000), (250, 1_000_000), (2000, 1_000_000), (2000, 5_000_000)):
        jobs.append(Job("validate", "validate sections + incidents", s, n))
    for s, n in ((2000, 100_000), (250, 1_000_000), (2000, 1_000_000)):
        jobs.append(
            Job(
                "join",
                "join points to sections (| naive: sjoin within)",
                s,
                n,
                ("ours", "naive"),
                **({"target": "≤ 1.0 s and ≥ 2× sjoin", "check": "join"} if (s, n) == (2000, 1_000_000) else {}),
            )
        )
    jobs.append(Job("join", "join points to sections", 2000, 5_000_000))
    for s, n in ((250, 1_000_000), (2000, 1_000_000)):
        jobs.append(
            Job("join_check", "join agrees with sjoin (strictly inside)", s, n, target="same section", check="agree")
        )
    for n in (1_000_000, 5_000_000):
        jobs.append(Job("load", "load: read + validate + join", 2000, n))
        jobs.append(Job("load", "load from the columnar cache", 2000, n, ("cached",)))
        jobs.append(Job("rollup", "roll-up: cube + one filter → municipality, region", 2000, n))
    for s in (250, 2000):
        jobs.append(
            Job(
                "gi",
                "Gi* 999 permutations (+ queen graph)",
                s,
                1_000_000,
                **({"target": "≤ 2 s", "check": "gi"} if s == 2000 else {}),
            )
        )
    for s in (273, 2000):  # the demo's number of sections, and a national one
        jobs.append(
            Job(
                "permutations",
                "permutation check, enough to confirm at 99 % after FDR",
                s,
                100_000,
                target="≤ 1 s, else on demand",
                check="seconds1",
            )
        )
    for n in (1_000_000, 5_000_000):
        jobs.append(
            Job(
                "density",
                "density surface (project + KDE)",
                2000,
                n,
                **({"target": "≤ 1 s", "check": "seconds1"} if n == 1_000_000 else {}),
            )
        )
    for n in (100_000, 1_000_000):
        jobs.append(
            Job(
                "map",
                "overview map build + HTML (| naive: GeoJson + HeatMap)",
                2000,
                n,
                ("ours", "naive"),
                target="≤ 2 MB",
                check="bytes",
            )
        )
    jobs.append(
        Job(
            "app",
            "public page: start → first overview map (warm cache)",
            2000,
            1_000_000,
            ("public",),
            target="rerun ≤ 0.7 s",
            check="rerun",
        )
    )
    jobs.append(Job("keys", "record keys: identities + HMAC", 2000, 1_000_000))
    jobs.append(Job("public", "public dataset + Overview questions on the published cube", 2000, 1_000_000))
    for n in (100_000, 1_000_000, 5_000_000):
        jobs.append(
            Job(
                "app",
                "page: start → first overview map (empty cache)",
                2000,
                n,
                fresh_cache=True,
                **({"target": "peak RSS ≤ 2 GB", "check": "rss"} if n == 1_000_000 else {}),
            )
        )
        jobs.append(
            Job(
                "app",
                "page: start → first overview map (warm cache)",
                2000,
                n,
                **(
                    {"target": "≤ 5 s", "check": "cold", "target2": "rerun ≤ 0.5 s", "check2": "rerun"}
                    if n == 1_000_000
                    else {}
                ),
            )
        )
    return jobs


# ---------------------------------------------------------------- running


def run_stage(job: Job, variant: str, data: Path, tree: Path, cache_dir: Path, timeout: float) -> dict:
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(data), "DASHBOARD_CACHE_DIR": str(cache_dir), **job.env}
    env.pop("PYTHONPATH", None)
    tmp = None
    if job.fresh_cache:
        tmp = Path(tempfile.mkdtemp(prefix="bench-cache-"))
        env["DASHBOARD_CACHE_DIR"] = str(tmp)
    started = time.time()
    cmd = [sys.executable, str(STAGE), job.stage, variant, str(data), "--tree", str(tree), "--started", repr(started)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=tree)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "error": f"timed out after {timeout:.0f} s"}
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        return {"seconds": None, "error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    out = json.loads(lines[-1])
    out["wall_seconds"] = time.time() - started
    return out


def median(values: list) -> float | None:
    vals = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else None


def judge(job: Job, check: str) -> tuple[str, bool | None]:
    """The measured figure a target is judged on, and whether it is met."""
    ours = job.results.get(job.variants[0], [])
    if check == "rss":
        m = median([r.get("peak_rss_mb") for r in ours])
        return ("", None) if m is None else (f"{m / 1024:.2f} GB", m <= 2048)
    if check == "rerun":  # per filter (period, category, municipality): the median over the runs
        per_filter: dict[str, list[float]] = {}
        for r in ours:
            for k, v in (r.get("rerun_seconds") or {}).items():
                per_filter.setdefault(k, []).append(v)
        if not per_filter:
            return "", None
        medians = {k: median(v) for k, v in per_filter.items()}
        worst = max(medians.values())
        slowest = max(v for vals in per_filter.values() for v in vals)
        text = ", ".join(f"{k} {v:.2f}" for k, v in medians.items())
        return f"medians {text} s (slowest single run {slowest:.2f} s)", worst <= 0.5
    if check == "join":
        t, n = (
            median([r.get("seconds") for r in ours]),
            median([r.get("seconds") for r in job.results.get("naive", [])]),
        )
        if t is None or n is None:
            return "", None
        return f"{t:.2f} s, {n / t:.1f}× sjoin", t <= 1.0 and n / t >= 2
    if check == "agree":
        r = ours[0] if ours else {}
        if "agree" not in r:
            return "", None
        return f"{r['agree']:,}/{r['strictly_inside']:,}", r["agree"] == r["strictly_inside"]
    if check == "gi":
        t = median([r.get("gi_seconds") for r in ours])
        return ("", None) if t is None else (f"{t:.2f} s (Gi* alone)", t <= 2.0)
    if check == "seconds1":
        t = median([r.get("seconds") for r in ours])
        return ("", None) if t is None else (f"{t:.2f} s", t <= 1.0)
    if check == "bytes":
        b = median([r.get("bytes") for r in ours])
        return ("", None) if b is None else (f"{b / 1e6:.2f} MB", b <= 2e6)
    if check == "cold":
        t = median([r.get("seconds") for r in ours])
        return ("", None) if t is None else (f"{t:.2f} s", t <= 5.0)
    return "", None


def fmt_s(v) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def row_of(job: Job) -> list[str]:
    ours = job.results.get(job.variants[0], [])
    naive = job.results.get("naive", [])
    t = median([r.get("seconds") for r in ours])
    n = median([r.get("seconds") for r in naive]) if naive else None
    ratio = f"{n / t:.1f}×" if (t and n) else ""
    rss = median([r.get("peak_rss_mb") for r in ours])
    rss_n = median([r.get("peak_rss_mb") for r in naive]) if naive else None
    notes = []
    errors = {r.get("error") for r in ours + naive if r.get("error")}
    if job.stage == "validate":
        notes.append(f"sections {fmt_s(median([r.get('sections_seconds') for r in ours]))} s")
    if job.stage == "join" and ours:
        notes.append(f"{ours[0].get('joined', 0):,} joined")
    if job.stage == "join_check" and ours:
        r = ours[0]
        if "agree" in r:
            notes.append(
                f"{r['agree']:,} of {r['strictly_inside']:,} strictly-inside points agree; "
                f"{r['boundary_points']:,} boundary points on their section's boundary "
                f"({r['boundary_points_on_their_section_boundary']:,} checked), {r['outside']:,} outside"
            )
        t = None
    if job.stage == "rollup":
        notes.append(
            f"cube build {fmt_s(median([r.get('cube_build_seconds') for r in ours]))} s, "
            f"query {fmt_s(median([r.get('query_seconds') for r in ours]))} s"
            if any(r.get("cube") for r in ours)
            else "pandas scan (no cube)"
        )
    if job.stage == "gi":
        notes.append(
            f"graph {fmt_s(median([r.get('graph_seconds') for r in ours]))} s, "
            f"Gi* {fmt_s(median([r.get('gi_seconds') for r in ours]))} s"
        )
    if job.stage == "permutations" and ours:
        r = ours[0]
        if "permutations" in r:
            notes.append(
                f"{r['units']:,} units × {r['permutations']:,} permutations; "
                f"hot spots {r['hot']}, confirmed {r['hot_both']}"
            )
    if job.stage == "density":
        notes.append(f"projection {fmt_s(median([r.get('project_seconds') for r in ours]))} s")
    if job.stage == "map":
        b = median([r.get("bytes") for r in ours])
        bn = median([r.get("bytes") for r in naive]) if naive else None
        notes.append(f"HTML {b / 1e6:.2f} MB" + (f" (naive {bn / 1e6:.1f} MB)" if bn else "") if b else "")
        notes.append(f"geometry {fmt_s(median([r.get('geometry_seconds') for r in ours]))} s")
    if job.stage == "keys":
        notes.append(
            f"identities {fmt_s(median([r.get('identities_seconds') for r in ours]))} s, "
            f"HMAC {fmt_s(median([r.get('hmac_seconds') for r in ours]))} s"
        )
    if job.stage == "public" and any(r.get("query_seconds") for r in ours):
        per: dict[str, list] = {}
        exact: dict[str, list] = {}
        for r in ours:
            for k, v in (r.get("query_seconds") or {}).items():
                per.setdefault(k, []).append(v)
            for k, v in (r.get("restricted_query_seconds") or {}).items():
                exact.setdefault(k, []).append(v)
        notes.append(f"apply (keys + published cube) {fmt_s(median([r.get('apply_seconds') for r in ours]))} s")
        notes.append(
            "headlines + section measures, published: "
            + ", ".join(f"{k} {fmt_s(median(v))}" for k, v in per.items())
            + " s; restricted cube: "
            + ", ".join(f"{k} {fmt_s(median(v))}" for k, v in exact.items())
            + " s"
        )
    if job.stage == "app":
        rr = median([r.get("rerun_median_seconds") for r in ours])
        first = median([r.get("first_run_seconds") for r in ours])
        b = median([r.get("bytes") for r in ours])
        per = {}
        for r in ours:
            for k, v in (r.get("rerun_seconds") or {}).items():
                per.setdefault(k, []).append(v)
        notes.append(f"script {fmt_s(first)} s")
        if rr is not None:
            notes.append(
                "rerun after a filter change "
                + ", ".join(f"{k} {fmt_s(median(v))}" for k, v in per.items())
                + f" s (median {fmt_s(rr)})"
            )
        if b:
            notes.append(f"map payload {b / 1e6:.2f} MB")
    if errors:
        notes.append("error: " + "; ".join(sorted(errors))[:200])
    targets = []
    for name, check in ((job.target, job.check), (job.target2, job.check2)):
        if name:
            measured, met = judge(job, check)
            targets.append(f"{name}: {measured} {'✅' if met else ('❌' if met is False else '')}".strip())
    target = "; ".join(targets)
    return [
        job.what,
        f"{job.sections:,}",
        f"{job.incidents:,}",
        fmt_s(t) if job.stage != "join_check" else "",
        fmt_s(n) if naive else "",
        ratio,
        f"{rss:,.0f}" + (f" / {rss_n:,.0f}" if rss_n else "") if rss else "",
        target,
        "; ".join(x for x in notes if x),
    ]


HEADER = [
    "stage",
    "sections",
    "incidents",
    "ours s",
    "naive s",
    "naive/ours",
    "peak RSS MB (ours / naive)",
    "target",
    "notes",
]


def markdown_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def text_table(rows: list[list[str]]) -> str:
    cols = list(zip(HEADER, *rows, strict=True))
    widths = [min(max(len(c) for c in col), 60) for col in cols]
    lines = []
    for r in [HEADER, *rows]:
        lines.append("  ".join(str(c)[:w].ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine(tree: Path) -> dict:
    info = {
        "date": dt.datetime.now().isoformat(timespec="minutes"),
        "nproc": os.cpu_count(),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        info["memory_gib"] = round(int(mem) / 1024 / 1024, 1)
    except (OSError, IndexError, ValueError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        info["cpu"] = platform.processor()
    info["python"] = platform.python_version()
    info["platform"] = platform.platform()
    code = (
        "import importlib, json; mods = ['shapely', 'geopandas', 'pyogrio', 'pyarrow', 'pandas', 'numpy', 'scipy',"
        " 'pyproj', 'streamlit', 'folium', 'streamlit_folium', 'esda', 'libpysal']\n"
        "import importlib.metadata as md\n"
        "out = {}\nfor m in mods:\n    try:\n        out[m] = md.version(m.replace('_', '-'))\n"
        "    except Exception:\n        out[m] = getattr(importlib.import_module(m), '__version__', '?')\n"
        "import shapely; out['GEOS'] = shapely.geos_version_string\nprint(json.dumps(out))"
    )
    try:
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        info["libraries"] = json.loads(res.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        info["libraries"] = {}
    try:
        head = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain"], capture_output=True, text=True)
        if head.returncode == 0:
            info["commit"] = head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except OSError:
        pass
    info["tree"] = str(tree)
    return info


def machine_md(info: dict) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in info.get("libraries", {}).items())
    return (
        f"- date: {info['date']}\n- machine: {info.get('cpu', '?')}, {info['nproc']} cores (`nproc`), "
        f"{info.get('memory_gib', '?')} GiB memory; {info['platform']}\n- Python {info['python']}; {libs}\n"
        f"- code measured: {info['tree']}" + (f" at {info['commit']}" if "commit" in info else "") + "\n"
        f"- load average before / after the run (other work on the machine): {info.get('load_before', '?')} / "
        f"{info['load_average']}\n"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small smoke run: small data, one run per stage")
    ap.add_argument("--runs", type=int, default=None, help="runs per stage (default 3; 1 with --quick)")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the copy of the project to measure (default: this one)")
    ap.add_argument("--data", type=Path, default=HERE / ".data", help="where generated data is kept")
    ap.add_argument(
        "--only", default="", help="comma-separated stages to run (read, validate, join, …, keys, public, app)"
    )
    ap.add_argument("--out", type=Path, default=None, help="also write the table as Markdown to this file")
    ap.add_argument("--json", type=Path, default=None, help="write every measurement as JSON to this file")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per stage run")
    args = ap.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    tree = args.tree.resolve()
    jobs = plan(args.quick)
    if args.only:
        wanted = set(args.only.split(","))
        jobs = [j for j in jobs if j.stage in wanted]
    t0 = time.time()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    sys.path.insert(0, str(ROOT))
    from bench import data as gen

    print(f"data in {args.data} (generated once, then reused)", flush=True)
    needs: dict[tuple[int, int], dict] = {}
    for j in jobs:
        need = needs.setdefault((j.sections, j.incidents), {"geojson": False})
        if "naive" in j.variants and j.stage in ("read",):
            need["geojson"] = True
    dirs = {}
    for (s, n), need in sorted(needs.items()):
        dirs[(s, n)] = gen.ensure(args.data, s, n, geojson=need["geojson"], log=lambda m: print(m, flush=True))
    cache_dir = args.data / "cache"
    print(f"data ready in {time.time() - t0:.0f} s; {len(jobs)} rows × {runs} runs", flush=True)
    for r in range(runs):
        for j in jobs:
            if j.stage == "join_check" and r > 0:
                continue
            if r == 0 and j.stage == "app" and not j.fresh_cache:  # fill the cache the warm starts read
                warm = Job("load", "", j.sections, j.incidents)
                run_stage(warm, "cached", dirs[(j.sections, j.incidents)], tree, cache_dir, args.timeout)
            for variant in j.variants:  # ours, then the naive way: alternately, run after run
                res = run_stage(j, variant, dirs[(j.sections, j.incidents)], tree, cache_dir, args.timeout)
                j.results.setdefault(variant, []).append(res)
                shown = fmt_s(res.get("seconds"))
                print(
                    f"  run {r + 1}/{runs}  {j.stage:10s} {variant:6s} {j.sections:>5,} sections {j.incidents:>9,} "
                    f"incidents: {shown} s" + (f"  ({res['error']})" if res.get("error") else ""),
                    flush=True,
                )
    rows = [row_of(j) for j in jobs]
    info = machine(tree)
    info["load_before"] = load_before
    print()
    print(text_table(rows))
    print(f"\nmedians of {runs} runs; every run in its own process; total {time.time() - t0:.0f} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            f"## Benchmark {'(quick) ' if args.quick else ''}{info['date']}\n\n{machine_md(info)}\n"
            f"Medians of {runs} runs, each stage in its own process; ours and naive alternately. "
            f"Total time {time.time() - t0:.0f} s.\n\n{markdown_table(rows)}\n",
            encoding="utf-8",
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "runs": runs,
                    "jobs": [
                        {
                            "stage": j.stage,
                            "what": j.what,
                            "sections": j.sections,
                            "incidents": j.incidents,
                            "results": j.results,
                        }
                        for j in jobs
                    ],
                },
                indent=1,
                default=str,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
