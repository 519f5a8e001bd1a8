"""The Data page's "Save as this deployment's data" is an import into the deployment's database, all or
nothing: a save whose files have errors against the database, that fails half-way through its
transaction, or whose process is killed in it (SIGKILL), leaves the data before as it was, and the page
says why (naming file, row and field as the validation report does); a save that succeeds replaces the
uploaded inputs and keeps the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_fixtures import ok, texts
from dbfiles import write_concerns, write_folder, write_incidents, write_sections
from streamlit.testing.v1 import AppTest

from geo import db, dbimport, store, uploads
from geo.settings import Settings
from geo.source import FileSource
from views import cache

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
DATA_PAGE = "views/data.py"


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """A deployment whose database holds the tiny sections, incidents and concerns; its settings."""
    data_dir = tmp_path / "own"
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(data_dir))
    settings = Settings.load({"DASHBOARD_DATA_DIR": str(data_dir)}, secrets_file=None)
    assert dbimport.run(db.engine(settings), write_folder(tmp_path / "first")).ok
    cache._latest.clear()
    cache._decided.clear()
    return settings


def state(settings: Settings) -> tuple[dict, dict, int | None]:
    eng = db.engine(settings)
    last = store.last_import(eng)
    return store.revisions(eng), store.rows(eng), last and last["import_id"]


def save_from_the_page(paths: dict[str, Path]) -> AppTest:
    """Upload ``paths`` on the Data page, check them, confirm and save."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page(DATA_PAGE).run()
    at.session_state["uploads"] = {n: {"file_id": n, "path": str(p), "name": p.name} for n, p in paths.items()}
    at.run()
    next(b for b in at.button if b.label == "Check these files").click().run()
    at.checkbox(key="confirm_save").check().run()
    next(b for b in at.button if b.label == "Save as this deployment's data").click().run()
    ok(at)
    return at


def test_a_save_replaces_the_uploaded_inputs_and_keeps_the_others(deployment, tmp_path):
    up = tmp_path / "up"
    up.mkdir()
    at = save_from_the_page({"sections": write_sections(up, extra=" (new)"), "incidents": write_incidents(up, 4)})
    assert any(s.value.startswith("Saved into the deployment's database") for s in at.success)
    revisions, rows, last = state(deployment)
    assert rows["incidents"] == 4 and rows["concerns"] == 5  # concerns were not uploaded: kept
    assert store.last_import(db.engine(deployment))["options"] is not None and last == 2
    shown = at.session_state["ctx"].data
    assert len(shown.incidents) == 4 and shown.sections["section_name"].str.endswith(" (new)").all()


def test_a_save_with_errors_changes_nothing_and_says_where(deployment, tmp_path):
    before = state(deployment)
    up = tmp_path / "up"
    up.mkdir()
    incidents = up / "incidents.csv"
    incidents.write_bytes(b"\x00\x01 not a table")
    at = save_from_the_page({"sections": write_sections(up, extra=" (new)"), "incidents": incidents})
    assert any(e.value.startswith("Nothing was saved: the files have errors") for e in at.error)
    problems = next(d.value for d in at.dataframe if "Code" in d.value.columns)
    assert "incidents.csv" in set(problems["File"]) and "Error" in set(problems["Severity"])
    assert state(deployment) == before  # the data before, untouched: no import recorded
    assert not at.session_state["ctx"].data.sections["section_name"].str.endswith(" (new)").any()
    assert "candidate" in at.session_state  # the checked upload is kept, to mend and save again


def test_a_sections_file_with_errors_is_never_imported(deployment, tmp_path):
    before = state(deployment)
    broken = tmp_path / "sections.geojson"
    broken.write_text("this is not GeoJSON {", encoding="utf-8")
    outcome = uploads.save_own(FileSource({"sections": broken, "concerns": write_concerns(tmp_path)}), deployment)
    assert not outcome.ok and outcome.report.has_errors("sections")
    assert [p.file for p in outcome.report.errors] == ["sections.geojson"]
    assert state(deployment) == before


def test_a_save_that_fails_half_way_leaves_the_data_before(deployment, tmp_path, monkeypatch):
    before = state(deployment)
    real = store.insert

    def failing(conn, name, frame, *args, **kwargs):
        if name == "incidents":  # after the sections were replaced, in the same transaction
            raise OSError(28, "No space left on device")
        return real(conn, name, frame, *args, **kwargs)

    monkeypatch.setattr(store, "insert", failing)
    up = tmp_path / "up"
    up.mkdir()
    at = save_from_the_page({"sections": write_sections(up, extra=" (new)"), "incidents": write_incidents(up, 4)})
    assert any("No space left on device" in e.value and "Nothing was saved" in e.value for e in at.error)
    monkeypatch.setattr(store, "insert", real)
    assert state(deployment) == before  # rolled back: the sections as they were, no import recorded
    assert "Saved into" not in texts(at)


def test_the_public_data_page_says_the_data_is_the_databases_but_not_where_it_is(deployment, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page(DATA_PAGE).run()
    ok(at)
    assert "**This deployment's data**, from its database." in texts(at)
    assert str(deployment.data_dir) not in texts(at) and "sqlite" not in texts(at)


#: Run in another process: the Data page's save of <sections> and <incidents>, killed (SIGKILL) while it writes
#: the incidents, inside its transaction.
KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
from geo import store, uploads
from geo.source import FileSource

real = store.insert

def insert(conn, name, frame, *args, **kwargs):
    n = real(conn, name, frame, *args, **kwargs)
    if name == "incidents":
        os.kill(os.getpid(), signal.SIGKILL)
    return n

store.insert = insert
uploads.save_own(FileSource({"sections": Path(sys.argv[1]), "incidents": Path(sys.argv[2])}))
"""


def test_a_save_killed_in_its_transaction_leaves_the_data_before(deployment, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    before = state(deployment)
    up = tmp_path / "up"
    up.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, str(write_sections(up, extra=" (new)")), str(write_incidents(up, 4))],
        cwd=ROOT,
        env={**os.environ, "DASHBOARD_DATA_DIR": str(deployment.data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert state(deployment) == before
    _revs, parts = store.read(db.engine(deployment), ["sections"])
    assert not parts["sections"].frame["section_name"].str.endswith(" (new)").any()
