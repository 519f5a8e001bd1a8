"""Users' own files: where uploads go, which columns they have, and a deployment's saved data.

The dashboard writes each session's uploads into its own temporary folder,
lets the user map their columns and labels onto the contract, and builds a
:class:`~geo.source.FileSource` from them. "Save as this deployment's data"
copies the files and the mapping into ``data/own/`` (git-ignored; or the folder
named by the environment variable ``DASHBOARD_DATA_DIR``) with an
``options.json``; when that folder holds sections the dashboard starts with it
instead of the demo. An administrator can fill the folder by hand the same way::

    data/own/sections.geojson
    data/own/incidents.csv
    data/own/options.json   {"files": {"sections": "sections.geojson", "incidents": "incidents.csv"},
                             "options": {"columns": {}, "values": {}, "crs": {}, "encoding": {}}}
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from geo import places
from geo.report import Report
from geo.schema import BOUNDARY_FORMATS, INPUTS, TABLE_FORMATS
from geo.source import FileSource, LoadOptions

APP_DIR = Path(__file__).resolve().parent.parent
#: A deployment's own data, saved from the Data page (``DASHBOARD_DATA_DIR`` to put it elsewhere,
#: e.g. on a mounted volume).
OWN_DIR = Path(os.environ.get("DASHBOARD_DATA_DIR") or APP_DIR / "data" / "own")
OPTIONS_FILE = "options.json"
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


#: Words in a column's name that say it holds ids, names or residents (for columns no alias names).
_ID_WORDS = ("id", "code", "kod", "kodi", "sifra", "pcode")
_NAME_WORDS = ("name", "emri", "emer", "naziv", "ime")
_POPULATION_WORDS = ("pop", "population", "popullsia", "banore", "stanovnika", "stanovnistvo", "residents")


def _words(column: str) -> set[str]:
    """The words of a column name: ``shapeName`` → ``{"shape", "name"}``, ``ADM2_PCODE`` → ``{"adm2", "pcode"}``."""
    split = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(column))
    return set(places.normalize(split).split())


def _is_numeric(s: pd.Series) -> bool:
    from geo.validation import parse_numbers

    if pd.api.types.is_bool_dtype(s):
        return False
    values, bad = parse_numbers(s)
    return bool(values.notna().any()) and not bool(bad.any())


def _is_unique(s: pd.Series) -> bool:
    t = s.astype("string").str.strip()
    t = t[t.notna() & (t != "")]
    return len(t) == len(s) and t.is_unique


def _fits(kind: str, s: pd.Series) -> bool:
    """Does a column's content fit a field of this kind? Numbers for counts and residents, text for names."""
    if kind in ("int", "float", "percent"):
        return _is_numeric(s)
    if kind == "text":
        return not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)) or _is_unique(s)
    return True


def guess_mapping(path: Path, input: str) -> dict[str, str]:
    """Contract field → file column, guessed from the columns' names and what they hold.

    Names first (the contract's names and aliases, as the loader reads them: ``shapeID``, ``shapeName``,
    ``NAME_2``, ``ADM2_EN``, ``ADM2_PCODE`` …), kept only where the content fits (an input's id unique,
    numbers where numbers are expected). Then content: municipality and region from the column whose
    values are most often known place names (the same column as the name for municipal boundaries),
    the id from a column of unique values, the name from a column of text, residents from a numeric
    column named for them. A suggestion for the user to confirm, never applied without them.
    """
    from geo.validation import place_column

    raw, _why = _raw(Path(path), input)
    if raw is None:
        return {}
    frame = raw.frame
    spec = INPUTS[input]
    columns = [str(c) for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    out: dict[str, str] = {}
    for fld, col in guess_columns(input, columns).items():
        f = spec.field(fld)
        if fld == spec.id_field and not _is_unique(frame[col]):
            continue
        if _fits(f.kind, frame[col]):
            out[fld] = col
    free = [c for c in columns if c not in out.values()]
    for f in spec.fields:
        if f.name in out:
            continue
        if f.place:
            others = frame[[c for c in columns if c != out.get("municipality")]]
            col = place_column(others, f.place)
            if col is not None:
                out[f.name] = col
        elif f.name == spec.id_field:
            unique = [c for c in free if _is_unique(frame[c])]
            col = next((c for c in unique if _words(c) & set(_ID_WORDS)), None)
            if col is not None:
                out[f.name] = col
        elif f.name.endswith("name") and f.kind == "text":
            col = next((c for c in free if _words(c) & set(_NAME_WORDS) and _fits("text", frame[c])), None)
            if col is not None:
                out[f.name] = col
        elif f.name == "population":
            col = next((c for c in free if _words(c) & set(_POPULATION_WORDS) and _is_numeric(frame[c])), None)
            if col is not None:
                out[f.name] = col
        free = [c for c in columns if c not in out.values()]
    return out


def unmatched_places(input: str, field: str, values: list[str]) -> dict[str, tuple[str, ...]]:
    """The place names among ``values`` that match no single municipality (or region), each with the places it
    could mean (several for an ambiguous name, none for an unknown one)."""
    kind = INPUTS[input].field(field).place
    if not kind:
        raise ValueError(f"{input}.{field} holds no place names")
    find = places.municipality_candidates if kind == "municipality" else places.region_candidates
    out = {}
    for v in values:
        found = find(v)
        if len(found) != 1:
            out[v] = found
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


def options_to_dict(options: LoadOptions) -> dict:
    return asdict(options)


def options_from_dict(d: dict) -> LoadOptions:
    return LoadOptions(
        columns=dict(d.get("columns", {})),
        values=dict(d.get("values", {})),
        crs=dict(d.get("crs", {})),
        encoding=dict(d.get("encoding", {})),
    )


def save_own(source: FileSource, directory: Path | None = None) -> Path:
    """Copy a source's files and mapping into ``directory`` (replacing what was there); returns it.

    The folder gets a ``.gitignore`` so a deployment's data never ends up in
    version control. ``directory`` defaults to :data:`OWN_DIR`.
    """
    directory = Path(directory if directory is not None else OWN_DIR)
    tmp = directory.with_name(directory.name + ".new")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    files = {}
    for input, path in source.paths.items():
        path = Path(path)
        name = f"{input}{''.join(path.suffixes[-2:]) if path.name.lower().endswith('.shp.zip') else path.suffix}"
        shutil.copyfile(path, tmp / name)
        files[input] = name
    (tmp / OPTIONS_FILE).write_text(
        json.dumps({"files": files, "options": options_to_dict(source.options)}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    (tmp / ".gitignore").write_text("# a deployment's own data: never commit it\n*\n")
    if directory.exists():
        shutil.rmtree(directory)
    tmp.replace(directory)
    return directory


def own_source(directory: Path | None = None) -> FileSource | None:
    """The deployment's saved data in ``directory`` (default :data:`OWN_DIR`), or ``None`` when there is none."""
    directory = Path(directory if directory is not None else OWN_DIR)
    meta = directory / OPTIONS_FILE
    if not meta.is_file():
        return None
    try:
        d = json.loads(meta.read_text(encoding="utf-8"))
        paths = {k: directory / v for k, v in d["files"].items() if k in INPUTS}
        options = options_from_dict(d.get("options", {}))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if "sections" not in paths or not all(p.is_file() for p in paths.values()):
        return None
    return FileSource(paths, options, label="own")
