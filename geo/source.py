"""The one interface between the dashboard and where its data lives, table by table.

A :class:`DataSource` gives the six tables of a :class:`~geo.dataset.Dataset` (clean, joined, with the
:class:`~geo.report.Report` that accounts for every record), each with a **revision**: a token that
changes when that table changes. :func:`refresh` asks for the revisions (cheap: on every page rerun) and
reloads only the tables whose revision moved, keeping the others (and the incidents' cube) as they were:
a new concern does not reload a million incidents.

* :class:`FileSource` reads files (the user's, or the built-in demo). Its tables are read, checked
  and joined together, so they share one revision: the files' fingerprint.
* :class:`DatabaseSource` reads the deployment's database (:mod:`geo.store`), whichever engine.

Nothing above this module knows which one it has.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from geo import db, filecache, store
from geo import settings as config
from geo.dataset import Dataset
from geo.loader import LoadOptions
from geo.store import Part

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"

#: Files of the built-in demo, by input.
DEMO_FILES = {
    "sections": "sections.geojson",
    "incidents": "incidents.parquet",
    "concerns": "concerns.csv",
    "committees": "committees.csv",
    "meetings": "meetings.csv",
    "surveys": "surveys.csv",
}
#: The tables of a dataset, in the order they are loaded.
TABLES = db.DATA_TABLES


class DataSource(Protocol):
    """Where the dashboard's data comes from."""

    label: str
    is_demo: bool

    def key(self) -> str:
        """Which storage this is (not its content): sources with the same key share their loaded data."""

    def revisions(self) -> dict[str, str]:
        """Each table's revision; cheap (a page asks on every rerun)."""

    def load_tables(self, names: tuple[str, ...]) -> tuple[dict[str, str], dict[str, Part]]:
        """The revisions and the parts of (at least) ``names``, read together; never raises for bad data."""

    def fingerprint(self) -> str:
        """A short string that changes whenever any table would load differently (a cache key)."""

    def load(self) -> Dataset:
        """Every table, read, validated and joined (problems go into ``report``)."""


def fingerprint_of(key: str, revisions: dict[str, str]) -> str:
    """The fingerprint of a source's tables at these revisions."""
    h = hashlib.sha256(key.encode())
    for name in sorted(revisions):
        h.update(f"|{name}={revisions[name]}".encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Loaded:
    """A source's tables as loaded: the revision each was read at, the parts and the dataset made of them."""

    key: str
    revisions: dict[str, str]
    parts: dict[str, Part]
    dataset: Dataset

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.key, self.revisions)

    def table_key(self, *names: str) -> str:
        """A key that changes only with the given tables (e.g. the map's shapes: ``"sections"``)."""
        return fingerprint_of(self.key, {n: self.revisions.get(n, "") for n in names})


def refresh(source: DataSource, previous: Loaded | None = None) -> Loaded:
    """``source``'s tables now: ``previous`` itself when no revision moved, else a new :class:`Loaded` that
    reloads only the tables that changed and keeps the others' frames (and the incidents' cube) as they are."""
    if previous is not None and previous.key != source.key():
        previous = None
    now = source.revisions()
    if previous is not None and previous.revisions == now:
        return previous
    changed = tuple(t for t in TABLES if previous is None or previous.revisions.get(t) != now.get(t))
    revisions, fresh = source.load_tables(changed)
    parts = dict(previous.parts) if previous is not None else {}
    parts.update(fresh)
    # a table not read now keeps the revision it was read at: if it moved meanwhile, the next refresh reads it
    kept = {t: (revisions[t] if t in fresh else previous.revisions[t]) for t in TABLES}
    data = store.dataset(parts, label=source.label, is_demo=source.is_demo)
    if previous is not None and "incidents" not in fresh and "cube" in previous.dataset.__dict__:
        data.__dict__["cube"] = previous.dataset.cube  # the same incidents: the same cube
    return Loaded(source.key(), kept, parts, data)


def parts_of(data: Dataset) -> dict[str, Part]:
    """A loaded dataset as parts: each table with its problems and counts."""
    return {
        t: Part(
            t,
            getattr(data, t),
            [p for p in data.report.problems if p.input == t],
            dict(data.report.counts.get(t, {})),
        )
        for t in TABLES
    }


class WholeSource:
    """A source whose tables are loaded together (files; a test's dataset): a subclass gives
    ``fingerprint()`` and ``load()``; every table's revision is the fingerprint."""

    label: str = ""
    is_demo: bool = False

    def key(self) -> str:
        return f"{type(self).__name__}:{self.fingerprint()}"

    def revisions(self) -> dict[str, str]:
        return dict.fromkeys(TABLES, self.fingerprint())

    def load_tables(self, names: tuple[str, ...] = TABLES) -> tuple[dict[str, str], dict[str, Part]]:
        """Every table (they are read together), whatever ``names`` asks."""
        revisions = self.revisions()
        data = self.load()
        if not self.label:
            self.label = data.label
        self.is_demo = self.is_demo or data.is_demo
        return revisions, parts_of(data)


@dataclass
class FileSource(WholeSource):
    """Files on disk, one per input (any may be missing except sections)."""

    paths: dict[str, Path]
    options: LoadOptions = field(default_factory=LoadOptions)
    label: str = ""
    is_demo: bool = False

    def __post_init__(self) -> None:
        if not self.label:  # as the loader names a load: by its files
            self.label = ", ".join(Path(p).name for p in self.paths.values())

    def key(self) -> str:
        return "files:" + "|".join(f"{n}={Path(self.paths[n]).resolve()}" for n in sorted(self.paths))

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.paths):
            p = Path(self.paths[name])
            h.update(name.encode())
            h.update(str(p.resolve()).encode())
            if p.exists():
                st = p.stat()
                h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        h.update(repr(self.options).encode())
        h.update(repr(self.options.date_range()).encode())  # the default latest date moves every day
        return h.hexdigest()[:16]

    def load(self) -> Dataset:
        """The joined dataset; large inputs come from the columnar cache after the first time (:mod:`geo.filecache`)."""
        return filecache.load(self.paths, self.options, label=self.label, is_demo=self.is_demo)


@dataclass
class DatabaseSource:
    """The deployment's database (:mod:`geo.db`): the embedded SQLite file or PostgreSQL/PostGIS."""

    settings: config.Settings = field(default_factory=config.Settings.load)
    url: str | None = None
    label: str = "database"
    is_demo: bool = False

    def engine(self):
        return db.engine(self.settings, url=self.url)

    def key(self) -> str:
        return "database:" + db.describe(self.engine().url)

    def revisions(self) -> dict[str, str]:
        # the data tables' only: what meetings record beside them (db.RECORD_TABLES) is not loaded data
        return {n: r for n, r in store.revisions(self.engine()).items() if n in TABLES}

    def load_tables(self, names: tuple[str, ...] = TABLES) -> tuple[dict[str, str], dict[str, Part]]:
        eng = self.engine()
        # the demo imported into a database is still the demo: labelled so on every page and output
        self.is_demo = store.sections_from(eng, DEMO_DIR)
        return store.read(eng, names)

    def fingerprint(self) -> str:
        return fingerprint_of(self.key(), self.revisions())

    def load(self) -> Dataset:
        return refresh(self).dataset


def demo_source(directory: Path = DEMO_DIR) -> FileSource:
    """The built-in demo dataset (synthetic, approximate boundaries)."""
    return FileSource(
        {name: directory / fname for name, fname in DEMO_FILES.items()},
        label="demo",
        is_demo=True,
    )
