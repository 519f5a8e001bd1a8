"""The columnar cache's code version covers the code a load runs, file by file.

:func:`geo.filecache.code_version` hashes the files named in ``filecache._CODE`` and
silently skips a name that does not exist. A module moved or renamed without
updating the list would drop out of the key, and a changed loader could then
meet entries written by the old one. So: every name must exist, and the
modules named must be exactly ``geo/filecache.py`` and everything it imports,
directly or not (imports inside functions too; :mod:`importgraph`).
"""

from __future__ import annotations

from pathlib import Path

from importgraph import GEO, closure, graph

from geo import filecache


def code_list_problems(listed: tuple[str, ...], package: Path = GEO) -> list[str]:
    """What is wrong with a code list for the package at ``package``."""
    problems = [
        f"geo/{name} is in filecache._CODE but does not exist" for name in listed if not (package / name).is_file()
    ]
    named = {n[: -len(".py")] for n in listed if n.endswith(".py") and "/" not in n and (package / n).is_file()}
    needed = closure(graph(package), {"filecache"})
    problems += [f"geo/{m}.py is imported by the load but not in filecache._CODE" for m in sorted(needed - named)]
    problems += [
        f"geo/{m}.py is in filecache._CODE but the load does not import it (a change to it would drop every entry)"
        for m in sorted(named - needed)
    ]
    return problems


def test_the_code_list_names_existing_files_and_exactly_the_modules_a_load_imports():
    problems = code_list_problems(filecache._CODE)
    assert not problems, "\n".join(problems)


def test_the_loaders_modules_and_the_dataset_are_in_the_code_version():
    for name in ("loader.py", "validation.py", "io.py", "joins.py", "dataset.py", "filecache.py"):
        assert name in filecache._CODE


def test_a_missing_file_a_missing_module_and_a_stray_one_are_each_named():
    listed = tuple(n for n in filecache._CODE if n != "dataset.py") + ("gone.py", "cli.py")
    assert code_list_problems(listed) == [
        "geo/gone.py is in filecache._CODE but does not exist",
        "geo/dataset.py is imported by the load but not in filecache._CODE",
        "geo/cli.py is in filecache._CODE but the load does not import it (a change to it would drop every entry)",
    ]


def test_changing_a_listed_module_changes_the_code_version(tmp_path, monkeypatch):
    """The list is what is hashed: a module's text changes the version (a copy of geo/ stands in for it)."""
    copy = tmp_path / "geo"
    copy.mkdir()
    for name in filecache._CODE:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((GEO / name).read_bytes())
    monkeypatch.setattr(filecache, "__file__", str(copy / "filecache.py"))
    before = filecache.code_version()
    (copy / "dataset.py").write_text((GEO / "dataset.py").read_text(encoding="utf-8") + "\n# changed\n")
    assert filecache.code_version() != before
