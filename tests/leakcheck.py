"""Leak detection for the public-safe mode: a fixture dataset with known secrets, and detectors.

The fixture (:func:`write_fixture`) is a 3 × 3 grid of square sections of about
6 km around Prishtinë (its west column in Fushë Kosovë), written in the project's
input formats (GeoJSON sections, CSV incidents, concerns and committees).
Every incident and concern with coordinates lies at least 1.5 km from every
section vertex, centroid and representative point and at least 0.9 km from
every section boundary, so any coordinate a public output may legitimately
carry (section outlines, centres, label points, the map's bounds, and any
lon/lat combination of those) is far from every secret point, and a
coordinate closer than :data:`MIN_DISTANCE_M` can only have come from the
secret points themselves.

The detector (:func:`coordinate_leaks`) does not match strings: it pulls
every number that could be a longitude or latitude in or near Kosovo out of
a text, forms candidate points from neighbouring numbers in both orders
(``[lon, lat]`` in GeoJSON, ``[lat, lon]`` in Leaflet, ``lat,lon`` columns in
CSV, text in a PDF) and measures the geodesic distance from every candidate
to every secret point.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

#: The closest a public output may place anything to an incident (or a concern), metres.
MIN_DISTANCE_M = 500.0
#: Plausible longitudes and latitudes in and around Kosovo (with a margin).
LON_RANGE = (19.5, 22.5)
LAT_RANGE = (41.5, 43.6)

GEOD = Geod(ellps="WGS84")

# ---------------------------------------------------------------- the fixture

LON0, LAT0 = 21.08, 42.58  # south-west corner of the grid
DLON, DLAT = 0.072, 0.054  # about 5.9 km × 6.0 km
#: metres per degree near 42.66° N
M_LAT = 111_130.0
M_LON = 111_320.0 * np.cos(np.radians(42.66))

PERIOD = ("2024-03-01", "2024-03-31")
SMALL_SECTION = "S22"
SMALL_COUNT = 3
PRIVATE_MARKER = "MARKERPRIVATE7Q"
PUBLIC_MARKER = "MARKERPUBLIC5K"
HIDDEN_PHONE = "+383 44 123 456"
HIDDEN_EMAIL = "arta.krasniqi@kp.example"
SHOWN_PHONE = "+383 49 555 777"

#: Thefts in March 2024 per section (distinct numbers; only the small section is below 5).
THEFTS = {"S11": 6, "S12": 7, "S13": 8, "S21": 9, "S22": SMALL_COUNT, "S23": 11, "S31": 12, "S32": 13, "S33": 14}
#: Burglaries in March 2024 (a second category, never small).
BURGLARIES = {"S11": 5}
#: Sensitive incidents in March 2024: (section, category, n). Enough of them that any total they leak into
#: would change, and one lot in the small section, which would then no longer look small.
SENSITIVE = [("S13", "domestic_violence", 5), ("S31", "sexual_offence", 6), ("S22", "domestic_violence", 5)]
MUNICIPALITY = {1: "Fushë Kosovë", 2: "Prishtinë", 3: "Prishtinë"}  # by column
#: The committee K1's meetings in March 2024 (id → date); each concern was raised at one of them. (Four:
#: the brief lists how many there were, and 3 is the small count the tests look for.)
MEETINGS = {"M1": "2024-03-04", "M2": "2024-03-06", "M3": "2024-03-07", "M4": "2024-03-08"}
#: The meeting of each of S23's six public concerns (raised 3 … 8 March).
MEETING_OF = ["M1", "M1", "M2", "M2", "M3", "M4"]
#: S22's concerns of domestic violence (sensitive): (date, meeting). Numbered in date order with the public
#: ones, they are C3 and C7: gaps between public ids, and the only sensitive concerns of M1 and M3.
SENSITIVE_CONCERNS = [("2024-03-04", "M1"), ("2024-03-07", "M3")]
#: The meetings where sensitive concerns were raised.
SENSITIVE_MEETINGS = {"M1", "M3"}
POPULATION = {sid: 2500 + 500 * i for i, sid in enumerate(THEFTS)}


def section_ids() -> list[str]:
    return [f"S{r}{c}" for r in (1, 2, 3) for c in (1, 2, 3)]


def section_box(sid: str) -> shapely.Polygon:
    r, c = int(sid[1]), int(sid[2])
    x0, y0 = LON0 + (c - 1) * DLON, LAT0 + (r - 1) * DLAT
    return shapely.box(x0, y0, x0 + DLON, y0 + DLAT)


def offset(sid: str, east_m: float, north_m: float) -> tuple[float, float]:
    """``(lon, lat)`` of a point ``east_m``, ``north_m`` metres from the section's centre."""
    cx, cy = section_box(sid).centroid.coords[0]
    return cx + east_m / M_LON, cy + north_m / M_LAT


def _axis_points(sid: str, n: int, start: int = 0) -> list[tuple[float, float]]:
    """``n`` points 2 km from the centre on the four axes, moved up to 300 m sideways."""
    out = []
    jitter = (-300.0, -100.0, 100.0, 300.0, 0.0, -200.0, 200.0)
    for k in range(start, start + n):
        d, t = k % 4, jitter[(k // 4) % len(jitter)] + 7.0 * (k % 3)
        east, north = [(2000.0, t), (-2000.0, t), (t, 2000.0), (t, -2000.0)][d]
        out.append(offset(sid, east, north))
    return out


def _diagonal_points(sid: str, n: int, radius: float = 2000.0) -> list[tuple[float, float]]:
    """``n`` points on the diagonals, ``radius`` metres from the centre (distinctive places)."""
    out = []
    for k in range(n):
        a = np.radians(45.0 + 90.0 * (k % 4) + 6.0 * (k // 4))
        out.append(offset(sid, radius * np.cos(a), radius * np.sin(a)))
    return out


def _ids_in(frame: pd.DataFrame, sid: str) -> list[str]:
    """Ids of the records of ``frame`` inside section ``sid``."""
    box = section_box(sid)
    inside = shapely.contains_xy(box, frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float))
    return list(frame.loc[inside, "incident_id"])


@dataclass
class Fixture:
    paths: dict[str, Path]
    sections: pd.DataFrame
    incidents: pd.DataFrame
    concerns: pd.DataFrame
    #: every point the public version must not reveal: incidents and concerns, (lon, lat)
    secret_points: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))

    @property
    def incident_points(self) -> np.ndarray:
        return self.incidents[["lon", "lat"]].to_numpy(dtype=float)

    def cli_inputs(self) -> list[str]:
        args = []
        for name, path in self.paths.items():
            args += [f"--{name}", str(path)]
        return args


def write_fixture(directory: Path) -> Fixture:
    """Write the fixture's files into ``directory`` (sections.geojson, incidents.csv, concerns.csv,
    committees.csv, options.json as a deployment's own data) and return what was written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ids = section_ids()
    features = []
    rows = []
    for sid in ids:
        c = int(sid[2])
        officers, public = "", False
        if sid == "S23":
            officers = f"Arta Krasniqi ({HIDDEN_PHONE}, {HIDDEN_EMAIL})"
        elif sid == "S12":
            officers, public = f"Besnik Hoxha ({SHOWN_PHONE})", True
        props = {
            "section_id": sid,
            "section_name": f"Sektori {sid}",
            "municipality": MUNICIPALITY[c],
            "region": "Prishtinë",
            "station": f"Stacioni {MUNICIPALITY[c]}",
            "population": POPULATION[sid],
            "officers": officers,
            "officers_public": public,
            "villages": f"Lagjja {sid}",
        }
        rows.append(props)
        features.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(section_box(sid))}
        )
    sections_path = directory / "sections.geojson"
    sections_path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8"
    )

    inc = []

    def add(sid, category, points):
        for k, (lon, lat) in enumerate(points):
            day = 1 + (len(inc) * 7) % 30
            inc.append((f"I{len(inc) + 1:03d}", f"2024-03-{day:02d} {8 + k % 12:02d}:15", category, lat, lon))

    for sid, n in THEFTS.items():
        add(sid, "theft", _axis_points(sid, n))
    for sid, n in BURGLARIES.items():
        add(sid, "burglary", _axis_points(sid, n, start=THEFTS[sid]))
    for sid, cat, n in SENSITIVE:
        add(sid, cat, _diagonal_points(sid, n))
    # the last day of March makes March the last full month in the data (the dashboard's default period)
    inc[0] = (inc[0][0], "2024-03-31 22:00", *inc[0][2:])
    # a theft outside every section (12 km east of the grid): located, in no section, in no count
    lon, lat = offset("S23", 3000.0 + 12_000.0, 0.0)
    inc.append((f"I{len(inc) + 1:03d}", "2024-03-20 10:00", "theft", lat, lon))
    incidents = pd.DataFrame(inc, columns=["incident_id", "occurred_at", "category", "lat", "lon"])
    # one of S33's thefts written with latitude and longitude the wrong way round: the loader swaps it back
    # and reports it (``swapped_coordinates``) with the values it found
    written = incidents.copy()
    last = written.index[(written["category"] == "theft") & written["incident_id"].isin(_ids_in(written, "S33"))][-1]
    lat, lon = float(written.at[last, "lat"]), float(written.at[last, "lon"])
    written.at[last, "lat"], written.at[last, "lon"] = lon, lat
    incidents_path = directory / "incidents.csv"
    written.to_csv(incidents_path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6f")

    con = []
    for k, (lon, lat) in enumerate(_diagonal_points("S23", 6, radius=1700.0)):
        public = k == 0
        text = f"Rruga pa ndriçim {PUBLIC_MARKER}" if public else f"Vjedhje te shtepia e fqinjit {PRIVATE_MARKER}"
        con.append((f"2024-03-{3 + k:02d}", "road_safety", text, public, "open", lat, lon, MEETING_OF[k]))
    for k, (lon, lat) in enumerate(_diagonal_points("S22", 2, radius=1700.0)):
        text = f"Dhune {PRIVATE_MARKER}"
        day, meeting = SENSITIVE_CONCERNS[k]
        con.append((day, "domestic_violence", text, False, "open", lat, lon, meeting))
    columns = ["raised_on", "category", "description", "description_public", "status", "lat", "lon", "meeting_id"]
    # numbered in date order, as a register is: the sensitive concerns lie between public ones
    concerns = pd.DataFrame(con, columns=columns).sort_values("raised_on", kind="stable").reset_index(drop=True)
    concerns.insert(0, "concern_id", [f"C{k + 1}" for k in range(len(concerns))])
    concerns["description_public"] = concerns["description_public"].map({True: "true", False: "false"})
    concerns["source"] = "lcps_meeting"
    concerns_path = directory / "concerns.csv"
    concerns.to_csv(concerns_path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6f")

    committees_path = directory / "committees.csv"
    committees_path.write_text(
        "committee_id,type,name,municipality,sections,established_on,active,members\n"
        "K1,LCPS,KLSP Qendra,Prishtinë,S22|S23,2020-01-01,true,9\n"
        "K2,MCPS,KKSB Prishtinë,Prishtinë,,2019-01-01,true,15\n",
        encoding="utf-8",
    )
    meetings_path = directory / "meetings.csv"
    raised = concerns["meeting_id"].value_counts()  # as the minutes record them: the sensitive ones too
    meetings_path.write_text(
        "meeting_id,committee_id,held_on,attendance,concerns_raised\n"
        + "".join(f"{m},K1,{day},12,{int(raised.get(m, 0))}\n" for m, day in MEETINGS.items()),
        encoding="utf-8",
    )
    paths = {
        "sections": sections_path,
        "incidents": incidents_path,
        "concerns": concerns_path,
        "committees": committees_path,
        "meetings": meetings_path,
    }
    (directory / "options.json").write_text(
        json.dumps(
            {
                "files": {k: p.name for k, p in paths.items()},
                "options": {"columns": {}, "values": {}, "crs": {}, "encoding": {}},
            }
        ),
        encoding="utf-8",
    )
    fx = Fixture(paths, pd.DataFrame(rows), incidents, concerns)
    fx.secret_points = np.vstack(
        [incidents[["lon", "lat"]].to_numpy(dtype=float), concerns[["lon", "lat"]].to_numpy(dtype=float)]
    )
    return fx


def legitimate_points() -> np.ndarray:
    """Every coordinate a public output may carry: section vertices, centroids, representative points,
    edge midpoints, and every lon/lat combination of those (``(lon, lat)``)."""
    pts = []
    for sid in section_ids():
        box = section_box(sid)
        pts += list(box.exterior.coords)
        pts.append(box.centroid.coords[0])
        pts.append(box.representative_point().coords[0])
    pts = np.array(pts)
    lons, lats = np.unique(pts[:, 0]), np.unique(pts[:, 1])
    combos = np.array([(x, y) for x in lons for y in lats])
    return np.vstack([pts, combos])


# ---------------------------------------------------------------- distances


def nearest_m(points: np.ndarray, secrets: np.ndarray) -> np.ndarray:
    """Geodesic distance (m) from each ``(lon, lat)`` in ``points`` to the nearest of ``secrets``."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(points):
        return np.empty(0)
    n, m = len(points), len(secrets)
    lon1 = np.repeat(points[:, 0], m)
    lat1 = np.repeat(points[:, 1], m)
    lon2 = np.tile(secrets[:, 0], n)
    lat2 = np.tile(secrets[:, 1], n)
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d).reshape(n, m).min(axis=1)


# ---------------------------------------------------------------- the coordinate extractor

_DOT = re.compile(r"(?<![\w.])-?\d{2}\.\d+(?![\d])")
# decimal comma as the Albanian and Serbian number formats write it: 42,6629 (never part of "21.1,42.6")
_COMMA = re.compile(r"(?<![\w.,])\d{2},\d{2,}(?![\d.,])")


@dataclass(frozen=True)
class Candidate:
    lon: float
    lat: float
    #: the precision the pair was written with: the more decimals of the two numbers (a writer that rounds
    #: to two decimals drops trailing zeros: "21.1, 42.66" is 21.10, 42.66)
    decimals: int
    text: str  # the two numbers as written


def _numbers(text: str) -> list[tuple[float, int, str]]:
    """Every decimal number that could be a longitude or latitude near Kosovo, in order (decimal commas with
    at least two decimals, so that lists such as "21,42" are not read as numbers)."""
    found = []
    for rx, comma in ((_DOT, False), (_COMMA, True)):
        for m in rx.finditer(text):
            s = m.group(0)
            v = float(s.replace(",", ".")) if comma else float(s)
            dec = len(s.split("," if comma else ".")[1])
            if LON_RANGE[0] <= v <= LON_RANGE[1] or LAT_RANGE[0] <= v <= LAT_RANGE[1]:
                found.append((m.start(), v, dec, s))
    found.sort()
    return [(v, d, s) for _, v, d, s in found]


def _is_lon(v: float) -> bool:
    return LON_RANGE[0] <= v <= LON_RANGE[1]


def _is_lat(v: float) -> bool:
    return LAT_RANGE[0] <= v <= LAT_RANGE[1]


def candidates(text: str) -> list[Candidate]:
    """Candidate points from neighbouring numbers, in both orders ([lon, lat] and [lat, lon]).

    A pair written with at most one decimal in both numbers (about 10 km) cannot place anything within
    the minimum and is left out.
    """
    nums = _numbers(text)
    out = []
    for (a, da, sa), (b, db, sb) in zip(nums, nums[1:]):
        if max(da, db) < 2:
            continue
        if _is_lon(a) and _is_lat(b):
            out.append(Candidate(a, b, max(da, db), f"{sa} {sb}"))
        elif _is_lat(a) and _is_lon(b):
            out.append(Candidate(b, a, max(da, db), f"{sa} {sb}"))
    return out


def table_candidates(frame: pd.DataFrame) -> list[Candidate]:
    """Candidate points from a table: every pair of a longitude-like and a latitude-like column, row by row."""
    cols = []
    for c in frame.columns:
        v = pd.to_numeric(frame[c].astype("string").str.replace(",", ".", regex=False), errors="coerce")
        if v.notna().any():
            cols.append((c, v))
    out = []
    for ci, vi in cols:
        for cj, vj in cols:
            if ci == cj:
                continue
            ok = vi.between(*LON_RANGE) & vj.between(*LAT_RANGE)
            for lon, lat in zip(vi[ok], vj[ok]):
                out.append(Candidate(float(lon), float(lat), 6, f"{ci}={lon} {cj}={lat}"))
    return out


@dataclass(frozen=True)
class Leak:
    where: str
    candidate: Candidate
    distance_m: float

    def __str__(self) -> str:
        return f"{self.where}: {self.candidate.text!r} is {self.distance_m:.0f} m from a secret point"


def check_candidates(cands: list[Candidate], secrets: np.ndarray, where: str) -> list[Leak]:
    """The candidates that place a secret point: closer than :data:`MIN_DISTANCE_M`, or (for coordinates
    written with only two decimals, about 1 km) a rounding cell that contains a secret point."""
    if not cands:
        return []
    pts = np.array([(c.lon, c.lat) for c in cands])
    dist = nearest_m(pts, secrets)
    leaks = []
    for c, d in zip(cands, dist):
        hit = d < MIN_DISTANCE_M
        if not hit and c.decimals <= 2:
            half = 0.5 * 10.0**-c.decimals + 1e-12
            hit = bool(((np.abs(secrets[:, 0] - c.lon) <= half) & (np.abs(secrets[:, 1] - c.lat) <= half)).any())
        if hit:
            leaks.append(Leak(where, c, float(d)))
    return leaks


def coordinate_leaks(text: str, secrets: np.ndarray, where: str = "") -> list[Leak]:
    """Every place in ``text`` that puts a secret point closer than the minimum; ``[]`` when none does.

    CSV-looking text is also read as a table, so that latitude and longitude columns are paired even when
    other columns stand between them.
    """
    leaks = check_candidates(candidates(text), secrets, where)
    lines = text.strip().splitlines()
    if len(lines) > 1 and any(sep in lines[0] for sep in (",", ";", "\t")):
        try:
            frame = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=None, engine="python", dtype=str)
        except Exception:  # noqa: BLE001 - not a table after all
            frame = None
        if frame is not None and frame.shape[1] > 1:
            leaks += check_candidates(table_candidates(frame), secrets, where + " (as a table)")
    return leaks


# ---------------------------------------------------------------- text from outputs

_DATA_URI = re.compile(r"data:image/(png|jpe?g|gif|webp);base64,([A-Za-z0-9+/=]+)")


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def split_images(text: str) -> tuple[str, list[bytes]]:
    """``text`` without its base64 image data URIs, and the images' bytes.

    An image's pixels carry no numbers a text search could find. Instead of reading them, the tests check
    that the data an image is drawn from has no coordinates at all (the public copy) and that the image is
    a picture of section shapes only (the brief's static map: drawn from section polygons and counts).
    """
    images = [base64.b64decode(m.group(2)) for m in _DATA_URI.finditer(text)]
    return _DATA_URI.sub("data:image/png;base64,", text), images


def bytes_text(data: bytes, name: str = "") -> str:
    """Text from an output file: PDF text, or the bytes as UTF-8 (with or without BOM)."""
    if data[:5] == b"%PDF-" or name.lower().endswith(".pdf"):
        return pdf_text(data)
    return data.decode("utf-8-sig", errors="replace")


# ---------------------------------------------------------------- sensitive names


def sensitive_names() -> list[str]:
    """The sensitive categories' codes and their names in every language (lower case)."""
    from geo import i18n

    names = {"domestic_violence", "sexual_offence"}
    for lang in i18n.LANGS:
        _ = i18n.translator(lang)
        for vocab in ("incident_category", "concern_category"):
            for code in ("domestic_violence", "sexual_offence"):
                name = _.term(vocab, code)
                if name and name != code:
                    names.add(name.lower())
    return sorted(names)


def sensitive_hits(text: str) -> list[str]:
    """The sensitive names found in ``text``, each with a little context."""
    low = text.lower()
    out = []
    for name in sensitive_names():
        for m in re.finditer(re.escape(name), low):
            out.append(f"{name!r} in …{text[max(0, m.start() - 60) : m.end() + 40]!r}…")
    return out


def restricted_texts(text: str) -> list[str]:
    """Non-public concern descriptions and officers' non-public contacts found in ``text``."""
    out = []
    for marker in (PRIVATE_MARKER, HIDDEN_PHONE, HIDDEN_EMAIL, "123 456", "krasniqi@"):
        if marker.lower() in text.lower():
            i = text.lower().index(marker.lower())
            out.append(f"{marker!r} in …{text[max(0, i - 60) : i + 60]!r}…")
    return out


def possible_values(counts: dict[str, int], kinds: dict[str, str], total: int, k: int = 5) -> dict:
    """The least and the most each withheld count can be for someone who knows ``total``, the shown counts
    and the rule (a small count is 1 … k − 1, a secondary one at least k); every value between is possible."""
    withheld = [i for i, kind in kinds.items() if kind]
    rest = total - sum(v for i, v in counts.items() if not kinds.get(i))
    lo = {i: 1 if kinds[i] == "small" else k for i in withheld}
    hi = {i: k - 1 if kinds[i] == "small" else rest for i in withheld}
    return {
        i: (
            max(lo[i], rest - sum(hi[j] for j in withheld if j != i)),
            min(hi[i], rest - sum(lo[j] for j in withheld if j != i)),
        )
        for i in withheld
    }
