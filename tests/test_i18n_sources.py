"""The translation extractor sees every Python file that has texts to translate.

``python -m geo.i18n update`` reads the files matched by
:data:`geo.i18n.SOURCE_GLOBS`. A page or module written in a folder those globs
miss would have its texts left out of the catalogues, and nothing would say so:
the page would simply show English. This test walks the whole project instead.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from geo import i18n

ROOT = Path(__file__).resolve().parent.parent
#: Folders whose texts are never shown to a user of the dashboard: tests and the benchmark.
NOT_SHOWN = ("tests", "bench")


def translating_files(root: Path) -> list[Path]:
    """Every Python file under ``root`` with a translating call (``_(…)``, ``N_(…)``, ``pgettext(…)``, literal or
    not), outside hidden folders, virtual environments and :data:`NOT_SHOWN`."""
    names = set(i18n.GETTEXT_NAMES) | set(i18n.PGETTEXT_NAMES)
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith((".", "__"))
            and not (here / d / "pyvenv.cfg").exists()
            and not (here == root and d in NOT_SHOWN)
        )
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = here / name
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            if any(isinstance(n, ast.Call) and i18n._call_name(n.func) in names for n in ast.walk(tree)):
                found.append(path)
    return found


def unscanned(root: Path) -> list[str]:
    """The files with translating calls that the extractor does not read, relative to ``root``."""
    scanned = {p.resolve() for p in i18n._source_files(root)}
    return [p.relative_to(root).as_posix() for p in translating_files(root) if p.resolve() not in scanned]


def test_every_file_with_texts_to_translate_is_read_by_the_extractor():
    missing = unscanned(ROOT)
    assert not missing, f"geo.i18n.SOURCE_GLOBS miss files with translating calls: {missing}"
    assert {"dashboard.py", "views/overview.py", "geo/brief.py"} <= {
        p.relative_to(ROOT).as_posix() for p in translating_files(ROOT)
    }  # the walk does find the project's texts


def test_a_file_in_a_new_folder_is_caught_and_the_app_folder_is_read(tmp_path):
    def write(rel: str, text: str) -> None:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")

    write("dashboard.py", 'st.title(_("Overview"))\n')
    write("views/deep/page.py", 'ctx._("A nested page")\n')
    write("app/cache.py", 'N_("From the app folder")\n')
    write("tools/report.py", "print(_(message))\n")  # not a literal: still a translating call
    write("tests/test_x.py", '_("only in a test")\n')
    write(".venv/lib/x.py", '_("a library")\n')
    write("geo/plain.py", "x = 1\n")
    assert unscanned(tmp_path) == ["tools/report.py"]
    template = i18n.build_template(tmp_path)
    assert {"Overview", "A nested page", "From the app folder"} <= {m.id for m in template}
