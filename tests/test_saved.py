"""A deployment's data folder as earlier versions left it (issue 10's saves, hand-made folders) is still
read (:func:`geo.saved.find`), so that the first start with a database imports it (issue 15).

Earlier versions saved into generations (``dashboard-data/gen-<n>`` and a ``current`` pointer); the
tests write such folders by hand (:func:`legacy_save`), as those versions left them. Saved data that
cannot be read falls back to the generation before, or to the hand-made files, and says why; a save into
the database (the Data page's) leaves every file of the data folder alone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from dashboard_fixtures import ok, texts
from streamlit.testing.v1 import AppTest

from geo import db, i18n, saved, store, uploads
from geo.loader import LoadOptions
from geo.settings import Settings
from geo.source import DatabaseSource, FileSource

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
OPTIONS = LoadOptions(columns={"incidents": {"occurred_at": "date"}})


def legacy_save(source: FileSource, data_dir: Path) -> Path:
    """What an earlier version's "Save as this deployment's data" left: the next ``gen-<n>`` with the files,
    an ``options.json`` recording their sizes, and ``current`` naming it. Returns the generation."""
    folder = data_dir / saved.SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    n = 1 + max((int(p.name[4:]) for p in folder.glob("gen-*") if p.name[4:].isdigit()), default=0)
    gen = folder / f"gen-{n}"
    gen.mkdir()
    files, sizes = {}, {}
    for name, path in source.paths.items():
        target = gen / f"{name}{Path(path).suffix}"
        shutil.copyfile(path, target)
        files[name] = target.name
        sizes[target.name] = target.stat().st_size
    meta = {"files": files, "options": saved.options_to_dict(source.options), "sizes": sizes}
    (gen / saved.OPTIONS_FILE).write_text(json.dumps(meta), encoding="utf-8")
    (folder / saved.POINTER).write_text(f"{gen.name}\n", encoding="utf-8")
    return gen


def settings_of(data_dir: Path) -> Settings:
    return Settings.load({"DASHBOARD_DATA_DIR": str(data_dir)}, secrets_file=None)


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


def over_a_hand_made_folder(data_dir: Path, tmp: Path) -> FileSource:
    """A hand-made folder (files + options.json directly in it) and foreign files; nothing saved yet."""
    foreign_files(data_dir)
    files = section_files(data_dir, "hand-made", 4)
    (data_dir / "options.json").write_text(
        json.dumps({"files": {k: p.name for k, p in files.items()}, "options": {"columns": OPTIONS.columns}})
    )
    return FileSource(files, OPTIONS)


def test_an_interrupted_legacy_save_is_ignored_and_left_alone(tmp_path):
    data_dir = tmp_path / "own"
    last = legacy_save(source_of(tmp_path / "a", "last", 3), data_dir)
    leftover = data_dir / saved.SUBDIR / "gen-2.tmp"
    leftover.mkdir()
    (leftover / "sections.geojson").write_text("half")
    own = uploads.own_data(data_dir)
    assert own.problem == "" and Path(own.source.paths["sections"]).parent == last
    assert (leftover / "sections.geojson").read_text() == "half"  # reading never writes


# ---------------------------------------------------------------- (3) saved data that cannot be loaded


def two_saves(tmp_path: Path) -> tuple[Path, FileSource, Path]:
    data_dir = tmp_path / "own"
    first = source_of(tmp_path / "a", "first", 3)
    legacy_save(first, data_dir)
    last = legacy_save(source_of(tmp_path / "b", "last", 6), data_dir)
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
    gen = legacy_save(source_of(tmp_path / "a", "only", 3), data_dir)
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
    gen = legacy_save(source_of(tmp_path / "a", "only", 3), data_dir)
    (gen / "options.json").write_text("{not json")
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(data_dir))
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
    assert not db.embedded_path(settings_of(data_dir)).exists()  # nothing to import: no database made


def test_the_first_start_imports_the_save_before_when_the_last_one_is_broken(tmp_path, monkeypatch):
    data_dir, first, last = two_saves(tmp_path)
    (last / "sections.geojson").unlink()
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(data_dir))
    at = run_app("en")
    ok(at)
    assert "Demo data" not in texts(at)
    assert isinstance(at.session_state["ctx"].source, DatabaseSource)
    eng = db.engine(settings_of(data_dir))
    assert store.rows(eng)["incidents"] == 3  # the save before: 3 incidents
    assert Path(store.last_import(eng)["files"][0]["path"]).parent.name != last.name


# ---------------------------------------------------------------- hand-made folders


def test_a_hand_made_folder_loads_and_a_save_into_the_database_leaves_it_alone(tmp_path):
    data_dir = tmp_path / "own"
    hand = over_a_hand_made_folder(data_dir, tmp_path)
    before = snapshot(data_dir, skip=db.SUBDIR)
    assert signature(uploads.own_source(data_dir)) == signature(hand)
    assert uploads.own_data(data_dir).problem == ""
    new = source_of(tmp_path / "new", "new", 7)
    outcome = uploads.save_own(new, settings_of(data_dir))
    assert outcome.ok and outcome.added == {"sections": 1, "incidents": 7}
    assert snapshot(data_dir, skip=db.SUBDIR) == before  # the hand-made and foreign files are untouched
    assert {p.name for p in data_dir.iterdir()} - {rel.split("/")[0] for rel in before} == {db.SUBDIR}


def test_a_hand_made_folder_is_shown_when_the_saved_data_is_broken(tmp_path, monkeypatch):
    data_dir = tmp_path / "own"
    hand = over_a_hand_made_folder(data_dir, tmp_path)
    gen = legacy_save(source_of(tmp_path / "new", "new", 7), data_dir)
    (gen / "options.json").unlink()
    own = uploads.own_data(data_dir)
    assert signature(own.source) == signature(hand) and own.fallback == "hand-made"
    assert own.problem == f"dashboard-data/{gen.name}/options.json is missing"


# ---------------------------------------------------------------- the command line reads the data folder


def test_the_command_line_reads_the_saved_data_and_says_when_it_cannot(tmp_path, monkeypatch, capsys):
    from geo.cli import main

    data_dir, first, last = two_saves(tmp_path)
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(data_dir))  # read now, not when geo.uploads was imported
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
