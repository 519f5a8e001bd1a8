"""Users' own files: where uploads go, which columns they have, and a deployment's saved data.

The dashboard writes each session's uploads into its own temporary folder,
lets the user map their columns and labels onto the contract, and builds a
:class:`~geo.source.FileSource` from them. "Save as this deployment's data"
copies the files and the mapping, with an ``options.json``, into the
subfolder ``dashboard-data/`` of ``data/own/`` (git-ignored; or of the folder
named by the environment variable ``DASHBOARD_DATA_DIR``), atomically and
without touching anything else there (:mod:`geo.saved`); the dashboard then
starts with that data instead of the demo. An administrator can instead fill
the folder by hand; it is used while nothing has been saved::

    data/own/sections.geojson
    data/own/incidents.csv
    data/own/options.json   {"files": {"sections": "sections.geojson", "incidents": "incidents.csv"},
                             "options": {"columns": {}, "values": {}, "crs": {}, "encoding": {}}}
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

import pandas as pd

from geo import places, saved
from geo.report import Report
from geo.schema import BOUNDARY_FORMATS, INPUTS, TABLE_FORMATS
from geo.source import FileSource

APP_DIR = Path(__file__).resolve().parent.parent
#: A deployment's own data, saved from the Data page (``DASHBOARD_DATA_DIR`` to put it elsewhere,
#: e.g. on a mounted volume).
OWN_DIR = Path(os.environ.get("DASHBOARD_DATA_DIR") or APP_DIR / "data" / "own")
#: File name suffixes accepted per input by the upload widgets (without the dot).
UPLOAD_TYPES: dict[str, list[str]] = {
    name: sorted({s.lstrip(".") for s in (BOUNDARY_FORMATS if name == "sections" else TABLE_FORMATS)})
    for name in INPUTS
}
#: At most this many distinct labels of a category column are offered for mapping.
MAX_LABELS = 200


def new_session_dir() -> Path:
    """A fresh temporary folder for one session's uploads."""
    return Path(tempfile.mkdtemp(prefix="dashboard-uploads-"))


def safe_name(name: str) -> str:
    """A file name safe to write: no folders, no control or shell characters; keeps the suffix.

    >>> safe_name("../../etc/passwd")
    'passwd'
    >>> safe_name("Incidentet 2024 (Prishtinë).csv")
    'Incidentet_2024_Prishtine_.csv'
    """
    base = Path(str(name).replace("\\", "/")).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    return base[:120]


def save_upload(directory: Path, input: str, name: str, data: bytes) -> Path:
    """Write one uploaded file as ``directory/input/<safe name>``; replaces the input's previous upload."""
    if input not in INPUTS:
        raise ValueError(f"unknown input {input!r}; inputs are {list(INPUTS)}")
    folder = Path(directory) / input
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    path = folder / safe_name(name)
    path.write_bytes(data)
    return path


def _raw(path: Path, input: str):
    from geo.io import LoadError, read_boundaries, read_table

    report = Report()
    try:
        if input == "sections":
            return read_boundaries(path, input, report), ""
        return read_table(path, input, report), ""
    except LoadError:
        msgs = [p.message for p in report.errors] or [f"cannot read {path.name}"]
        return None, "; ".join(msgs)


def read_columns(path: Path, input: str) -> tuple[list[str], str]:
    """The file's own column names and ``""``, or ``[]`` and why the file cannot be read."""
    raw, why = _raw(Path(path), input)
    if raw is None:
        return [], why
    return [str(c) for c in raw.frame.columns], ""


def distinct_values(path: Path, input: str, column: str, limit: int = MAX_LABELS) -> list[str]:
    """The distinct non-empty values of ``column``, most frequent first (at most ``limit``)."""
    raw, _ = _raw(Path(path), input)
    if raw is None or column not in raw.frame.columns:
        return []
    s = raw.frame[column].astype("string").str.strip()
    s = s[s.notna() & (s != "")]
    return [str(v) for v in s.value_counts().index[:limit]]


def _key(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", places.normalize(name))


def guess_columns(input: str, columns: list[str]) -> dict[str, str]:
    """Contract field → file column, for the columns recognised by name or alias (as the loader does)."""
    spec = INPUTS[input]
    by_key: dict[str, str] = {}
    for col in columns:
        by_key.setdefault(_key(col), col)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for f in spec.fields:
        for cand in (f.name, *f.aliases):
            col = by_key.get(_key(cand))
            if col is not None and col not in taken:
                out[f.name] = col
                taken.add(col)
                break
    return out


def unknown_labels(input: str, field: str, labels: list[str]) -> list[str]:
    """The labels the loader would not recognise for a category field (code, English label or alias)."""
    from geo.validation import match_vocabulary

    vocab = INPUTS[input].field(field).vocabulary
    if not labels:
        return []
    _, unknown = match_vocabulary(pd.Series(labels, dtype="string"), vocab)
    return [lbl for lbl, u in zip(labels, unknown.fillna(False).tolist(), strict=True) if u]


# ---------------------------------------------------------------- a deployment's own data


def save_own(source: FileSource, directory: Path | None = None) -> Path:
    """Save a source's files and mapping as the deployment's data in ``directory`` (default
    :data:`OWN_DIR`); returns the folder the files were written to.

    Atomic and durable, and touches nothing in ``directory`` but its own ``dashboard-data/``
    subfolder: see :mod:`geo.saved`. Raises :class:`OSError` when it cannot write (the data saved
    before is then kept).
    """
    return saved.save(source, Path(directory if directory is not None else OWN_DIR))


def own_data(directory: Path | None = None) -> saved.OwnData:
    """The deployment's data in ``directory`` (default :data:`OWN_DIR`): its saved data, else the files
    put there by hand, else nothing; and why the saved data could not be used, when it could not."""
    return saved.find(Path(directory if directory is not None else OWN_DIR))


def own_source(directory: Path | None = None) -> FileSource | None:
    """The deployment's data in ``directory`` (default :data:`OWN_DIR`), or ``None`` when there is none
    that can be used (:func:`own_data` says why)."""
    return own_data(directory).source
