"""Fresh without reloading everything (issue 15), in Streamlit's AppTest against a real embedded database in
a temporary data folder: a concern recorded in the app shows on the next rerun while the incidents, their
cube (in public, their published cube) and the map's shapes stay the very same objects; incidents imported
by another process show on the next rerun without a restart; a session's filters survive a new concern and
are reset by new incidents; and a database that cannot be used says so, in the session's language, over
the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from dashboard_fixtures import ok, texts
from dbfiles import new_concern, write_folder, write_incidents
from streamlit.testing.v1 import AppTest

from geo import db, dbimport, i18n, store
from geo.settings import Settings
from views import cache

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")

#: Run in another process: replace the incidents of the database of DASHBOARD_DATA_DIR by the file given.
IMPORT_SCRIPT = """
import sys
from pathlib import Path
from geo import db, dbimport
outcome = dbimport.run(db.engine(), {"incidents": Path(sys.argv[1])}, modes={"incidents": "replace"})
print(outcome.import_id)
sys.exit(0 if outcome.ok else 1)
"""


def clear_caches() -> None:
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """A deployment whose embedded database holds the tiny sections, incidents and concerns."""
    data_dir = tmp_path / "own"
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DASHBOARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    settings = Settings.load({"DASHBOARD_DATA_DIR": str(data_dir)}, secrets_file=None)
    assert dbimport.run(db.engine(settings), write_folder(tmp_path / "files")).ok
    clear_caches()
    yield settings
    clear_caches()


def app(lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    ok(at)
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def import_elsewhere(settings: Settings, incidents: Path) -> None:
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, str(incidents)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("public", [False, True], ids=["restricted", "public"])
def test_a_new_concern_shows_on_the_next_rerun_and_reloads_nothing_else(deployment, monkeypatch, public):
    if public:
        monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = app()
    before = at.session_state["ctx"]
    assert before.source.key().startswith("database:")
    incidents, cube, sections = before.data.incidents, before.data.cube, before.data.sections
    shapes_key = cache.table_key(before.source, "sections")
    shapes = cache.geometry(before.data, shapes_key)
    loaded = cache._latest(before.source.key()).loaded
    raw_cube = loaded.dataset.cube
    concerns = len(loaded.dataset.concerns)

    store.record(db.engine(deployment), "concerns", new_concern())
    at.run()
    ok(at)
    after = at.session_state["ctx"]
    now = cache._latest(after.source.key()).loaded
    assert len(now.dataset.concerns) == concerns + 1 and "C-app-1" in set(now.dataset.concerns["concern_id"])
    assert now.dataset.report.counts["concerns"]["loaded"] == concerns + 1
    assert after.data is not before.data  # new data, with the same incidents, cube and sections
    assert now.dataset.incidents is loaded.dataset.incidents and now.dataset.cube is raw_cube
    assert after.data.incidents is incidents and after.data.cube is cube  # in public: the published ones
    assert now.dataset.sections is loaded.dataset.sections  # (a public copy's sections are made anew)
    if not public:
        assert after.data.sections is sections
    assert cache.table_key(after.source, "sections") == shapes_key
    assert cache.geometry(after.data, shapes_key) is shapes  # the map's shapes are not rebuilt


def test_open_concerns_count_the_new_one(deployment):
    at = app()
    before = int(metric(at, "Open concerns"))
    store.record(db.engine(deployment), "concerns", new_concern())
    at.run()
    ok(at)
    assert int(metric(at, "Open concerns")) == before + 1


@pytest.mark.parametrize("public", [False, True], ids=["restricted", "public"])
def test_a_new_concern_compares_anew_on_the_concerns_page_without_counting_the_incidents_again(
    deployment, monkeypatch, tmp_path, public
):
    """Concerns against incidents: the incidents' counts are kept by the incidents' key, not the data's, so the
    rerun after a saved concern counts only the concerns (at a million incidents the counts are most of it)."""
    from geo import analysis

    if public:
        monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    calls: list[object] = []
    counted = analysis.category_counts

    def counting(data, filters, window):
        calls.append(window)
        return counted(data, filters, window)

    monkeypatch.setattr(analysis, "category_counts", counting)
    at = app()
    at.switch_page("views/concerns.py").run()
    ok(at)
    assert calls, "the page compared no concerns with incidents: the check would prove nothing"
    first, concerns = len(calls), len(at.session_state["ctx"].data.concerns)
    store.record(db.engine(deployment), "concerns", new_concern())
    at.run()
    ok(at)
    assert len(calls) == first  # the same incidents: their counts are not made again
    assert len(at.session_state["ctx"].data.concerns) == concerns + 1  # (in public, with ids of its own)
    import_elsewhere(deployment, write_incidents(tmp_path, rows=4))  # the control: other incidents
    at.run()
    ok(at)
    assert len(calls) > first  # are counted anew


def test_incidents_imported_by_another_process_show_on_the_next_rerun(deployment, tmp_path):
    at = app()
    before = at.session_state["ctx"]
    assert len(before.data.incidents) == 15
    fewer = write_incidents(tmp_path, rows=4)
    import_elsewhere(deployment, fewer)
    at.run()  # the same server process, no restart
    ok(at)
    after = at.session_state["ctx"]
    assert len(after.data.incidents) == 4 and after.data.cube is not before.data.cube
    assert after.data.sections is before.data.sections  # sections did not move
    # a second session of the same process sees it too, from the shared load
    other = app()
    assert other.session_state["ctx"].data is after.data


def test_filters_survive_a_new_concern_and_are_reset_by_new_incidents(deployment, tmp_path):
    at = app()
    at.sidebar.selectbox(key="region").select("Ferizaj").run()
    ok(at)
    assert at.session_state["region"] == "Ferizaj"
    store.record(db.engine(deployment), "concerns", new_concern("C-app-2"))
    at.run()
    ok(at)
    assert at.session_state["region"] == "Ferizaj"  # a new concern keeps the session's choices
    import_elsewhere(deployment, write_incidents(tmp_path, rows=6))
    at.run()
    ok(at)
    assert at.session_state["region"] == ""  # new incidents: the default filters again
    assert len(at.session_state["ctx"].data.incidents) == 6


# ---------------------------------------------------------------- a database that cannot be used


def unreachable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", "postgresql+psycopg://dashboard:pw@127.0.0.1:1/dashboard")


def empty(tmp_path: Path, monkeypatch) -> None:
    shared = tmp_path / "shared.sqlite3"
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", f"sqlite:///{shared}")
    db.upgrade(db.engine(url=f"sqlite:///{shared}"))


def old_schema(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "own" / db.SUBDIR / db.FILENAME
    path.parent.mkdir(parents=True)
    with sa.create_engine(f"sqlite:///{path}").begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0000_older')")


NOTICES = {
    unreachable: lambda _: _(
        "The deployment's database cannot be reached. Showing {what} instead; check the database server "
        "and the setting DASHBOARD_DATABASE_URL.",
        what=_("the demo data"),
    ),
    empty: lambda _: _(
        "The deployment's database holds no data yet. Showing the demo data; import the deployment's "
        "files on the server with `python -m geo db import`."
    ),
    old_schema: lambda _: _(
        "The deployment's database was made by an older version of the dashboard. Run "
        "`python -m geo db upgrade` on the server; until then the demo data is shown."
    ),
}


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("case", list(NOTICES), ids=lambda f: f.__name__)
def test_a_database_that_cannot_be_used_says_so_over_the_demo(tmp_path, monkeypatch, case, lang):
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "own"))
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    case(tmp_path, monkeypatch)
    clear_caches()
    _ = i18n.translator(lang)
    at = app(lang)
    expected = NOTICES[case](_)
    if lang != "en":
        assert expected != NOTICES[case](i18n.translator("en"))  # translated
    assert expected in [w.value for w in at.warning]
    assert _("Demo data — synthetic, approximate boundaries") in texts(at)
    assert at.session_state["ctx"].data.is_demo


@pytest.mark.parametrize("public", [False, True], ids=["restricted", "public"])
def test_a_page_compares_with_the_tables_it_drew_even_after_another_session_loaded_newer_ones(
    deployment, monkeypatch, public
):
    """Session A draws at revision r0; a concern is saved and session B loads r1 before A's page asks for its
    tables' key: A's key is still r0's (so its refresh sees that the concerns moved), the newest is r1's."""
    if public:
        monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = app()
    drawn = at.session_state["ctx"]
    before = cache.table_key(drawn.source, "concerns")
    store.record(db.engine(deployment), "concerns", new_concern())
    other = app()  # another session's run loads the new concern into the process's shared copy
    newer = other.session_state["ctx"]
    assert newer.fingerprint != drawn.fingerprint
    assert cache.table_key(drawn.source, "concerns", at=drawn.fingerprint) == before
    assert cache.table_key(drawn.source, "concerns", at=newer.fingerprint) != before
    assert cache.table_key(drawn.source, "concerns") != before  # the newest load: what the race read
    assert cache.table_key(drawn.source, "sections", at=drawn.fingerprint) == cache.table_key(
        drawn.source, "sections", at=newer.fingerprint
    )  # the sections did not move
    assert cache.data_key(drawn.source, at=drawn.fingerprint) == cache.data_key(drawn.source, at=newer.fingerprint)
