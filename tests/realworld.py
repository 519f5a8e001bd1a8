"""A boundary file shaped like the ones users download: municipal boundaries from OSM via geoBoundaries.

38 MultiPolygons (Voronoi cells of the municipal seats, clipped to Kosovo's outline), some with a hole
that an exclave of a neighbour fills, with geoBoundaries' properties: ``shapeName`` ("Municipality of
Deçan", a few in Albanian, Serbian or Cyrillic), ``shapeID``, ``shapeISO``, ``shapeGroup`` and
``shapeType``. No police section, region or population column: the file is what the web gives.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, box

from geo import places

#: The names as geoBoundaries (from OSM) writes them, with a few in other forms and scripts.
SHAPE_NAMES = {
    "Prishtinë": "Municipality of Pristina",
    "Gjakovë": "Komuna e Gjakovës",
    "Pejë": "Opština Peć",
    "Fushë Kosovë": "Општина Косово Поље",
    "Istog": "Komuna e Istogut",
    "Vushtrri": "Општина Вучитрн",
    "Mitrovicë": "Municipality of South Mitrovica",
    "Mitrovica Veriore": "Municipality of North Mitrovica",
    "Hani i Elezit": "Municipality of Elez Han",
    "Gllogovc": "Municipality of Drenas",
    "Kllokot": "Municipality of Klokot",
}
#: Municipalities whose shape gets a hole, filled by an exclave of the next one in this list.
HOLED = ("Podujevë", "Lipjan", "Suharekë", "Kamenicë")


def shape_name(m: places.Municipality) -> str:
    return SHAPE_NAMES.get(m.name, f"Municipality of {m.name}")


def municipal_boundaries(path: Path, *, names: dict[str, str] | None = None) -> Path:
    """Write the file as GeoJSON at ``path``; ``names`` replaces some ``shapeName`` values (canonical → text)."""
    munis = places.municipalities()
    outline = gpd.read_file(Path(places.REFERENCE_DIR) / "kosovo_outline.geojson").geometry.union_all()
    seats = shapely.MultiPoint([(m.seat_lon, m.seat_lat) for m in munis])
    cells = shapely.get_parts(shapely.voronoi_polygons(seats, extend_to=outline.envelope.buffer(1)))
    shapes = {}
    for m in munis:
        seat = shapely.Point(m.seat_lon, m.seat_lat)
        cell = next(c for c in cells if c.contains(seat))
        shapes[m.name] = [shapely.intersection(cell, outline)]
    rng = np.random.default_rng(12)
    for i, name in enumerate(HOLED):
        m = places.municipality(name)
        # a small square 2-3 km off the seat, inside the shape: a hole here, an exclave of the next one
        for _try in range(50):
            dx, dy = rng.uniform(-0.04, 0.04, 2)
            sq = box(m.seat_lon + dx - 0.008, m.seat_lat + dy - 0.008, m.seat_lon + dx + 0.008, m.seat_lat + dy + 0.008)
            if shapes[name][0].contains(sq.buffer(0.002)) and not sq.contains(shapely.Point(m.seat_lon, m.seat_lat)):
                break
        shapes[name][0] = shapes[name][0].difference(sq)
        other = HOLED[(i + 1) % len(HOLED)]
        shapes[other].append(sq)
    features = []
    for k, m in enumerate(munis):
        parts = []
        for g in shapes[m.name]:
            parts.extend(p for p in shapely.get_parts(g) if p.geom_type == "Polygon")
        geom = MultiPolygon(parts)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "shapeName": (names or {}).get(m.name, shape_name(m)),
                    "shapeISO": "",
                    "shapeID": f"64521813B{17_000_000 + 37 * k:08d}",
                    "shapeGroup": "XKX",
                    "shapeType": "ADM2",
                },
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    Path(path).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return Path(path)
