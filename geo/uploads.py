"""Users' own files: where uploads go, which columns they have, and saving them as the deployment's data.

The dashboard writes each session's uploads into its own temporary folder,
lets the user map their columns and labels onto the contract, and builds a
:class:`~geo.source.FileSource` from them. "Save as this deployment's data"
(:func:`save_own`) imports them into the deployment's database (:mod:`geo.db`)
in one transaction (:func:`geo.dbimport.run`): every uploaded input replaces
what the database holds of it (never the records made in the app), the inputs
not uploaded stay as they are; an error changes nothing. The data folder
(``data/own/``, git-ignored, or the folder named by ``DASHBOARD_DATA_DIR``)
holds the embedded database; files an administrator puts there by hand, or
that an earlier version saved there (:mod:`geo.saved`), are imported into the
database once, at the first start (:mod:`geo.deployment`)::

    data/own/sections.geojson
    data/own/incidents.csv
    data/own/options.json   {"files": {"sections": "sections.geojson", "incidents": "incidents.csv"},
                             "options": {"columns": {}, "values": {}, "crs": {}, "encoding": {}, "layer": {},
                                         "number_format": {}, "max_count": 1000000, "earliest": "1990-01-01",
                                         "latest": null}}

Uploads do not pile up. Every session's folder lives under one parent the
project owns, :data:`~geo.uploads_root.UPLOADS_ROOT` (``community-policing-dashboard-uploads`` in
the system's temporary directory). Streamlit says nothing when a session ends,
so :func:`sweep` removes folders idle for longer than a set time
(``DASHBOARD_UPLOADS_IDLE_HOURS``, default 2) and, when all folders together
are larger than a set size (``DASHBOARD_UPLOADS_MAX_MB``, default 1024), the
least recently used ones until they fit. A session marks its folder as used on
every run (:func:`touch`); :func:`maybe_sweep` runs the sweep at most once a
minute per process. Uploaded files are never written to the columnar cache
(:func:`~geo.uploads_root.is_upload`, :mod:`geo.filecache`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo import dbimport, places, saved, uploads_root
from geo import settings as config
from geo.report import Report, shorten
from geo.saved import options_from_dict, options_to_dict  # noqa: F401 - the options.json reader, here too
from geo.schema import BOUNDARY_FORMATS, INPUTS, TABLE_FORMATS
from geo.source import FileSource

APP_DIR = Path(__file__).resolve().parent.parent
#: The deployment's data folder as set when this module was imported (read the settings' ``data_dir`` for
#: the current one: :func:`own_data` does).
OWN_DIR = config.Settings.load().data_dir
#: File name suffixes accepted per input by the upload widgets (without the dot).
UPLOAD_TYPES: dict[str, list[str]] = {
    name: sorted({s.lstrip(".") for s in (BOUNDARY_FORMATS if name == "sections" else TABLE_FORMATS)})
    for name in INPUTS
}
#: At most this many distinct labels of a category column are offered for mapping.
MAX_LABELS = 200

IDLE_ENV = "DASHBOARD_UPLOADS_IDLE_HOURS"
MAX_ENV = "DASHBOARD_UPLOADS_MAX_MB"
#: :func:`maybe_sweep` sweeps at most this often (seconds).
SWEEP_EVERY_S = 60.0
#: The size cap never removes a folder used this recently (seconds): an upload may be being written into it.
RECENT_S = 60.0
_last_sweep: dict[str, float] = {}


@dataclass(frozen=True)
class SweepSettings:
    """How long upload folders are kept and how much they may hold together."""

    #: A folder not used for longer than this is removed (hours).
    idle_hours: float = 2.0
    #: All folders together are kept below this (megabytes, 1 MB = 1,048,576 bytes); the least recently
    #: used go first.
    max_mb: float = 1024.0

    def __post_init__(self) -> None:
        for name, value in (("idle_hours", self.idle_hours), ("max_mb", self.max_mb)):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number; got {value!r}")

    @property
    def idle_s(self) -> float:
        return self.idle_hours * 3600.0

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)

    @classmethod
    def from_settings(cls, settings: config.Settings) -> SweepSettings:
        """From ``DASHBOARD_UPLOADS_IDLE_HOURS`` and ``DASHBOARD_UPLOADS_MAX_MB`` (unset or empty: the default).

        Raises
        ------
        ValueError
            A value that is not a positive number, naming the setting.
        """
        return cls(idle_hours=settings.uploads_idle_hours, max_mb=settings.uploads_max_mb)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SweepSettings:
        """From the deployment's settings (:meth:`geo.settings.Settings.load`), or from ``env`` alone."""
        return cls.from_settings(
            config.Settings.load() if env is None else config.Settings.load(env, secrets_file=None)
        )


def _root(root: Path | None) -> Path:
    """The uploads' parent, made if needed (only this user may enter it) and checked to be this user's own."""
    root = Path(root if root is not None else uploads_root.UPLOADS_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(root)
    foreign = hasattr(os, "getuid") and st.st_uid != os.getuid()
    if root.is_symlink() or not root.is_dir() or foreign:
        raise PermissionError(f"{root}: the uploads folder is not a folder of this user; remove it or fix its owner")
    return root


def new_session_dir(root: Path | None = None, now: float | None = None) -> Path:
    """A fresh folder for one session's uploads, under :data:`~geo.uploads_root.UPLOADS_ROOT` (or ``root``);
    sweeps the others first when no sweep ran in the last minute (:func:`maybe_sweep`)."""
    parent = _root(root)
    maybe_sweep(parent, now=now)
    return Path(tempfile.mkdtemp(prefix="session-", dir=parent))


def touch(directory: Path, now: float | None = None) -> bool:
    """Mark a session's upload folder as used now; ``False`` when it is gone (swept)."""
    try:
        os.utime(directory, None if now is None else (now, now))
    except OSError:
        return False
    return Path(directory).is_dir()


@dataclass(frozen=True)
class _Folder:
    path: Path
    used: float  # the latest modification time of the folder or anything in it (seconds since the epoch)
    size: int  # bytes of its files


def _folder(path: Path) -> _Folder | None:
    try:
        used = os.stat(path).st_mtime
        size = 0
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                st = os.lstat(os.path.join(dirpath, name))
                used = max(used, st.st_mtime)
                if name in filenames:
                    size += st.st_size
    except OSError:  # removed meanwhile (another process sweeping)
        return None
    return _Folder(Path(path), used, size)


def upload_folders(root: Path | None = None) -> list[tuple[Path, float, int]]:
    """Every session's upload folder: ``(path, last used in seconds since the epoch, bytes)``, oldest first."""
    parent = Path(root if root is not None else uploads_root.UPLOADS_ROOT)
    if not parent.is_dir():
        return []
    found = []
    for p in parent.iterdir():
        if p.is_dir() and not p.is_symlink():
            f = _folder(p)
            if f is not None:
                found.append(f)
    return [(f.path, f.used, f.size) for f in sorted(found, key=lambda f: (f.used, f.path.name))]


def sweep(
    root: Path | None = None,
    *,
    now: float | None = None,
    settings: SweepSettings | None = None,
    keep: Iterable[Path] = (),
) -> list[Path]:
    """Remove the upload folders idle for longer than ``settings.idle_hours``; then, while all of them
    together hold more than ``settings.max_mb``, the least recently used ones. Returns the folders removed.

    ``keep``: folders never removed (the sweeping session's own). The size cap also spares a folder used in
    the last :data:`RECENT_S` seconds (an upload may be being written into it). ``now``: seconds since the
    epoch (default: the clock), compared with the folders' modification times.
    """
    settings = settings or SweepSettings.from_env()
    now = time.time() if now is None else now
    spared = {Path(k).resolve() for k in keep}
    removed: list[Path] = []
    kept: list[tuple[Path, float, int]] = []
    for path, used, size in upload_folders(root):
        if now - used > settings.idle_s and path.resolve() not in spared:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        else:
            kept.append((path, used, size))
    total = sum(size for _p, _u, size in kept)
    for path, used, size in kept:  # oldest first
        if total <= settings.max_bytes:
            break
        if path.resolve() in spared or now - used < RECENT_S:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
        total -= size
    return removed


def maybe_sweep(
    root: Path | None = None,
    *,
    now: float | None = None,
    settings: SweepSettings | None = None,
    keep: Iterable[Path] = (),
) -> list[Path]:
    """:func:`sweep`, unless this process swept the same folder less than :data:`SWEEP_EVERY_S` ago."""
    now = time.time() if now is None else now
    key = str(Path(root if root is not None else uploads_root.UPLOADS_ROOT))
    last = _last_sweep.get(key)
    if last is not None and 0 <= now - last < SWEEP_EVERY_S:
        return []
    _last_sweep[key] = now
    return sweep(root, now=now, settings=settings, keep=keep)


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


def _raw(path: Path, input: str, layer: str | None = None):
    from geo.io import LoadError, read_boundaries, read_table

    report = Report()
    try:
        if input == "sections":
            return read_boundaries(path, input, report, layer), ""
        return read_table(path, input, report, layer=layer), ""
    except LoadError:
        msgs = [p.message for p in report.errors] or [f"cannot read {path.name}"]
        return None, "; ".join(msgs)
    except Exception as exc:  # noqa: BLE001 - an uploaded file must never take the Data page down
        return None, f"cannot read {path.name}: {type(exc).__name__}: {shorten(str(exc))}"


def read_columns(path: Path, input: str, layer: str | None = None) -> tuple[list[str], str]:
    """The file's own column names and ``""``, or ``[]`` and why the file cannot be read."""
    raw, why = _raw(Path(path), input, layer)
    if raw is None:
        return [], why
    return [str(c) for c in raw.frame.columns], ""


def distinct_values(
    path: Path, input: str, column: str, limit: int = MAX_LABELS, layer: str | None = None
) -> list[str]:
    """The distinct non-empty values of ``column``, most frequent first (at most ``limit``)."""
    raw, _ = _raw(Path(path), input, layer)
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


def guess_mapping(path: Path, input: str, layer: str | None = None) -> dict[str, str]:
    """Contract field → file column, guessed from the columns' names and what they hold.

    Names first (the contract's names and aliases, as the loader reads them: ``shapeID``, ``shapeName``,
    ``NAME_2``, ``ADM2_EN``, ``ADM2_PCODE`` …), kept only where the content fits (an input's id unique,
    numbers where numbers are expected). Then content: municipality and region from the column whose
    values are most often known place names (the same column as the name for municipal boundaries),
    the id from a column of unique values, the name from a column of text, residents from a numeric
    column named for them. A suggestion for the user to confirm, never applied without them.
    """
    from geo.validation import place_column

    raw, _why = _raw(Path(path), input, layer)
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


def place_choices(input: str, field: str, meant: tuple[str, ...], shown: Callable[[str], str]) -> list[str]:
    """The choices for a place name of ``input.field`` that matched no single place: none (``""``), then the
    places it could mean, then every other known municipality (or region), in the order of their ``shown`` names."""
    kind = INPUTS[input].field(field).place
    if not kind:
        raise ValueError(f"{input}.{field} holds no place names")
    known = [m.name for m in places.municipalities()] if kind == "municipality" else [r.name for r in places.REGIONS]
    known = sorted(known, key=lambda k: places.normalize(shown(k)))
    return ["", *meant, *(c for c in known if c not in meant)]


def missing_fields(input: str, chosen: Mapping[str, str]) -> list[str]:
    """The required fields of ``input`` that no column is chosen for, in the contract's order."""
    return [f.name for f in INPUTS[input].fields if f.required and f.name not in chosen]


def usable(checked) -> bool:
    """Whether a checked upload (a :class:`~geo.dataset.Dataset`) can be used: its sections loaded without error."""
    return not checked.report.has_errors("sections") and len(checked.sections) > 0


# ---------------------------------------------------------------- the deployment's data


def save_own(source: FileSource, settings: config.Settings | None = None) -> dbimport.Outcome:
    """Import a checked upload into the deployment's database (of ``settings``, default the environment's)
    as its data: each uploaded input with ``replace``, in one transaction (see the module's description).

    The :class:`~geo.dbimport.Outcome` has no ``import_id`` when nothing was written (its report names the
    file, row and field at fault). Raises what the database raises (:class:`sqlalchemy.exc.SQLAlchemyError`,
    :class:`OSError`) when it cannot be written; nothing is changed then either."""
    from geo import db

    settings = settings if settings is not None else config.Settings.load()
    eng = db.engine(settings)
    modes = dict.fromkeys(source.paths, "replace")
    return dbimport.run(eng, dict(source.paths), source.options, modes=modes)


def own_data(directory: Path | None = None) -> saved.OwnData:
    """The files of the deployment's data folder ``directory`` (default the settings' ``data_dir`` now,
    ``DASHBOARD_DATA_DIR``): an earlier version's saved data, else the files put there by hand, else
    nothing; and why the saved data could not be used, when it could not."""
    return saved.find(Path(directory) if directory is not None else config.Settings.load().data_dir)


def own_source(directory: Path | None = None) -> FileSource | None:
    """The files of the deployment's data folder ``directory`` (default as :func:`own_data`), or ``None``
    when there are none that can be used (:func:`own_data` says why)."""
    return own_data(directory).source
