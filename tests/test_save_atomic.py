"""Saving the deployment's data never loses the old data (issue 10, section 3).

A real subprocess doing the save is killed with SIGKILL after each of its steps
(:data:`geo.saved.STEP_HOOK` kills it there: no sleeps, no patched functions in
the process that is checked); a fresh process then loads either the complete old
data or the complete new data. A data folder that holds foreign files (a mount
point) keeps them all, and the data folder itself is never removed or renamed.
Saved data that cannot be loaded is said so, on every page; hand-made folders
still load.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from dashboard_fixtures import ok, texts
from streamlit.testing.v1 import AppTest

from geo import i18n, saved, uploads
from geo.loader import LoadOptions
from geo.source import FileSource

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
OPTIONS = LoadOptions(columns={"incidents": {"occurred_at": "date"}})

#: Run in a subprocess: save <source dir> into <data dir>, printing each step and dying by SIGKILL after <stop>
#: (or, with "pause", waiting there for a line on stdin).
SAVE_SCRIPT = """
import os, signal, sys
from pathlib import Path
from geo import saved
from geo.loader import LoadOptions
from geo.source import FileSource

data_dir, src, stop = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
pause = len(sys.argv) > 4 and sys.argv[4] == "pause"

def hook(step):
    print(step, flush=True)
    if step == stop and pause:  # wait for the parent's go-ahead on stdin
        sys.stdin.readline()
    elif step == stop:
        os.kill(os.getpid(), signal.SIGKILL)

saved.STEP_HOOK = hook
source = FileSource(
    {"sections": src / "sections.geojson", "incidents": src / "incidents.csv"},
    LoadOptions(columns={"incidents": {"occurred_at": "date"}}),
)
saved.save(source, data_dir)
print("returned", flush=True)
"""

#: Run in a fresh process: what each data folder holds (file contents by hash, options, problem).
READ_SCRIPT = """
import hashlib, json, sys
from dataclasses import asdict
from pathlib import Path
from geo import saved

out = {}
for d in sys.argv[1:]:
    own = saved.find(Path(d))
    src = own.source
    out[d] = {
        "problem": own.problem,
        "data": None if src is None else {
            "files": {k: hashlib.sha256(Path(p).read_bytes()).hexdigest() for k, p in sorted(src.paths.items())},
            "options": asdict(src.options),
        },
    }
print(json.dumps(out))
"""


def section_files(directory: Path, tag: str, rows: int) -> dict[str, Path]:
    """A sections file named by ``tag`` and an incidents file of ``rows`` thefts."""
    directory.mkdir(parents=True, exist_ok=True)
    square = [[21.1, 42.6], [21.2, 42.6], [21.2, 42.7], [21.1, 42.7], [21.1, 42.6]]
    feature = {
        "type": "Feature",
        "properties": {"section_id": "A", "section_name": f"Qendra {tag}", "municipality": "Prishtina"},
        "geometry": {"type": "Polygon", "coordinates": [square]},
    }
    sections = directory / "sections.geojson"
    sections.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    incidents = directory / "incidents.csv"
    lines = ["date,category,lat,lon", *[f"2024-03-{1 + i % 28:02d},theft,42.65,21.15" for i in range(rows)]]
    incidents.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"sections": sections, "incidents": incidents}


def source_of(directory: Path, tag: str, rows: int) -> FileSource:
    return FileSource(section_files(directory, tag, rows), OPTIONS)


def signature(source: FileSource | None) -> dict | None:
    """What a fresh process reports for ``source`` (see READ_SCRIPT)."""
    if source is None:
        return None
    from dataclasses import asdict

    files = {k: hashlib.sha256(Path(p).read_bytes()).hexdigest() for k, p in sorted(source.paths.items())}
    return {"files": files, "options": asdict(source.options)}


def foreign_files(directory: Path) -> dict[str, bytes]:
    """Files that belong to someone else, as on a mounted volume (one nested two folders deep)."""
    made = {
        "notes.txt": b"not the dashboard's",
        ".hidden": b"x",
        "lost+found/inode-12": b"\x00\x01",
        "backups/2024/incidents.csv": b"date,category\n",
        "own.new/keep.txt": b"a folder with the name the old code used for its copy",
    }
    for rel, data in made.items():
        p = directory / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return made


def snapshot(directory: Path, skip: str = saved.SUBDIR) -> dict[str, tuple[bytes, int]]:
    """Every file outside ``skip`` with its bytes and modification time."""
    out = {}
    for p in sorted(directory.rglob("*")):
        rel = p.relative_to(directory)
        if rel.parts[0] == skip or not p.is_file():
            continue
        out[str(rel)] = (p.read_bytes(), p.stat().st_mtime_ns)
    return out


def run_save(data_dir: Path, src: Path, stop: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SAVE_SCRIPT, str(data_dir), str(src), stop],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_fresh(dirs: list[Path]) -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, "-c", READ_SCRIPT, *map(str, dirs)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# ---------------------------------------------------------------- (1) killed at every step


def over_two_saves(data_dir: Path, tmp: Path) -> FileSource:
    """A folder with foreign files and two earlier saves; returns the data saved last (the "old" data)."""
    foreign_files(data_dir)
    saved.save(source_of(tmp / "older", "older", 3), data_dir)
    old = source_of(tmp / "old", "old", 5)
    saved.save(old, data_dir)
    return old


def over_a_hand_made_folder(data_dir: Path, tmp: Path) -> FileSource:
    """A hand-made folder (files + options.json directly in it) and foreign files; nothing saved yet."""
    foreign_files(data_dir)
    files = section_files(data_dir, "hand-made", 4)
    (data_dir / "options.json").write_text(
        json.dumps({"files": {k: p.name for k, p in files.items()}, "options": {"columns": OPTIONS.columns}})
    )
    return FileSource(files, OPTIONS)


@pytest.mark.parametrize("before", [over_two_saves, over_a_hand_made_folder])
def test_a_save_killed_after_any_step_leaves_the_old_or_the_new_data_complete(tmp_path, before):
    new_src = tmp_path / "new"
    new = source_of(new_src, "new", 9)
    # the steps, from a save that runs to the end
    probe = tmp_path / "probe"
    before(probe, tmp_path / "probe-src")
    done = run_save(probe, new_src, stop="")
    assert done.returncode == 0, done.stderr
    steps = done.stdout.splitlines()
    assert steps[-1] == "returned"
    steps = steps[:-1]
    assert {"rename", "pointer replaced", "done"} <= set(steps) and len(steps) == len(set(steps))
    if before is over_two_saves:
        assert "retire gen-1" in steps and "remove gen-1" in steps  # the oldest save is removed, last
    reported = steps.index("pointer replaced")  # from here on the save is on disk as it will be reported

    dirs, olds, foreign = [], [], []
    for k, step in enumerate(steps):
        data_dir = tmp_path / f"kill-{k}"
        old = before(data_dir, tmp_path / f"src-{k}")
        foreign.append(snapshot(data_dir))
        olds.append(signature(old))
        killed = run_save(data_dir, new_src, stop=step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        assert killed.stdout.splitlines()[-1] == step
        dirs.append(data_dir)

    seen = read_fresh(dirs)
    for k, (step, data_dir) in enumerate(zip(steps, dirs, strict=True)):
        got = seen[str(data_dir)]
        assert got["problem"] == "", (step, got["problem"])
        expected = signature(new) if k >= reported else olds[k]
        assert got["data"] == expected, f"killed after {step!r}: neither the complete old nor the new data"
        assert snapshot(data_dir) == foreign[k], f"killed after {step!r}: files outside {saved.SUBDIR} changed"
        leftovers = [p.name for p in (data_dir / saved.SUBDIR).glob("*.tmp")]
        assert leftovers == [], f"killed after {step!r}: not recovered on start: {leftovers}"
        # and the next save works and keeps the latest two saves at most
        third = source_of(tmp_path / f"third-{k}", f"third {k}", 2)
        saved.save(third, data_dir)
        assert signature(saved.find(data_dir).source) == signature(third)
        gens = [p.name for p in (data_dir / saved.SUBDIR).glob("gen-*")]
        assert len(gens) <= 2, gens


def test_a_save_that_fails_half_way_keeps_the_old_data_and_leaves_nothing_behind(tmp_path):
    # The disk fills up while the new generation is written: the old data is still there, and whole.
    data_dir = tmp_path / "own"
    old = source_of(tmp_path / "old", "old", 5)
    saved.save(old, data_dir)

    def refuse(step: str) -> None:
        if step == "fsync generation":
            raise OSError(errno.ENOSPC, "No space left on device")

    saved.STEP_HOOK = refuse
    try:
        with pytest.raises(OSError, match="No space"):
            uploads.save_own(source_of(tmp_path / "new", "new", 9), data_dir)
    finally:
        saved.STEP_HOOK = None
    assert signature(uploads.own_source(data_dir)) == signature(old)
    assert list((data_dir / saved.SUBDIR).glob("*.tmp")) == []  # nothing half-written left behind


def test_a_session_starting_while_another_one_saves_leaves_the_save_alone(tmp_path):
    # Every rerun of every session reads the data folder and clears what an interrupted save left: it must
    # not take a running save for an interrupted one.
    data_dir = tmp_path / "own"
    old = source_of(tmp_path / "old", "old", 5)
    saved.save(old, data_dir)
    new = source_of(tmp_path / "new", "new", 9)
    with subprocess.Popen(
        [sys.executable, "-c", SAVE_SCRIPT, str(data_dir), str(tmp_path / "new"), "copy incidents", "pause"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        for line in proc.stdout:  # wait until the save is half done (it then waits for us)
            if line.strip() == "copy incidents":
                break
        assert (data_dir / saved.SUBDIR / "gen-2.tmp").is_dir()
        own = uploads.own_data(data_dir)  # another session's rerun
        assert signature(own.source) == signature(old) and own.problem == ""
        assert (data_dir / saved.SUBDIR / "gen-2.tmp").is_dir()  # not removed under the running save
        proc.stdin.write("go\n")
        proc.stdin.close()
        assert proc.stdout.read().splitlines()[-1] == "returned"
        assert proc.wait(timeout=120) == 0
    assert signature(uploads.own_source(data_dir)) == signature(new)


# ---------------------------------------------------------------- (2) foreign files, a mount point


def test_foreign_files_and_folders_survive_several_saves(tmp_path):
    data_dir = tmp_path / "volume"
    data_dir.mkdir()
    made = foreign_files(data_dir)
    before = snapshot(data_dir)
    inode = data_dir.stat().st_ino
    for n in range(4):
        src = source_of(tmp_path / f"src-{n}", f"save {n}", n + 1)
        written = uploads.save_own(src, data_dir)
        assert written.parent == data_dir / saved.SUBDIR
        assert snapshot(data_dir) == before  # every foreign file, byte for byte and untouched
        assert data_dir.stat().st_ino == inode  # the folder itself was neither removed nor renamed
        assert sorted(os.listdir(data_dir)) == sorted({*(r.split("/")[0] for r in made), saved.SUBDIR})
        assert signature(uploads.own_source(data_dir)) == signature(src)


def test_a_mount_point_is_never_removed_or_renamed(tmp_path, monkeypatch):
    """The data folder behaves as a mount point: removing or renaming it fails with EBUSY."""
    data_dir = tmp_path / "mnt"
    data_dir.mkdir()
    foreign_files(data_dir)
    before = snapshot(data_dir)
    busy = os.path.realpath(data_dir)

    def guard(real):
        def call(*args, **kwargs):
            for a in args[:2]:
                if isinstance(a, (str, bytes, os.PathLike)) and os.path.realpath(os.fsdecode(a)) == busy:
                    raise OSError(errno.EBUSY, "Device or resource busy", os.fsdecode(a))
            return real(*args, **kwargs)

        return call

    for name in ("rmdir", "rename", "replace"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))
    for n in range(2):
        src = source_of(tmp_path / f"src-{n}", f"save {n}", 3)
        uploads.save_own(src, data_dir)
        assert signature(uploads.own_source(data_dir)) == signature(src)
    assert snapshot(data_dir) == before


# ---------------------------------------------------------------- (3) saved data that cannot be loaded


def two_saves(tmp_path: Path) -> tuple[Path, FileSource, Path]:
    data_dir = tmp_path / "own"
    first = source_of(tmp_path / "a", "first", 3)
    saved.save(first, data_dir)
    last = saved.save(source_of(tmp_path / "b", "last", 6), data_dir)
    return data_dir, first, last


def test_a_missing_file_falls_back_to_the_save_before_and_says_so(tmp_path):
    data_dir, first, last = two_saves(tmp_path)
    (last / "incidents.csv").unlink()
    own = uploads.own_data(data_dir)
    assert signature(own.source) == signature(first) and own.fallback == "previous"
    assert own.problem == f"dashboard-data/{last.name}/incidents.csv (incidents) is missing"


def test_a_truncated_file_is_incomplete(tmp_path):
    data_dir, first, last = two_saves(tmp_path)
    path = last / "sections.geojson"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:10])
    own = uploads.own_data(data_dir)
    assert signature(own.source) == signature(first)
    assert (
        own.problem
        == f"dashboard-data/{last.name}/sections.geojson (sections) is incomplete: 10 bytes instead of {size:,}"
    )


def test_a_pointer_to_a_missing_generation_falls_back_to_the_newest_complete_one(tmp_path):
    data_dir, first, last = two_saves(tmp_path)
    (data_dir / saved.SUBDIR / saved.POINTER).write_text("gen-9\n")
    own = uploads.own_data(data_dir)
    assert own.source is not None and Path(own.source.paths["sections"]).parent == last
    assert own.problem == "dashboard-data/current names gen-9, which is not there"


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda g: (g / "options.json").write_text("{not json"), "options.json is not valid JSON"),
        (lambda g: (g / "options.json").write_text('{"files": {"incidents": "incidents.csv"}}'), "no sections"),
        (lambda g: (g / "options.json").unlink(), "options.json is missing"),
        (lambda g: ((g / "incidents.csv").unlink(), (g / "incidents.csv").mkdir()), "incidents.csv (incidents) cannot"),
    ],
    ids=["bad json", "no sections", "no options", "unreadable"],
)
def test_saved_data_that_cannot_be_loaded_is_not_silently_the_demo(tmp_path, damage, problem):
    data_dir = tmp_path / "own"
    gen = saved.save(source_of(tmp_path / "a", "only", 3), data_dir)
    damage(gen)
    own = uploads.own_data(data_dir)
    assert own.source is None and uploads.own_source(data_dir) is None
    assert problem in own.problem and f"dashboard-data/{gen.name}/" in own.problem


def test_a_broken_hand_made_folder_is_said_so_too(tmp_path):
    data_dir = tmp_path / "own"
    section_files(data_dir, "hand-made", 2)
    (data_dir / "options.json").write_text('{"files": {"sections": "sections.geojson", "incidents": "gone.csv"}}')
    own = uploads.own_data(data_dir)
    assert own.source is None and own.problem == "own/gone.csv (incidents) is missing"


def run_app(lang: str, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_page_says_the_saved_data_could_not_be_loaded(tmp_path, monkeypatch, lang):
    _ = i18n.translator(lang)
    data_dir = tmp_path / "own"
    gen = saved.save(source_of(tmp_path / "a", "only", 3), data_dir)
    (gen / "options.json").write_text("{not json")
    monkeypatch.setattr(uploads, "OWN_DIR", data_dir)
    reason = uploads.own_data(data_dir).problem
    expected = _(
        "The deployment's data could not be loaded ({error}). Showing the demo data instead; save the data "
        "again on the Data page or check the folder {folder} on the server.",
        error=i18n.md_escape(reason),
        folder=i18n.md_escape(data_dir),
    )
    for page in (None, "views/hotspots.py", "views/data.py"):
        at = run_app(lang, page)
        ok(at)
        assert expected in [w.value for w in at.warning], page
        assert _("Demo data — synthetic, approximate boundaries") in texts(at)


def test_the_page_says_when_it_shows_the_save_before(tmp_path, monkeypatch):
    data_dir, first, last = two_saves(tmp_path)
    (last / "sections.geojson").unlink()
    monkeypatch.setattr(uploads, "OWN_DIR", data_dir)
    at = run_app("en")
    ok(at)
    warnings = [w.value for w in at.warning]
    reason = i18n.md_escape(f"dashboard-data/{last.name}/sections.geojson (sections) is missing")
    assert any("last saved data could not be loaded" in w and reason in w for w in warnings), warnings
    assert "Demo data" not in texts(at)  # the save before is shown, not the demo
    assert at.session_state["ctx"].source.paths["sections"].parent.name != last.name


# ---------------------------------------------------------------- (4) hand-made folders


def test_a_hand_made_folder_loads_and_a_save_leaves_it_alone_and_takes_precedence(tmp_path):
    data_dir = tmp_path / "own"
    hand = over_a_hand_made_folder(data_dir, tmp_path)
    before = snapshot(data_dir)
    assert signature(uploads.own_source(data_dir)) == signature(hand)
    assert uploads.own_data(data_dir).problem == ""
    new = source_of(tmp_path / "new", "new", 7)
    uploads.save_own(new, data_dir)
    assert snapshot(data_dir) == before  # the hand-made files and options.json are untouched
    assert signature(uploads.own_source(data_dir)) == signature(new)  # the saved data takes precedence
    # and going back is removing the project's subfolder
    import shutil

    shutil.rmtree(data_dir / saved.SUBDIR)
    assert signature(uploads.own_source(data_dir)) == signature(hand)


def test_a_hand_made_folder_is_shown_when_the_saved_data_is_broken(tmp_path, monkeypatch):
    data_dir = tmp_path / "own"
    hand = over_a_hand_made_folder(data_dir, tmp_path)
    gen = uploads.save_own(source_of(tmp_path / "new", "new", 7), data_dir)
    (gen / "options.json").unlink()
    own = uploads.own_data(data_dir)
    assert signature(own.source) == signature(hand) and own.fallback == "hand-made"
    assert own.problem == f"dashboard-data/{gen.name}/options.json is missing"


# ---------------------------------------------------------------- the command line reads the deployment's data


def test_the_command_line_reads_the_saved_data_and_says_when_it_cannot(tmp_path, monkeypatch, capsys):
    from geo.cli import main

    data_dir, first, last = two_saves(tmp_path)
    monkeypatch.setattr(uploads, "OWN_DIR", data_dir)
    assert main(["validate", "--own", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["counts"]["incidents"]["loaded"] == 6 and err == ""  # the last save: 6 incidents
    (last / "incidents.csv").unlink()
    assert main(["validate", "--own", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["counts"]["incidents"]["loaded"] == 3  # the save before it
    assert f"dashboard-data/{last.name}/incidents.csv (incidents) is missing; using the save before it" in err
    (data_dir / saved.SUBDIR / saved.POINTER).write_text("nonsense")
    for gen in (data_dir / saved.SUBDIR).glob("gen-*"):
        (gen / "options.json").unlink()
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--own"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"the deployment's data in {data_dir} cannot be loaded: dashboard-data/current names 'nonsense'" in err
    for other in (["--demo"], ["--max-count", "10"], ["--latest", "2024-12-31"], ["--layer", "sections=a"]):
        with pytest.raises(SystemExit):
            main(["validate", "--own", *other])
        assert "--own cannot be combined" in capsys.readouterr().err, other  # it reads the saved options
