"""A deployment's data folder as earlier versions left it: read once, to be imported into the database.

The deployment's data lives in its database (:mod:`geo.db`); "Save as this deployment's data" on the
Data page imports into it (:func:`geo.uploads.save_own`). Earlier versions saved into a folder of the
project's own, ``dashboard-data/``, inside the deployment's data folder (``data/own/``, or
``DASHBOARD_DATA_DIR``), one complete generation per save::

    data/own/                  the data folder
      dashboard-data/
        current                "gen-4": the generation that is the saved data
        gen-3/                 the save before
        gen-4/                 sections.geojson, incidents.csv, …, options.json

and an administrator could put files with an ``options.json`` directly in the data folder (a hand-made
folder, see ``data/README.md``). :func:`find` reads either, as those versions did, so that
:mod:`geo.deployment` can import it into the database on the first start (and ``python -m geo db
import-own`` by hand). Nothing here writes: what an interrupted save left under a ``*.tmp`` name is
ignored, never removed.

A generation is complete when its ``options.json`` reads and every file it names is there, readable and
of the recorded size; a ``current`` that names a missing or incomplete generation falls back to the
newest complete one and says so. While nothing was saved (no ``current``), the hand-made files are read.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from geo.loader import LoadOptions
from geo.schema import INPUTS
from geo.source import FileSource

#: The project's own folder inside the data folder.
SUBDIR = "dashboard-data"
#: The pointer file: the name of the current generation.
POINTER = "current"
OPTIONS_FILE = "options.json"
_GEN = re.compile(r"gen-(\d+)")


def _fsync_dir(path: Path) -> None:
    """Make a folder's entries (new, renamed or removed files) durable (:mod:`geo.dbexport` uses it)."""
    if os.name == "nt":  # folders cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class OwnData:
    """What a data folder holds: the data to start with and, when the saved data cannot be used, why.

    ``source`` is ``None`` when there is nothing usable (the dashboard then shows the demo).
    ``problem`` names the folder, file and field at fault ("" when all is well); ``fallback`` says what
    is used instead: ``"previous"`` (an older save), ``"hand-made"`` (the files directly in the data
    folder) or ``""`` (nothing).
    """

    source: FileSource | None
    problem: str = ""
    fallback: str = ""


def _generations(folder: Path) -> list[int]:
    """Numbers of the folder's complete-by-name generations (``gen-<n>``), newest first."""
    try:
        names = [p.name for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted((int(m.group(1)) for n in names if (m := _GEN.fullmatch(n))), reverse=True)


# ---------------------------------------------------------------- reading


def options_to_dict(options: LoadOptions) -> dict:
    """``options`` as written into ``options.json``."""
    return asdict(options)


def options_from_dict(d: dict) -> LoadOptions:
    """The options of an ``options.json``; those it does not mention take their defaults (older files)."""
    defaults = LoadOptions()
    options = LoadOptions(
        columns=dict(d.get("columns", {})),
        values=dict(d.get("values", {})),
        crs=dict(d.get("crs", {})),
        encoding=dict(d.get("encoding", {})),
        layer=dict(d.get("layer", {})),
        number_format=dict(d.get("number_format", {})),
        max_count=int(d.get("max_count", defaults.max_count)),
        earliest=str(d.get("earliest", defaults.earliest)),
        latest=None if d.get("latest") is None else str(d["latest"]),
    )
    options.date_range()  # a ValueError for dates that are not YYYY-MM-DD
    return options


def read_folder(directory: Path, where: str) -> tuple[FileSource | None, str]:
    """The source an ``options.json`` in ``directory`` describes, and ``""``; or ``None`` and why not.

    ``where`` names the folder in messages. Sizes recorded under ``"sizes"`` (saves record them;
    hand-made files need not) are checked.
    """
    meta = directory / OPTIONS_FILE
    try:
        text = meta.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"{where}/{OPTIONS_FILE} is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{where}/{OPTIONS_FILE} cannot be read ({exc.__class__.__name__}: {exc})"
    try:
        d = json.loads(text)
    except ValueError as exc:
        return None, f"{where}/{OPTIONS_FILE} is not valid JSON ({exc})"
    files = d.get("files") if isinstance(d, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) and v for v in files.values()):
        return None, f'{where}/{OPTIONS_FILE}: field "files" must map inputs to file names'
    unknown = [k for k in files if k not in INPUTS]
    if unknown:
        return None, f'{where}/{OPTIONS_FILE}: field "files" names unknown inputs {unknown}; inputs are {list(INPUTS)}'
    if "sections" not in files:
        return None, f'{where}/{OPTIONS_FILE}: field "files" names no sections file'
    try:
        options = options_from_dict(d.get("options") or {})
    except (ValueError, TypeError, AttributeError) as exc:
        return None, f'{where}/{OPTIONS_FILE}: field "options" is not valid ({exc})'
    sizes = d.get("sizes") or {}
    if not isinstance(sizes, dict):
        return None, f'{where}/{OPTIONS_FILE}: field "sizes" must map file names to sizes in bytes'
    paths = {}
    for input, name in files.items():
        path = directory / name
        try:
            with open(path, "rb"):
                size = path.stat().st_size
        except FileNotFoundError:
            return None, f"{where}/{name} ({input}) is missing"
        except OSError as exc:
            return None, f"{where}/{name} ({input}) cannot be read ({exc.__class__.__name__}: {exc.strerror or exc})"
        if name in sizes and sizes[name] != size:
            return None, f"{where}/{name} ({input}) is incomplete: {size:,} bytes instead of {sizes[name]:,}"
        paths[input] = path
    return FileSource(paths, options, label="own"), ""


def find(directory: Path) -> OwnData:
    """The data ``directory`` holds: its saved data, else its hand-made files, else nothing.

    Reads only: what an interrupted save left under a ``*.tmp`` name is not a generation and is ignored.
    """
    directory = Path(directory)
    folder = directory / SUBDIR
    hand_made = (directory / OPTIONS_FILE).exists()
    pointer = folder / POINTER
    problem = ""
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        name = None  # nothing saved (a first save interrupted before step 3 saved nothing)
    except (OSError, UnicodeDecodeError) as exc:
        name, problem = "", f"{SUBDIR}/{POINTER} cannot be read ({exc.__class__.__name__}: {exc})"
    if name is None:
        if not hand_made:
            return OwnData(None)
        source, problem = read_folder(directory, directory.name)
        return OwnData(source, problem)
    if _GEN.fullmatch(name) and not (folder / name).is_dir():
        problem = f"{SUBDIR}/{POINTER} names {name}, which is not there"
    elif _GEN.fullmatch(name):
        source, problem = read_folder(folder / name, f"{SUBDIR}/{name}")
        if source is not None:
            return OwnData(source)
    elif not problem:
        problem = (
            f"{SUBDIR}/{POINTER} names {name[:80]!r}, which is not a saved generation"
            if name
            else f"{SUBDIR}/{POINTER} is empty"
        )
    for n in _generations(folder):
        if f"gen-{n}" == name:
            continue
        source, _why = read_folder(folder / f"gen-{n}", f"{SUBDIR}/gen-{n}")
        if source is not None:
            return OwnData(source, problem, "previous")
    if hand_made:
        source, _why = read_folder(directory, directory.name)
        if source is not None:
            return OwnData(source, problem, "hand-made")
    return OwnData(None, problem)
