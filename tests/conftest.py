"""Shared tiny, hand-made fixtures for the ``geo`` library tests.

The sections are a 2×2 grid of 0.1° squares in Prishtinë (21.1–21.3°E,
42.6–42.8°N), ids chosen so that the smaller id is the south-west one::

    42.8 +------+------+
         |  S3  |  S4  |
    42.7 +------+------+
         |  S1  |  S2  |
    42.6 +------+------+
        21.1   21.2   21.3

Every file is written into ``tmp_path``; nothing is read from ``data/``. The
helpers are handed to tests as fixtures (``square``, ``make_sections``,
``write_boundaries``, ``found``, ``check_counts``) so that test
modules never import this file.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import geopandas as gpd
import pandas as pd
import pytest
import shapely

# CI=true turns any skip into a failure of the run (tests/cigate.py); imported, these are this suite's hooks.
from cigate import pytest_collectreport, pytest_runtest_logreport, pytest_sessionfinish, pytest_terminal_summary  # noqa: F401

from geo.dataset import Dataset
from geo.loader import LoadOptions, load_files
from geo.report import Report
from geo.schema import COUNT_KEYS, WGS84

#: The public perturbation secret of every test (a deployment sets its own; public mode refuses to start
#: without one). Set for the whole session so that AppTest runs and command-line subprocesses find it.
TEST_SECRET = "test-secret-for-the-suite-only-0123456789"
os.environ.setdefault("DASHBOARD_PUBLIC_SECRET", TEST_SECRET)
#: The deployment's data folder of every test that does not give its own: an empty folder of the session, so
#: that no test ever writes the project's own data/own/ (its embedded database) or reads what one left there.
SESSION_DATA_DIR = tempfile.mkdtemp(prefix="dashboard-tests-data-")
os.environ["DASHBOARD_DATA_DIR"] = SESSION_DATA_DIR

#: Interior points, one per grid section.
INSIDE = {"S1": (21.15, 42.65), "S2": (21.25, 42.65), "S3": (21.15, 42.75), "S4": (21.25, 42.75)}
#: A point in Kosovo but in no grid section (Prizren).
FAR = (20.74, 42.21)


def square(x0: float, y0: float, size: float = 0.1) -> shapely.Polygon:
    """An axis-aligned square, lower-left corner at ``(x0, y0)`` (degrees)."""
    return shapely.box(x0, y0, x0 + size, y0 + size)


def make_sections(geoms, ids=None, crs=WGS84, **columns) -> gpd.GeoDataFrame:
    """Sections with the contract's required columns (municipality Prishtinë unless given)."""
    n = len(geoms)
    ids = list(ids) if ids is not None else [f"S{i + 1}" for i in range(n)]
    data = {
        "section_id": ids,
        "section_name": [f"Sektori {i}" for i in ids],
        "municipality": ["Prishtinë"] * n,
        "population": [1000 * (i + 1) for i in range(n)],
    }
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def grid_sections() -> gpd.GeoDataFrame:
    """The 2×2 grid; neighbours share their edges exactly (same coordinates, no float drift)."""
    xs, ys = (21.1, 21.2, 21.3), (42.6, 42.7, 42.8)
    cells = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(2) for i in range(2)]
    return make_sections(cells, ids=["S1", "S2", "S3", "S4"])


def write_boundaries(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write ``gdf`` in the format the suffix names: .geojson, .gpkg, .zip (Shapefile) or .parquet."""
    path = Path(path)
    name = path.name.lower()
    # writers warn about what the tests do on purpose: no CRS, names cut to 10 characters (Shapefile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name.endswith(".zip"):
            folder = path.parent / (path.stem + "_shp")
            folder.mkdir()
            gdf.to_file(folder / "sections.shp", engine="pyogrio")
            with zipfile.ZipFile(path, "w") as zf:
                for f in sorted(folder.iterdir()):
                    zf.write(f, f.name)
        elif name.endswith((".parquet", ".geoparquet")):
            gdf.to_parquet(path)
        elif name.endswith(".gpkg"):
            gdf.to_file(path, driver="GPKG", engine="pyogrio")
        else:
            gdf.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    data = text.encode(encoding)
    Path(path).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return Path(path)


def found(report: Report, code: str, input: str | None = None) -> list[tuple[int | None, str | None]]:
    """``(row, field)`` of every problem with this code (optionally of one input), in report order."""
    return [(p.row, p.field) for p in report.problems if p.code == code and (input is None or p.input == input)]


def check_counts(ds: Dataset) -> None:
    """Every reported count reconciles, and the outcome counts equal the rows of the tables."""
    report = ds.report
    for name, counts in report.counts.items():
        first, *rest = COUNT_KEYS[name]
        assert counts[first] == sum(counts[k] for k in rest), (name, counts)
        assert report.reconciles(name)
    c = report.counts
    if "sections" in c:
        assert c["sections"]["accepted"] == len(ds.sections)
        assert c["sections"]["repaired"] <= c["sections"]["accepted"]
    for name in ("incidents", "concerns"):
        if name in c:
            table = getattr(ds, name)
            assert c[name]["joined"] + c[name]["outside"] == len(table)
            assert c[name]["joined"] == int(table["section_id"].notna().sum())
    for name in ("committees", "meetings", "surveys"):
        if name in c:
            assert c[name]["matched"] == len(getattr(ds, name))


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    return grid_sections()


@pytest.fixture
def sections_path(tmp_path, grid) -> Path:
    return write_boundaries(grid, tmp_path / "sections.geojson")


@pytest.fixture
def write(tmp_path) -> Callable[..., Path]:
    """``write(name, text, encoding="utf-8", bom=False)``: a text file in ``tmp_path``."""

    def _write(name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
        return write_text(tmp_path / name, text, encoding, bom)

    return _write


@pytest.fixture
def load(sections_path) -> Callable[..., Dataset]:
    """``load(options=None, **paths)``: load the grid sections plus ``paths``, checking that counts reconcile."""

    def _load(options: LoadOptions | None = None, **paths: Path) -> Dataset:
        paths.setdefault("sections", sections_path)
        ds = load_files({k: v for k, v in paths.items() if v is not None}, options)
        check_counts(ds)
        return ds

    return _load


@pytest.fixture
def incidents_frame() -> pd.DataFrame:
    """Four incidents, one inside each grid section, plus one outside every section."""
    pts = [*INSIDE.values(), FAR]
    return pd.DataFrame(
        {
            "incident_id": ["I1", "I2", "I3", "I4", "I5"],
            "occurred_at": ["2024-03-18"] * 5,
            "category": ["theft", "drugs", "burglary", "assault", "theft"],
            "lat": [p[1] for p in pts],
            "lon": [p[0] for p in pts],
        }
    )


# ---------------------------------------------------------------- helpers as fixtures


@pytest.fixture(name="square")
def _square_fixture() -> Callable[..., shapely.Polygon]:
    return square


@pytest.fixture(name="make_sections")
def _make_sections_fixture() -> Callable[..., gpd.GeoDataFrame]:
    return make_sections


@pytest.fixture(name="write_boundaries")
def _write_boundaries_fixture() -> Callable[..., Path]:
    return write_boundaries


@pytest.fixture(name="found")
def _found_fixture() -> Callable[..., list]:
    return found


@pytest.fixture(name="check_counts")
def _check_counts_fixture() -> Callable[[Dataset], None]:
    return check_counts


@pytest.fixture(name="inside")
def _inside_fixture() -> dict[str, tuple[float, float]]:
    """One interior ``(lon, lat)`` per grid section, and ``"far"``: in Kosovo but in no section."""
    return {**INSIDE, "far": FAR}


@pytest.fixture(scope="session")
def demo():
    """The built-in demo dataset, loaded once for the whole run (shared: never modified, and checked at the
    end of the run: a test that needs other data works on a copy)."""
    from datasethash import digest

    from geo.source import demo_source

    data = demo_source().load()
    before = digest(data)
    yield data
    assert digest(data) == before, "a test modified the shared demo dataset"


# ---------------------------------------------------------------- browser tests (headless Chromium)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (browser test modules skip, saying why, where it is missing)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield b
        b.close()


def offline_page(browser):
    """A page at 1280×900, in a browser context of its own (one visitor), that reaches only this machine:
    other requests are blocked and recorded (``page.blocked``), as are dialogs (``page.dialogs``) and failed
    responses (``page.failed``). Close it with ``page.context.close()``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    dialogs: list[str] = []

    def route(r):
        url = r.request.url
        host = urlparse(url).hostname or ""
        if host in ("127.0.0.1", "localhost", "::1") or url.startswith(("data:", "blob:", "about:")):
            return r.continue_()
        blocked.append(url)
        return r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    failed: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    pg.blocked = blocked
    pg.dialogs = dialogs
    pg.failed = failed
    return pg


@pytest.fixture
def page(browser):
    """:func:`offline_page`, closed after the test."""
    pg = offline_page(browser)
    yield pg
    pg.context.close()


@pytest.fixture
def another_page(browser):
    """A second visitor (:func:`offline_page`, its own cookies and session), closed after the test."""
    pg = offline_page(browser)
    yield pg
    pg.context.close()


# ---------------------------------------------------------------- PostgreSQL + PostGIS (tests/pgcluster.py)


@pytest.fixture(scope="session")
def pg_cluster():
    """A temporary PostgreSQL 15 cluster with a PostGIS template, one for the whole run, stopped and removed
    at the end (also on failure). Skips, saying what to install, where the binaries or PostGIS are missing;
    with ``CI=true`` it fails instead. Its ``run("pg_dump", ...)`` runs the cluster's client programs."""
    import pgcluster

    missing = pgcluster.problems()
    if missing:
        pgcluster.skip_or_fail("; ".join(missing))
    cluster = pgcluster.PgCluster.start()
    try:
        cluster.make_template()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/NAME``) of a fresh database with
    PostGIS, made for this test from the cluster's template and dropped afterwards."""
    name = pg_cluster.create_database()
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_database(name)


#: The slowest modules besides the browser ones (a minute or more of a run, ``--durations``): handed out first,
#: so that the workers do not end on them one after the other.
SLOW_MODULES = ("test_i18n_pages", "test_store", "test_meeting_page", "test_brief", "test_cli_outputs",
                "test_analysis_pages", "test_freshness", "test_public_pages", "test_meetings")  # fmt: skip


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    """Every test that uses the cluster carries the ``postgres`` marker (``-m "not postgres"`` leaves them out).

    The run is shared by three worker processes (pytest-xdist; ``--dist loadgroup --no-loadscope-reorder`` in
    pyproject.toml, so that the order below is kept). Each module is one unit of work (its module fixtures,
    such as a dashboard server, start once), and every module that starts servers and Chromium (``browser``,
    ``deploy``) is one unit together: they run one after the other on one worker, never two of them at once on
    a machine of two cores, while the other workers run the rest. The longest units go first (the same order in
    every worker, as xdist requires)."""
    for item in items:
        if "pg_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
    rank: dict[str, int] = {}
    for item in items:
        module = item.module.__name__ if item.module is not None else item.nodeid.split("::")[0]
        heavy = item.get_closest_marker("browser") or item.get_closest_marker("deploy")
        group = "browser-and-servers" if heavy else module
        item.add_marker(pytest.mark.xdist_group(group))
        rank[item.nodeid] = 0 if heavy else (1 + SLOW_MODULES.index(module) if module in SLOW_MODULES else 99)
    items.sort(key=lambda item: rank[item.nodeid])  # stable: each module's own order is kept


def pytest_xdist_node_collection_finished(node, ids) -> None:
    """In the controller, each worker's test ids: under ``--dist loadgroup`` every one ends in its group
    (``…@test_maps``), which is all the scheduler sees. A pytest that keeps node ids where xdist cannot add it
    (9.2 with xdist 3.8) would hand the browser modules to three workers at once, and the run would time out at
    random: stop it instead, saying why."""
    if node.config.getvalue("dist") == "loadgroup":
        lost = [nodeid for nodeid in ids if "@" not in nodeid.rsplit("]", 1)[-1]]
        if lost:
            pytest.exit(
                f"pytest-xdist did not add the group to {len(lost)} test ids (e.g. {lost[0]}): with pytest "
                f"{pytest.__version__} its --dist loadgroup is not in effect (requirements-dev.txt pins a pytest "
                "that works with it)",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )


@pytest.fixture(scope="session", autouse=True)
def _project_data_folder_untouched():
    """No test writes the project's own data folder: its embedded database appears only if a test bypassed
    the session's data folder (``DASHBOARD_DATA_DIR``), which would leak data into later tests and runs."""
    own = Path(__file__).resolve().parent.parent / "data" / "own" / "dashboard-db"
    before = own.exists()
    yield
    import shutil

    shutil.rmtree(SESSION_DATA_DIR, ignore_errors=True)
    assert before or not own.exists(), f"a test wrote {own}: give it a data folder of its own"


@pytest.fixture(autouse=True)
def _project_data_folder_untouched_by_this_test(request):
    """The same check after each test, so that the one that wrote the folder is named."""
    own = Path(__file__).resolve().parent.parent / "data" / "own" / "dashboard-db"
    before = own.exists()
    yield
    assert before or not own.exists(), f"{request.node.nodeid} wrote {own}: give it a data folder of its own"
