"""A tiny hand-made dataset for the dashboard's tests (no loader, no files).

Six square sections around Prishtinë and one in Ferizaj (EPSG:4326, 0.02°
sides), a few incidents in March and February 2024, concerns, committees.
Imported by ``test_figures``, ``test_maps`` and ``test_pages``.

:func:`small_dataset` is larger but still made by hand: a 6 × 6 grid of
sections over four whole months with a planted cluster, enough for hot spots,
the prediction test, worry vs incidents and surveys.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from geo.dataset import Dataset
from geo.public import PublicPolicy
from geo.report import Report
from geo.source import WholeSource

#: The suite's perturbation secret (the same as conftest's, which puts it in the environment).
TEST_SECRET = "test-secret-for-the-suite-only-0123456789"


def public_policy(**kwargs) -> PublicPolicy:
    """A public policy with the suite's secret (and any other setting given)."""
    return PublicPolicy(**{"secret": TEST_SECRET, **kwargs})


EVIL = "<script>alert(1)</script>"
#: Every page of the dashboard, as dashboard.py lists them (the AppTest paths).
PAGES = (
    "views/overview.py",
    "views/hotspots.py",
    "views/concerns.py",
    "views/committees.py",
    "views/section.py",
    "views/trust.py",
    "views/print.py",
    "views/data.py",
)


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
    frame["section_id"] = frame["section_id"].astype(str)
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
    frame["section_id"] = frame["section_id"].astype(str)
    frame["source"] = "lcps_meeting"
    # untrusted text: a hostile description (marked public) and action
    frame["description"] = pd.array(["Gropa në rrugë", "", EVIL, "", ""], dtype="string")
    frame["description_public"] = [True, False, True, False, False]
    frame["action_taken"] = pd.array(["", "Llamba u ndërrua", "*[x](https://evil.example)*", "", ""], dtype="string")
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


class TinySource(WholeSource):
    """A :class:`geo.source.DataSource` serving :func:`tiny_dataset`."""

    def __init__(self, evil_name: bool = False):
        self.evil_name = evil_name

    def fingerprint(self) -> str:
        return hashlib.sha256(f"tiny:{self.evil_name}".encode()).hexdigest()[:16]

    def load(self) -> Dataset:
        return tiny_dataset(self.evil_name)


# ---------------------------------------------------------------- a small synthetic dataset

#: Sections of the planted cluster in :func:`small_dataset`.
CLUSTER = ("G22", "G23", "G32", "G33")


def small_sections() -> gpd.GeoDataFrame:
    """36 square sections ``G<row><col>`` of 0.01°: columns 0–2 in Prishtinë, 3–5 in Fushë Kosovë."""
    x0, y0, d = 21.10, 42.60, 0.01
    rows = []
    for r in range(6):
        for c in range(6):
            muni = "Prishtinë" if c < 3 else "Fushë Kosovë"
            rows.append(
                (f"G{r}{c}", f"Lagjja {r}{c}", muni, box(x0 + c * d, y0 + r * d, x0 + (c + 1) * d, y0 + (r + 1) * d))
            )
    frame = pd.DataFrame([r[:3] for r in rows], columns=["section_id", "section_name", "municipality"])
    frame["region"] = "Prishtinë"
    frame["population"] = pd.array([1000 + 100 * i for i in range(36)], dtype="Int64")
    frame["station"] = frame["municipality"]
    frame["officers"] = [["Besa M. +383 49 000 111"]] + [[] for _ in range(35)]
    frame["officers_public"] = [True] + [False] * 35
    frame["villages"] = [[f"Fshati {i}"] for i in range(36)]
    frame["municipality_raw"] = frame["municipality"]
    frame["row"] = range(1, 37)
    return gpd.GeoDataFrame(frame, geometry=[r[3] for r in rows], crs="EPSG:4326")


def small_dataset() -> Dataset:
    """January–April 2024: thefts everywhere, many more in :data:`CLUSTER`, daily ticket rows, concerns, committees."""
    rng = np.random.default_rng(2024)
    sections = small_sections()
    bounds = {sid: g.bounds for sid, g in zip(sections["section_id"], sections.geometry, strict=True)}
    recs = []
    days = pd.date_range("2024-01-01", "2024-04-30", freq="D")
    for sid, (minx, miny, maxx, maxy) in bounds.items():
        n = rng.poisson(8) + (120 if sid in CLUSTER else 0)
        for _ in range(n):
            when = days[rng.integers(len(days))] + pd.Timedelta(minutes=int(rng.integers(0, 24 * 60)))
            cat = rng.choice(["theft", "burglary", "accident_damage", "assault"], p=[0.5, 0.2, 0.2, 0.1])
            recs.append((when, str(cat), 1, rng.uniform(minx, maxx), rng.uniform(miny, maxy), sid))
        if sid.endswith("0"):  # daily ticket counts, located by section only
            for day in days[::7]:
                recs.append((day, "traffic_ticket", 12, np.nan, np.nan, sid))
    inc = pd.DataFrame(recs, columns=["occurred_at", "category", "count", "lon", "lat", "section_id"])
    inc = inc.sort_values("occurred_at", kind="stable").reset_index(drop=True)
    inc.insert(0, "incident_id", [f"I{i}" for i in range(len(inc))])
    inc["category_raw"] = inc["category"]
    inc["count"] = inc["count"].astype("int64")
    inc["section_id"] = inc["section_id"].astype(str)
    inc["row"] = range(1, len(inc) + 1)

    con = []
    for i in range(40):
        sid = CLUSTER[i % 4] if i < 12 else ("G55" if i < 24 else f"G{rng.integers(6)}{rng.integers(6)}")
        cat = "theft" if i < 12 else ("road_safety" if i < 24 else str(rng.choice(["drugs", "public_lighting"])))
        raised = days[rng.integers(len(days) - 20)]
        resolved = raised + pd.Timedelta(days=int(rng.integers(3, 60))) if i % 3 else pd.NaT
        status = "resolved" if i % 3 else ("open" if i % 2 else "in_progress")
        con.append((f"K{i}", raised, cat, status, resolved, sid))
    concerns = pd.DataFrame(con, columns=["concern_id", "raised_on", "category", "status", "resolved_on", "section_id"])
    concerns["resolved_on"] = pd.to_datetime(concerns["resolved_on"])
    concerns["section_id"] = concerns["section_id"].astype(str)
    concerns["source"] = ["lcps_meeting", "phone", "online", "walk_in"] * 10
    concerns["description"] = pd.array([EVIL if i == 0 else f"Shqetësim {i}" for i in range(40)], dtype="string")
    concerns["description_public"] = [i % 2 == 0 for i in range(40)]
    concerns["action_taken"] = pd.array(["Patrullim i shtuar"] * 40, dtype="string")
    concerns["meeting_id"] = pd.array(["M1"] * 5 + [None] * 35, dtype="string")
    concerns["lon"] = np.nan
    concerns["lat"] = np.nan
    concerns["row"] = range(1, 41)

    committees = pd.DataFrame(
        {
            "committee_id": ["L1", "L2", "M1", "A1"],
            "type": ["LCPS", "LCPS", "MCPS", "ACPS"],
            "name": ["KLSP Qendra", "KLSP Veriu", "KKSB Prishtinë", "EVSP Prishtinë"],
            "municipality": ["Prishtinë"] * 4,
            "sections": [["G00", "G01", "G10"], ["G50", "G51"], [], []],
            "established_on": pd.to_datetime(["2020-01-01", "2023-01-01", "2019-01-01", "2021-06-01"]),
            "active": [True, False, True, True],
            "members": pd.array([9, 8, 15, 5], dtype="Int64"),
            "row": [1, 2, 3, 4],
        }
    )
    meetings = pd.DataFrame(
        {
            "meeting_id": ["M1", "M2", "M3", "M4"],
            "committee_id": ["L1", "L1", "M1", "M1"],
            "held_on": pd.to_datetime(["2024-01-15", "2024-03-20", "2024-02-10", "2024-04-12"]),
            "attendance": pd.array([12, 14, 20, 18], dtype="Int64"),
            "concerns_raised": pd.array([5, 2, 3, 1], dtype="Int64"),
        }
    )
    surveys = pd.DataFrame(
        {
            "area": ["DRP Prishtinë", "DRP Prishtinë", "Prishtinë"],
            "area_kind": ["region", "region", "municipality"],
            "area_name": ["Prishtinë", "Prishtinë", "Prishtinë"],
            "period": ["2023", "2024", "2024-Q1"],
            "period_start": pd.to_datetime(["2023-01-01", "2024-01-01", "2024-01-01"]),
            "period_end": pd.to_datetime(["2023-12-31", "2024-12-31", "2024-03-31"]),
            "trust_pct": [71.5, 74.0, 69.0],
            "satisfaction_pct": [60.0, 62.5, 58.0],
            "respondents": pd.array([900, 950, 300], dtype="Int64"),
            "row": [1, 2, 3],
        }
    )
    report = Report()
    report.set_counts("sections", loaded=36, accepted=36, rejected=0, repaired=0)
    return Dataset(
        sections=sections,
        incidents=inc,
        concerns=concerns,
        committees=committees,
        meetings=meetings,
        surveys=surveys,
        report=report,
        label="small test data",
        is_demo=False,
    )


class SmallSource(WholeSource):
    """A :class:`geo.source.DataSource` serving :func:`small_dataset`."""

    def fingerprint(self) -> str:
        return "small-synthetic-1"

    def load(self) -> Dataset:
        return small_dataset()


def texts(at) -> str:
    """All text an AppTest run shows (titles, headers, markdown, captions, alerts), one element a line."""
    parts = [
        e.value
        for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def ok(at) -> None:
    """The run raised no exception."""
    assert not at.exception, [e.message for e in at.exception]
