"""A tiny hand-made dataset for the dashboard's tests (no loader, no files).

Six square sections around Prishtinë and one in Ferizaj (EPSG:4326, 0.02°
sides), a few incidents in March and February 2024, concerns, committees.
Imported by ``test_figures``, ``test_maps`` and ``test_pages``.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from geo.report import Report
from geo.source import Dataset

EVIL = "<script>alert(1)</script>"


def tiny_sections(evil_name: bool = False) -> gpd.GeoDataFrame:
    """Seven sections: S1–S4 in Prishtinë, S5 in Fushë Kosovë (region Prishtinë), S6 in Ferizaj, S7 no people."""
    x0, y0, d = 21.10, 42.62, 0.02
    rows = [
        ("S1", "Qendra", "Prishtinë", "Prishtinë", 12000, ["Qendra", "Dardania"], box(x0, y0, x0 + d, y0 + d)),
        ("S2", "Ulpiana", "Prishtinë", "Prishtinë", 8000, ["Ulpiana"], box(x0 + d, y0, x0 + 2 * d, y0 + d)),
        (
            "S3",
            "Arbëria",
            "Prishtinë",
            "Prishtinë",
            5000,
            ["Arbëria", "Lakrishte"],
            box(x0, y0 + d, x0 + d, y0 + 2 * d),
        ),
        (
            "S4",
            EVIL if evil_name else "Gërmia",
            "Prishtinë",
            "Prishtinë",
            2000,
            ["Mati 1"],
            box(x0 + d, y0 + d, x0 + 2 * d, y0 + 2 * d),
        ),
        (
            "S5",
            "Fushë Kosovë Qendër",
            "Fushë Kosovë",
            "Prishtinë",
            6000,
            ["Sllatinë e Madhe"],
            box(x0 - d, y0, x0, y0 + d),
        ),
        (
            "S6",
            "Ferizaj Jug",
            "Ferizaj",
            "Ferizaj",
            7000,
            ["Softaj", "Nerodime"],
            box(21.15, 42.36, 21.15 + d, 42.36 + d),
        ),
        ("S7", "Zona industriale", "Ferizaj", "Ferizaj", None, [], box(21.15 + d, 42.36, 21.15 + 2 * d, 42.36 + d)),
    ]
    frame = pd.DataFrame(
        [r[:6] for r in rows],
        columns=["section_id", "section_name", "municipality", "region", "population", "villages"],
    )
    frame["population"] = frame["population"].astype("Int64")
    frame["station"] = ["Prishtinë"] * 4 + ["Fushë Kosovë", "Ferizaj", "Ferizaj"]
    frame["officers"] = [["Arben K."], [], [], [], [], [], []]
    frame["officers_public"] = False
    frame["municipality_raw"] = frame["municipality"]
    frame["row"] = range(1, len(frame) + 1)
    return gpd.GeoDataFrame(frame, geometry=[r[6] for r in rows], crs="EPSG:4326")


def tiny_incidents() -> pd.DataFrame:
    """Incidents in March 2024 (the "current" month) and February 2024, plus one outside every section."""
    recs = [
        # id, when, category, count, section
        ("I1", "2024-03-02 10:00", "theft", 1, "S1"),
        ("I2", "2024-03-05 11:00", "theft", 1, "S1"),
        ("I3", "2024-03-09 23:00", "assault", 1, "S1"),
        ("I4", "2024-03-10 08:00", "accident_injury", 1, "S2"),
        ("I5", "2024-03-11 08:00", "accident_fatal", 1, "S2"),
        ("I6", "2024-03-12 08:00", "traffic_ticket", 14, "S2"),
        ("I7", "2024-03-20 08:00", "accident_damage", 1, "S3"),
        ("I8", "2024-03-31 23:59", "burglary", 1, "S6"),
        ("I9", "2024-02-03 08:00", "theft", 1, "S1"),
        ("I10", "2024-02-14 08:00", "traffic_ticket", 5, "S2"),
        ("I11", "2024-02-20 08:00", "accident_damage", 1, "S2"),
        ("I12", "2024-02-25 08:00", "burglary", 1, "S3"),
        ("I13", "2024-02-26 08:00", "drugs", 1, "S3"),
        ("I14", "2024-03-15 08:00", "theft", 1, None),  # outside every section
        ("I15", "2024-04-01 00:00", "theft", 1, "S1"),  # after March
    ]
    frame = pd.DataFrame(recs, columns=["incident_id", "occurred_at", "category", "count", "section_id"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    frame["category_raw"] = frame["category"]
    frame["count"] = frame["count"].astype("Int64")
    frame["section_id"] = frame["section_id"].astype("string")
    frame["lon"] = [21.105] * 14 + [21.105]
    frame.loc[13, "lon"] = 25.0
    frame["lat"] = 42.625
    frame["row"] = range(1, len(frame) + 1)
    return frame


def tiny_concerns() -> pd.DataFrame:
    recs = [
        # id, raised, category, status, resolved_on, section
        ("C1", "2024-01-10", "road_safety", "open", None, "S1"),
        ("C2", "2024-02-10", "public_lighting", "resolved", "2024-03-05", "S1"),
        ("C3", "2024-03-03", "stray_animals", "in_progress", None, "S2"),
        ("C4", "2024-03-04", "drugs", "resolved", "2024-03-20", "S6"),
        ("C5", "2024-02-01", "other", "resolved", None, "S3"),
    ]
    frame = pd.DataFrame(recs, columns=["concern_id", "raised_on", "category", "status", "resolved_on", "section_id"])
    frame["raised_on"] = pd.to_datetime(frame["raised_on"])
    frame["resolved_on"] = pd.to_datetime(frame["resolved_on"])
    frame["section_id"] = frame["section_id"].astype("string")
    frame["source"] = "lcps_meeting"
    frame["lon"] = 21.105
    frame["lat"] = 42.625
    frame["row"] = range(1, len(frame) + 1)
    return frame


def tiny_committees() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "committee_id": ["K1", "K2", "K3", "K4"],
            "type": ["LCPS", "MCPS", "LCPS", "MCPS"],
            "name": ["KLSP Qendra", "KKSB Prishtinë", "KLSP Ferizaj Jug", "KKSB Ferizaj"],
            "municipality": ["Prishtinë", "Prishtinë", "Ferizaj", "Ferizaj"],
            "sections": [["S1", "S2"], [], ["S6"], []],
            "established_on": pd.to_datetime(["2020-01-01", "2019-05-01", "2024-03-15", None]),
            "active": [True, True, True, False],
            "members": [9, 15, 7, 12],
            "row": [1, 2, 3, 4],
        }
    )


def tiny_report() -> Report:
    r = Report()
    r.set_counts("sections", loaded=7, accepted=7, rejected=0, repaired=0)
    r.set_counts("incidents", loaded=16, joined=14, outside=1, rejected=1)
    r.set_counts("concerns", loaded=5, joined=5, outside=0, rejected=0)
    r.set_counts("committees", loaded=4, matched=4, rejected=0)
    r.add(
        "bad_date",
        "incidents",
        "incidents.csv",
        "incidents.csv, row 16: occurred_at 'yesterday' is not a date",
        row=16,
        field="occurred_at",
        value="yesterday",
        expected="a date",
    )
    return r


def tiny_dataset(evil_name: bool = False) -> Dataset:
    return Dataset(
        sections=tiny_sections(evil_name),
        incidents=tiny_incidents(),
        concerns=tiny_concerns(),
        committees=tiny_committees(),
        meetings=pd.DataFrame(
            {
                "meeting_id": ["M1"],
                "committee_id": ["K1"],
                "held_on": pd.to_datetime(["2024-03-01"]),
                "attendance": [20],
                "concerns_raised": [2],
            }
        ),
        surveys=pd.DataFrame(),
        report=tiny_report(),
        label="tiny test data",
        is_demo=False,
    )


class TinySource:
    """A :class:`geo.source.DataSource` serving :func:`tiny_dataset`."""

    def __init__(self, evil_name: bool = False):
        self.evil_name = evil_name

    def fingerprint(self) -> str:
        return hashlib.sha256(f"tiny:{self.evil_name}".encode()).hexdigest()[:16]

    def load(self) -> Dataset:
        return tiny_dataset(self.evil_name)
