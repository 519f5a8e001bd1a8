"""Fixtures of the database's tests: a fresh database on each engine, and small contract files.

``engine_url`` gives the URL of a new, empty database, once per engine (``sqlite``: a file in ``tmp_path``;
``postgres``: a database of the session's cluster, conftest.py's ``pg_cluster``); ``new_engine_url()``
makes more. Test modules import the fixtures they use::

    from store_fixtures import engine_url, small_files  # noqa: F401
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def new_engine_url(request, tmp_path):
    """``make()`` gives the URL of a new, empty database on the engine of the test's parameter: an SQLite
    file in ``tmp_path``, or a database of the session's PostgreSQL cluster (``pg_cluster`` of conftest.py,
    which skips, or fails under ``CI=true``, where PostgreSQL is missing), dropped afterwards."""
    if request.param == "sqlite":
        count = iter(range(1, 1000))
        return lambda: f"sqlite:///{tmp_path / f'db{next(count)}' / 'dashboard.sqlite3'}"
    cluster = request.getfixturevalue("pg_cluster")
    made: list[str] = []

    def drop() -> None:
        from geo import db

        db._engine.cache_clear()  # the engines of the dropped databases go with them
        for name in made:
            cluster.drop_database(name)

    request.addfinalizer(drop)

    def make() -> str:
        made.append(cluster.create_database())
        return cluster.url(made[-1])

    return make


@pytest.fixture
def engine_url(new_engine_url) -> str:
    """The URL of a new, empty database on each engine."""
    return new_engine_url()


# ---------------------------------------------------------------- small contract files

#: Four 0.1° squares S1 (south-west) … S4 in Prishtinë.
SQUARES = {"S1": (21.1, 42.6), "S2": (21.2, 42.6), "S3": (21.1, 42.7), "S4": (21.2, 42.7)}
INSIDE = {"S1": (21.15, 42.65), "S2": (21.25, 42.65), "S3": (21.15, 42.75), "S4": (21.25, 42.75)}
FAR = (20.74, 42.21)  # in Kosovo, in no square


def sections_doc(squares: dict[str, tuple[float, float]] = SQUARES) -> dict:
    feats = []
    for i, (sid, (x, y)) in enumerate(squares.items()):
        ring = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "section_id": sid,
                    "section_name": f"Sektori {sid}",
                    "municipality": "Prishtinë",
                    "population": 1000 * (i + 1),
                    # one officer whose contact holds a comma (a list separator too: the "|" keeps it whole)
                    "officers": "Arben K. (+383 49 000 001, arben@example.invalid)|" if i == 0 else None,
                    "officers_public": "yes" if i == 0 else "no",
                    "villages": "Fshati A|Fshati B" if i == 1 else None,
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def incidents_csv(ids: bool = True, rows: list[tuple] | None = None) -> str:
    """Incidents: four located in S1…S4, one outside every square, one located by section only, one rejected."""
    rows = rows or [
        ("I1", "2024-03-02 10:00", "theft", *INSIDE["S1"][::-1], "", 1),
        ("I2", "2024-03-05 11:00", "burglary", *INSIDE["S2"][::-1], "", 1),
        ("I3", "2024-03-09 23:00", "assault", *INSIDE["S3"][::-1], "", 1),
        ("I4", "2024-03-10 08:00", "theft", *INSIDE["S4"][::-1], "", 1),
        ("I5", "2024-03-11 08:00", "theft", *FAR[::-1], "", 1),
        ("I6", "2024-03-12 00:00", "traffic_ticket", "", "", "S2", 14),
        ("I7", "not a date", "theft", *INSIDE["S1"][::-1], "", 1),
    ]
    head = ("incident_id," if ids else "") + "occurred_at,category,lat,lon,section_id,count"
    lines = [head] + [",".join(str(v) for v in (r if ids else r[1:])) for r in rows]
    return "\n".join(lines) + "\n"


CONCERNS = (
    "concern_id,raised_on,category,description,description_public,status,lat,lon,section_id,meeting_id\n"
    f'K1,2024-03-01,theft,"Vjedhje, shpesh",yes,open,{INSIDE["S1"][1]},{INSIDE["S1"][0]},,M1\n'
    "K2,2024-03-02,road_safety,-5 is not a formula,no,resolved,,,S3,\n"
)
COMMITTEES = (
    "committee_id,type,name,municipality,sections,established_on,active,members\n"
    "L1,LCPS,KLSB Qendra,Prishtinë,S1|S2,2015-04-01,yes,12\n"
    "M1,MCPS,KKSB Prishtinë,Prishtina,,2010-01-01,no,\n"
)
MEETINGS = "meeting_id,committee_id,held_on,attendance,concerns_raised\nM1,L1,2024-03-01,14,1\nM2,M1,2024-03-05,,0\n"
SURVEYS = (
    "area,period,trust_pct,satisfaction_pct,respondents\nPrishtinë,2024,71.5,64.25,800\nDRP Prishtinë,2024-Q1,70,60,\n"
)


def write_files(folder: Path, squares=SQUARES, incidents: str | None = None) -> dict[str, Path]:
    """The six inputs as small files in ``folder``; returns ``{input: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "sections": folder / "sections.geojson",
        "incidents": folder / "incidents.csv",
        "concerns": folder / "concerns.csv",
        "committees": folder / "committees.csv",
        "meetings": folder / "meetings.csv",
        "surveys": folder / "surveys.csv",
    }
    paths["sections"].write_text(json.dumps(sections_doc(squares), ensure_ascii=False), encoding="utf-8")
    paths["incidents"].write_text(incidents if incidents is not None else incidents_csv(), encoding="utf-8")
    for name, text in (("concerns", CONCERNS), ("committees", COMMITTEES), ("meetings", MEETINGS)):
        paths[name].write_text(text, encoding="utf-8")
    paths["surveys"].write_text(SURVEYS, encoding="utf-8")
    return paths


@pytest.fixture
def small_files(tmp_path) -> dict[str, Path]:
    """The six small inputs (:func:`write_files`)."""
    return write_files(tmp_path / "files")
