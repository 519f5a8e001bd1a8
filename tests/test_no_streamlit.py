"""``geo/`` is the library: no module of it imports Streamlit, at the top or inside a function.

The dashboard's caches (``views/cache.py``) and pages are the only code that may.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[1] / "geo"


def streamlit_imports(path: Path) -> list[str]:
    """Where ``path`` imports Streamlit (or a package of it, such as streamlit_folium), as ``line: statement``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name.split(".")[0].startswith("streamlit") for name in names):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


MODULES = sorted(GEO.rglob("*.py"))


def test_the_library_has_modules_to_check():
    assert len(MODULES) > 20 and GEO / "analysis.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(GEO)))
def test_no_geo_module_imports_streamlit(path):
    assert streamlit_imports(path) == [], f"{path.relative_to(GEO.parent)} imports Streamlit"


def test_the_check_finds_an_import_inside_a_function(tmp_path):
    """The control: the check sees imports at module level and inside functions, plain or from."""
    module = tmp_path / "m.py"
    module.write_text(
        "import os\n\ndef f():\n    import streamlit as st\n    from streamlit_folium import st_folium\n"
        "    from geo import figures\n"
    )
    assert streamlit_imports(module) == ["4: import streamlit as st", "5: from streamlit_folium import st_folium"]
    assert streamlit_imports(Path(__file__).resolve().parents[1] / "views" / "cache.py")  # the app side may
