"""A deployment's saved data, written so that a save never loses the data saved before it.

"Save as this deployment's data" (the Data page) writes into a folder of the
project's own, ``dashboard-data/``, inside the deployment's data folder
(``data/own/``, or ``DASHBOARD_DATA_DIR``, which may be a mount point that
holds other files too). Nothing outside ``dashboard-data/`` is ever written,
moved or removed, and the data folder itself is never renamed::

    data/own/                  the data folder: its other files are never touched
      dashboard-data/
        .gitignore  .lock
        current                "gen-4": the generation that is the saved data
        gen-3/                 the save before (kept until the next save)
        gen-4/                 sections.geojson, incidents.csv, …, options.json

A save holds ``.lock`` (one save at a time, across processes) and

1. writes the files and ``options.json`` (which also records each file's size)
   into ``gen-<n>.tmp/``, fsyncs every file and then the folder;
2. renames ``gen-<n>.tmp`` to ``gen-<n>`` and fsyncs ``dashboard-data/``;
3. writes ``current.tmp``, fsyncs it, renames it onto ``current``
   (``os.replace``, atomic) and fsyncs ``dashboard-data/``: only now is the
   save done, and only now is it reported;
4. moves the generations older than the one it replaced to ``*.tmp`` names
   and removes them.

A process killed at any point therefore leaves ``current`` naming either the
old generation or the new one, both complete. Reading (:func:`find`) recovers
from an interrupted save: when no save is running it removes what is left
under a ``*.tmp`` name; a ``current`` that names a missing or incomplete
generation (damaged from outside) falls back to the newest complete one and
says so. A generation is complete when its ``options.json`` reads and every
file it names is there, readable and of the recorded size. Without
``current`` nothing has been saved.

A hand-made folder (the files and an ``options.json`` directly in the data
folder, see ``data/README.md``) is read as before while nothing has been
saved. A save never touches it; once data has been saved, the saved data is
used instead (remove ``dashboard-data/`` to go back to the hand-made files).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from geo.loader import LoadOptions
from geo.schema import INPUTS
from geo.source import FileSource

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one save at a time is then up to the deployment
    fcntl = None

#: The project's own folder inside the data folder.
SUBDIR = "dashboard-data"
#: The pointer file: the name of the current generation.
POINTER = "current"
OPTIONS_FILE = "options.json"
LOCK_FILE = ".lock"
TMP = ".tmp"
_GEN = re.compile(r"gen-(\d+)")

#: Called with the name of each step of :func:`save` once it is done (tests use it to stop a save there).
STEP_HOOK: Callable[[str], None] | None = None


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


# ---------------------------------------------------------------- low-level, durable writes


def _step(name: str) -> None:
    if STEP_HOOK is not None:
        STEP_HOOK(name)


def _fsync_dir(path: Path) -> None:
    """Make a folder's entries (new, renamed or removed files) durable."""
    if os.name == "nt":  # folders cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _copy_file(src: Path, dst: Path) -> int:
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())
        return fout.tell()


@contextlib.contextmanager
def _lock(folder: Path, wait: bool) -> Iterator[bool]:
    """Hold ``folder/.lock`` (yields ``False`` when ``wait`` is false and a save holds it)."""
    if fcntl is None:
        yield True
        return
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def _generations(folder: Path) -> list[int]:
    """Numbers of the folder's complete-by-name generations (``gen-<n>``), newest first."""
    try:
        names = [p.name for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted((int(m.group(1)) for n in names if (m := _GEN.fullmatch(n))), reverse=True)


def _remove_leftovers(folder: Path) -> None:
    """Remove what an interrupted save left under a ``*.tmp`` name (call it holding the lock)."""
    for p in folder.iterdir():
        if p.name.endswith(TMP):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()


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

    Removes what an interrupted save left behind (when no save is running and the folder is writable).
    """
    directory = Path(directory)
    folder = directory / SUBDIR
    hand_made = (directory / OPTIONS_FILE).exists()
    pointer = folder / POINTER
    if folder.is_dir():
        with contextlib.suppress(OSError), _lock(folder, wait=False) as free:
            if free:
                _remove_leftovers(folder)
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


# ---------------------------------------------------------------- saving


def _file_name(input: str, path: Path) -> str:
    suffix = "".join(path.suffixes[-2:]) if path.name.lower().endswith(".shp.zip") else path.suffix
    return f"{input}{suffix}"


def save(source: FileSource, directory: Path) -> Path:
    """Save a source's files and mapping as the data in ``directory``; returns the new generation's folder.

    Atomic and durable (see the module's description): when this returns, the new data is in place
    on disk; if the process dies before, the data saved before is still complete. Raises
    :class:`OSError` when the folder cannot be written (the data saved before is then kept).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    folder = directory / SUBDIR
    if not folder.is_dir():
        folder.mkdir(exist_ok=True)
        _fsync_dir(directory)
    with _lock(folder, wait=True):
        _step("locked")
        _remove_leftovers(folder)
        if not (folder / ".gitignore").exists():
            _write_file(folder / ".gitignore", b"# a deployment's own data: never commit it\n*\n")
            _fsync_dir(folder)
        before = find(directory)
        previous = None
        if before.source is not None and Path(before.source.paths["sections"]).parent.parent == folder:
            previous = Path(before.source.paths["sections"]).parent.name
        numbers = _generations(folder)
        with contextlib.suppress(OSError):
            if m := _GEN.fullmatch((folder / POINTER).read_text(encoding="utf-8").strip()):
                numbers.append(int(m.group(1)))
        name = f"gen-{max(numbers, default=0) + 1}"
        tmp = folder / (name + TMP)
        tmp.mkdir()
        try:
            _step("folder")
            files, sizes = {}, {}
            for input, path in source.paths.items():
                fname = _file_name(input, Path(path))
                sizes[fname] = _copy_file(Path(path), tmp / fname)
                files[input] = fname
                _step(f"copy {input}")
            meta = {"files": files, "options": options_to_dict(source.options), "sizes": sizes}
            _write_file(tmp / OPTIONS_FILE, json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"))
            _step("options")
            _fsync_dir(tmp)
            _step("fsync generation")
            tmp.rename(folder / name)
        except BaseException:  # a full disk, an unreadable upload: leave nothing half-written behind
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _step("rename")
        _fsync_dir(folder)
        _step("fsync folder")
        ptmp = folder / (POINTER + TMP)
        with contextlib.suppress(FileNotFoundError):
            ptmp.unlink()
        _write_file(ptmp, f"{name}\n".encode())
        _step("pointer written")
        os.replace(ptmp, folder / POINTER)
        _step("pointer replaced")
        _fsync_dir(folder)
        _step("saved")
        for n in _generations(folder):
            old = f"gen-{n}"
            if old in (name, previous):
                continue
            trash = folder / f"{old}.old{TMP}"
            (folder / old).rename(trash)
            _step(f"retire {old}")
            shutil.rmtree(trash)
            _step(f"remove {old}")
        _fsync_dir(folder)
        _step("done")
    return folder / name
