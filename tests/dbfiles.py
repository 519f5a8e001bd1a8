"""Small input files for the tests that import into a real (embedded) database: the tiny fixtures'
sections, incidents and concerns written as a deployment would keep them, and the concerns' rows as the
loader gives them (for :func:`geo.store.record`)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from dashboard_fixtures import tiny_concerns, tiny_incidents, tiny_sections

from geo.dataset import SECTION_ID_DTYPE


def write_sections(directory: Path, name: str = "sections.geojson", extra: str = "") -> Path:
    """The seven tiny sections as GeoJSON (``extra`` appended to each name, to make changed sections)."""
    sections = tiny_sections()[["section_id", "section_name", "municipality", "population", "geometry"]].copy()
    sections["section_name"] = sections["section_name"] + extra
    path = Path(directory) / name
    path.write_text(sections.to_json(), encoding="utf-8")
    return path


def write_incidents(directory: Path, rows: int | None = None, name: str = "incidents.csv") -> Path:
    """The tiny incidents as CSV (the first ``rows`` of them)."""
    frame = tiny_incidents().head(rows) if rows is not None else tiny_incidents()
    out = pd.DataFrame(
        {
            "incident_id": frame["incident_id"],
            "occurred_at": frame["occurred_at"].dt.strftime("%Y-%m-%d %H:%M"),
            "category": frame["category"],
            "count": frame["count"],
            "lon": frame["lon"],
            "lat": frame["lat"],
        }
    )
    path = Path(directory) / name
    out.to_csv(path, index=False)
    return path


def write_concerns(directory: Path, name: str = "concerns.csv") -> Path:
    frame = tiny_concerns()
    out = pd.DataFrame(
        {
            "concern_id": frame["concern_id"],
            "raised_on": frame["raised_on"].dt.strftime("%Y-%m-%d"),
            "category": frame["category"],
            "status": frame["status"],
            "resolved_on": frame["resolved_on"].dt.strftime("%Y-%m-%d"),
            "source": frame["source"],
            "lon": frame["lon"],
            "lat": frame["lat"],
        }
    )
    path = Path(directory) / name
    out.to_csv(path, index=False)
    return path


def write_folder(directory: Path) -> dict[str, Path]:
    """A hand-made data folder: sections, incidents and concerns with an ``options.json``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "sections": write_sections(directory),
        "incidents": write_incidents(directory),
        "concerns": write_concerns(directory),
    }
    meta = {"files": {n: p.name for n, p in paths.items()}, "options": {}}
    (directory / "options.json").write_text(json.dumps(meta), encoding="utf-8")
    return paths


def new_concern(concern_id: str = "C-app-1", section_id: str = "S2") -> pd.DataFrame:
    """One open concern, as the loader gives a joined record (recorded in the app)."""
    return pd.DataFrame(
        {
            "concern_id": pd.array([concern_id], dtype="string"),
            "raised_on": pd.to_datetime(["2024-03-25"]),
            "category": pd.Categorical(["road_safety"]),
            "description": pd.array(["Recorded in a meeting"], dtype="string"),
            "description_public": [False],
            "source": pd.array(["lcps_meeting"], dtype="string"),
            "meeting_id": pd.array([None], dtype="string"),
            "status": pd.array(["open"], dtype="string"),
            "resolved_on": pd.to_datetime([None]),
            "action_taken": pd.array([""], dtype="string"),
            "lon": [21.125],
            "lat": [42.625],
            "section_id": pd.Series([section_id], dtype=SECTION_ID_DTYPE),
        }
    )
