"""20 browser sessions through two Streamlit replicas of one PostgreSQL database (:mod:`bench.database`).

Two ``streamlit run dashboard.py`` processes on free ports of 127.0.0.1, the same environment
(``DASHBOARD_DATABASE_URL``, ``DASHBOARD_CACHE_DIR=off``); one headless Chromium (Debian's) with one
page (its own browser context) per session, half of them on each replica's port directly (no proxy).
The pages are opened one after the other, each waited for until its first run is over and its map is
there. Then each session makes the same filter changes in the sidebar, in rounds:

1. police region → the first region (**paced**: one session at a time, each waited for);
2. incident categories + the first category (**burst**: all sessions one after the other without waiting,
   then all waited for);
3. municipality → the first municipality of the region (paced);
4. incident categories + the next category (burst).

A rerun is timed in the page itself: from the moment the change is made (``Date.now()`` just before the
click that picks the option) to the moment the app root's ``data-test-script-state`` (what drives
Streamlit's status widget) turns ``notRunning`` after having been ``running``, recorded by a
``MutationObserver``; the driver waits on that condition (``wait_for_function``), never sleeps.
Resident memory: ``VmRSS`` (and ``VmHWM``) of each replica's process at the end.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OBSERVER = """
window.__states = [];
new MutationObserver((records) => {
  for (const m of records) {
    const el = m.target;
    if (el.getAttribute && el.getAttribute('data-testid') === 'stApp') {
      window.__states.push([el.getAttribute('data-test-script-state'), Date.now()]);
    }
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""
#: true once a run started after ``t`` has finished
FINISHED = """(t) => {
  const s = window.__states; let ran = false;
  for (const [state, at] of s) {
    if (at < t) continue;
    if (state === 'running') ran = true;
    else if (ran && state === 'notRunning') return true;
  }
  return false;
}"""
#: the time the first run started after ``t`` finished
FINISHED_AT = """(t) => {
  const s = window.__states; let ran = false;
  for (const [state, at] of s) {
    if (at < t) continue;
    if (state === 'running') ran = true;
    else if (ran && state === 'notRunning') return at;
  }
  return null;
}"""
MAP = 'iframe[title*="folium"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


def start_replica(tree: Path, env: dict, port: int, log: Path) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboard.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    return subprocess.Popen(cmd, cwd=tree, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_healthy(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the replica on port {port} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling a server's start (the driver, not a measured rerun)
    raise RuntimeError(f"the replica on port {port} did not become healthy")


def labels() -> dict[str, str]:
    """The sidebar widgets' labels in the app's language at start (the pages are never switched)."""
    from geo import i18n

    _ = i18n.translator(i18n.DEFAULT_LANG)
    return {"region": _("Police region"), "municipality": _("Municipality"), "categories": _("Incident categories")}


def pick(page, kind: str, index: int, label: str) -> float:
    """Open the sidebar's ``kind`` widget (``region``, ``municipality`` or ``categories``, labelled ``label``)
    and pick its option ``index``; returns the page's ``Date.now()`` just before the pick."""
    side = page.get_by_test_id("stSidebar")
    labelled = page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    if kind == "categories":
        box = side.get_by_test_id("stMultiSelect").filter(has=labelled).first
    else:
        box = side.get_by_test_id("stSelectbox").filter(has=labelled).first
    if not page.get_by_role("option").count():  # (a multiselect's list may still be open from before)
        box.locator("button[aria-haspopup]").last.click()  # its "open" button (a click on the text does not open it)
    option = page.get_by_role("option").nth(index)
    option.wait_for()
    t = page.evaluate("Date.now()")
    option.click()
    if kind == "categories":
        page.keyboard.press("Escape")  # close the multiselect's list (it stays open for more picks)
    return t


def finished(page, t: float, timeout_ms: float = 300_000) -> float:
    page.wait_for_function(FINISHED, arg=t, timeout=timeout_ms, polling=50)
    return (page.evaluate(FINISHED_AT, t) - t) / 1000


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(q * (len(v) - 1)))]


def run(tree: Path, env: dict, sessions: int = 20, changes: int = 4, log=print) -> dict:
    from playwright.sync_api import sync_playwright

    logs = Path(tempfile.mkdtemp(prefix="bench-replicas-"))  # the replicas' output (removed unless a step fails)
    ports = [free_port(), free_port()]
    procs = [start_replica(tree, env, p, logs / f"bench-replica-{p}.log") for p in ports]
    out: dict = {"ports": ports, "sessions": sessions}
    try:
        for p, proc in zip(ports, procs, strict=True):
            wait_healthy(p, proc, time.time() + 120)
        out["memory_idle"] = [memory(proc.pid) for proc in procs]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = []
            first = []
            for i in range(sessions):
                ctx = browser.new_context(viewport={"width": 1280, "height": 1400})
                ctx.add_init_script(OBSERVER)
                page = ctx.new_page()
                t = time.time()
                page.goto(f"http://127.0.0.1:{ports[i % 2]}/", wait_until="domcontentloaded")
                page.wait_for_function(FINISHED, arg=0, timeout=300_000, polling=50)
                page.locator(MAP).first.wait_for(timeout=300_000)
                first.append(time.time() - t)
                pages.append(page)
                log(f"  session {i + 1} (replica {i % 2 + 1}) first map after {first[-1]:.2f} s")
            out["first_load_s"] = first
            out["memory_open"] = [memory(proc.pid) for proc in procs]
            rounds = [
                ("region", 1, "paced"),
                ("categories", 0, "burst"),
                ("municipality", 1, "paced"),
                ("categories", 0, "burst"),
            ][:changes]
            reruns = []
            names = labels()
            for kind, index, how in rounds:
                if how == "paced":
                    for i, page in enumerate(pages):
                        t = pick(page, kind, index, names[kind])
                        s = finished(page, t)
                        reruns.append({"round": kind, "how": how, "session": i, "replica": i % 2, "s": s})
                else:
                    started = [pick(page, kind, index, names[kind]) for page in pages]
                    for i, (page, t) in enumerate(zip(pages, started, strict=True)):
                        s = finished(page, t)
                        reruns.append({"round": kind, "how": how, "session": i, "replica": i % 2, "s": s})
                done = [r["s"] for r in reruns if r["round"] == kind and r["how"] == how][-sessions:]
                log(f"  {kind} ({how}): p50 {pct(done, 0.5):.2f} s, p95 {pct(done, 0.95):.2f} s, max {max(done):.2f} s")
            errors = sum(p.get_by_test_id("stException").count() for p in pages)
            out["exceptions_on_pages"] = errors
            browser.close()
        out["reruns"] = reruns
        for how in ("paced", "burst"):
            vals = [r["s"] for r in reruns if r["how"] == how]
            if vals:
                out[how] = {"n": len(vals), "p50": pct(vals, 0.5), "p95": pct(vals, 0.95), "max": max(vals)}
        vals = [r["s"] for r in reruns]
        out["all"] = {
            "n": len(vals),
            "p50": pct(vals, 0.5),
            "p95": pct(vals, 0.95),
            "max": max(vals),
            "mean": statistics.mean(vals),
        }
        out["memory_end"] = [memory(proc.pid) for proc in procs]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    shutil.rmtree(logs, ignore_errors=True)
    return out
