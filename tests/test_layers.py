"""``geo/`` is layered: value types at the bottom, data access and the command line on top, no cycle.

Every module of ``geo/`` sits in exactly one layer of :data:`LAYERS`; a module
imports only from its own layer or the layers below it, and no chain of imports
leads back to where it started. Imports inside functions and under
``TYPE_CHECKING`` count (see :mod:`importgraph`): moving an import into a
function hides a cycle from Python, not from the reader.

A new module must be placed here, where its imports put it.
"""

from __future__ import annotations

import textwrap

import pytest
from importgraph import GEO, Edge, cycles, edges, graph, modules

#: The layers of ``geo/``, bottom up, each with what it holds.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        # the data contract, place names, problems, untrusted text, and the loaded data as one value
        # (the cube is the incidents pre-aggregated: a value the Dataset carries, built on first use)
        "vocabulary and value types",
        ("__init__", "schema", "places", "report", "untrusted", "cube", "dataset", "settings"),
    ),
    (
        # reading and checking files, joining points to sections, and the statistics
        # (the period comparison takes its false-discovery correction from hotspots)
        "reading, joins and statistics",
        ("io", "validation", "joins", "rates", "compare", "hotspots"),
    ),
    (
        # what the pages show (the Data page's report tables, the sidebar's choices too), the public-safe rules,
        # and the translations (which name the analyses' labels)
        "figures",
        ("figures", "coverage", "concerns", "surveys", "public", "i18n", "report_tables", "choices", "access"),
    ),
    (
        # the analyses the pages and the command line share, maps (with the Leaflet files they load), briefs,
        # downloads, the contract as Markdown, the Hotspots, Overview and Committees pages' tables
        "outputs",
        (
            "analysis",
            "offline",
            "maps",
            "brief",
            "exports",
            "contract",
            "hotspot_tables",
            "overview_tables",
            "committee_tables",
            "minutes",
        ),
    ),
    (
        # loading files, the columnar cache, the database and its per-table store, the data-source interface,
        # saved data, uploads, the demo generator, the users and the audit log
        "data access",
        (
            "loader",
            "uploads_root",
            "filecache",
            "db",
            "store",
            "dbimport",
            "source",
            "saved",
            "deployment",
            "uploads",
            "demo",
            "dbexport",
            "meetings",
            "users",
        ),
    ),
    (
        # the command line (Streamlit's caches are on the app's side, views/cache.py)
        "entry points",
        ("cli", "dbcli", "usercli", "__main__"),
    ),
)


def layer_problems(layers, names: list[str], imports: list[Edge]) -> list[str]:
    """What is wrong with ``layers`` for a package of modules ``names`` importing as ``imports``."""
    problems = []
    where: dict[str, int] = {}
    for i, (_, members) in enumerate(layers):
        for m in members:
            if m in where:
                problems.append(f"geo/{m}.py is placed twice: in {layers[where[m]][0]!r} and {layers[i][0]!r}")
            where.setdefault(m, i)
    for m in names:
        if m not in where:
            problems.append(f"geo/{m}.py is in no layer: place it in LAYERS where its imports put it")
    for m in where:
        if m not in names:
            problems.append(f"geo/{m}.py is in LAYERS but does not exist: remove it")
    for e in imports:
        if e.source in where and e.target in where and where[e.target] > where[e.source]:
            low, high = layers[where[e.source]][0], layers[where[e.target]][0]
            problems.append(f"{e}: {low!r} may not import from the higher layer {high!r}")
    return problems


def test_every_module_of_geo_is_in_one_layer_and_imports_only_from_its_own_or_lower_layers():
    problems = layer_problems(LAYERS, modules(), edges())
    assert not problems, "\n".join(problems)


def test_geo_has_no_import_cycle():
    found = cycles(graph())
    message = "\n".join(f"{' -> '.join(cycle)}  (modules in this knot: {', '.join(group)})" for group, cycle in found)
    assert not found, "import cycles in geo/:\n" + message


# ---------------------------------------------------------------- the checks themselves can fail


@pytest.fixture
def package(tmp_path):
    """A package ``geo`` in a temporary folder, written from ``{module: source}``."""

    def make(files: dict[str, str]):
        root = tmp_path / "geo"
        root.mkdir()
        for name, text in files.items():
            (root / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return make


def test_imports_inside_functions_under_type_checking_and_relative_ones_are_all_seen(package):
    root = package(
        {
            "a": """
                from typing import TYPE_CHECKING

                import geo.b
                from geo import c, unrelated_name

                if TYPE_CHECKING:
                    from geo.d import Thing

                def f():
                    from geo.e import g
                    return lambda: __import__("os")

                class K:
                    from . import f as ff
            """,
            "b": "import os\nimport geopandas\n",
            "c": "",
            "d": "",
            "e": "",
            "f": "",
        }
    )
    found = {(e.target, e.where) for e in edges(root) if e.source == "a"}
    assert found == {
        ("b", "module"),
        ("c", "module"),
        ("d", "type_checking"),
        ("e", "function"),
        ("f", "module"),
    }


def test_a_cycle_is_found_even_through_a_lazy_import_and_named_in_order(package):
    root = package(
        {
            "loader": "from geo.source import Dataset\n",
            "source": "def load():\n    from geo import store\n",
            "store": "from geo.loader import load_files\n",
            "schema": "",
            "dataset": "from geo import schema\n",
        }
    )
    assert cycles(graph(root)) == [(["loader", "source", "store"], ["loader", "source", "store", "loader"])]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_an_unplaced_module_a_ghost_a_double_and_an_upward_import_are_each_named(package):
    root = package({"schema": "", "dataset": "from geo import schema\n", "brief": "", "new": ""})
    root.joinpath("schema.py").write_text("from geo import brief\n", encoding="utf-8")
    layers = (("bottom", ("schema", "dataset")), ("top", ("brief", "dataset", "gone")))
    problems = layer_problems(layers, modules(root), edges(root))
    assert problems == [
        "geo/dataset.py is placed twice: in 'bottom' and 'top'",
        "geo/new.py is in no layer: place it in LAYERS where its imports put it",
        "geo/gone.py is in LAYERS but does not exist: remove it",
        "geo/schema.py:1 imports geo.brief: 'bottom' may not import from the higher layer 'top'",
    ]


def test_the_real_package_is_read():
    names = modules()
    assert GEO.name == "geo" and {"dataset", "loader", "source", "filecache"} <= set(names)
    assert any(e.source == "loader" and e.target == "dataset" for e in edges())
