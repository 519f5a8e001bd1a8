"""The one interface between the dashboard and where its data lives.

A :class:`DataSource` turns some storage into a :class:`~geo.dataset.Dataset`: clean,
joined tables plus the :class:`~geo.report.Report` that accounts for every
record. :class:`FileSource` reads the user's files (or the built-in demo); a
database source for shared deployments implements the same two methods.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from geo import filecache
from geo.dataset import Dataset
from geo.loader import LoadOptions

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


class DataSource(Protocol):
    """Where the dashboard's data comes from."""

    def fingerprint(self) -> str:
        """A short string that changes whenever the data would load differently (a cache key)."""

    def load(self) -> Dataset:
        """Read, validate and join; never raises for bad data (problems go into ``report``)."""


@dataclass
class FileSource:
    """Files on disk, one per input (any may be missing except sections)."""

    paths: dict[str, Path]
    options: LoadOptions = field(default_factory=LoadOptions)
    label: str = ""
    is_demo: bool = False

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


def demo_source(directory: Path = DEMO_DIR) -> FileSource:
    """The built-in demo dataset (synthetic, approximate boundaries)."""
    return FileSource(
        {name: directory / fname for name, fname in DEMO_FILES.items()},
        label="demo",
        is_demo=True,
    )
