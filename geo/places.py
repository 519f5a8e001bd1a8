"""Municipalities and police regions of Kosovo, under all their names.

One list (``geo/reference/municipalities.csv``, from the Kosovo Agency of
Statistics census 2024 and GeoNames seats) with Albanian and Serbian names and
common spellings. Every input's municipality and region names are matched
against it.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).parent / "reference"


@dataclass(frozen=True)
class Municipality:
    name: str  # Albanian (canonical)
    name_sr: str  # Serbian, Latin script
    region: str  # police regional directorate (DRP), canonical Albanian name
    region_verified: bool
    population: int
    population_is_estimate: bool
    area_km2: float
    seat_lat: float
    seat_lon: float
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    name: str  # Albanian (canonical), e.g. "Prishtinë"
    name_sr: str
    name_en: str
    aliases: tuple[str, ...]


#: The eight regional police directorates (DRP).
REGIONS: tuple[Region, ...] = (
    Region("Prishtinë", "Priština", "Pristina", ("Prishtina", "Prishtine", "Pristina", "Priština", "DRP Prishtinë")),
    Region(
        "Mitrovicë Jug",
        "Mitrovica Jug",
        "Mitrovica South",
        (
            "Mitrovica Jug",
            "Mitrovice Jug",
            "Mitrovica South",
            "South Mitrovica",
            "Južna Mitrovica",
            "Mitrovicë e Jugut",
            "DRP Mitrovicë Jug",
        ),
    ),
    Region(
        "Mitrovicë Veri",
        "Mitrovica Sever",
        "Mitrovica North",
        (
            "Mitrovica Veri",
            "Mitrovice Veri",
            "Mitrovica North",
            "North Mitrovica",
            "Severna Mitrovica",
            "Mitrovica Sever",
            "Mitrovicë e Veriut",
            "DRP Mitrovicë Veri",
        ),
    ),
    Region("Pejë", "Peć", "Peja", ("Peja", "Peje", "Pec", "Peć", "DRP Pejë")),
    Region("Prizren", "Prizren", "Prizren", ("Prizreni", "DRP Prizren")),
    Region("Ferizaj", "Uroševac", "Ferizaj", ("Ferizaji", "Urosevac", "Uroševac", "DRP Ferizaj")),
    Region("Gjilan", "Gnjilane", "Gjilan", ("Gjilani", "Gnjilane", "DRP Gjilan")),
    Region(
        "Gjakovë", "Đakovica", "Gjakova", ("Gjakova", "Gjakove", "Djakovica", "Đakovica", "Dakovica", "DRP Gjakovë")
    ),
)


def normalize(name: str) -> str:
    """Fold a place name for matching: case, diacritics, punctuation and spacing.

    ``"Prishtinë"``, ``"PRISHTINE"`` and ``"prishtine "`` all fold to ``"prishtine"``;
    ``"Đakovica"`` folds to ``"djakovica"``.
    """
    s = str(name).strip().casefold().replace("đ", "dj").replace("ð", "dj")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = "".join(c if c.isalnum() else " " for c in s)
    return " ".join(s.split())


#: Spellings in use that the reference list lacks.
EXTRA_ALIASES = {"Mitrovicë": ("Mitrovicë e Jugut", "Mitrovica Jug", "Mitrovicë Jug")}


@lru_cache(maxsize=1)
def municipalities() -> tuple[Municipality, ...]:
    """The 38 municipalities, in the reference file's order."""
    out = []
    with open(REFERENCE_DIR / "municipalities.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            aliases = [r["municipality_sq"], r["municipality_sr"], *r["aliases"].split("|")]
            aliases.extend(EXTRA_ALIASES.get(r["municipality_sq"], ()))
            if r["municipality_sq_alt"]:
                aliases.append(r["municipality_sq_alt"])
            # "Đeneral Janković / Elez Han": each part is a name too
            for part in r["municipality_sr"].replace("(", "/").replace(")", "").split("/"):
                aliases.append(part)
            out.append(
                Municipality(
                    name=r["municipality_sq"],
                    name_sr=r["municipality_sr"],
                    region=r["police_region_drp"],
                    region_verified=r["drp_membership_verified"] == "True",
                    population=int(r["population_2024"]),
                    population_is_estimate=r["population_is_estimate"] == "True",
                    area_km2=float(r["area_km2"]),
                    seat_lat=float(r["seat_lat"]),
                    seat_lon=float(r["seat_lon"]),
                    aliases=tuple(a.strip() for a in aliases if a.strip()),
                )
            )
    return tuple(out)


@lru_cache(maxsize=1)
def _municipality_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for m in municipalities():
        for a in (m.name, *m.aliases):
            key = normalize(a)
            # an alias shared by two municipalities would be ambiguous: first one wins,
            # the reference list is checked by tests to have none
            index.setdefault(key, m.name)
    return index


@lru_cache(maxsize=1)
def _region_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for r in REGIONS:
        for a in (r.name, r.name_sr, r.name_en, *r.aliases):
            index.setdefault(normalize(a), r.name)
    return index


def match_municipality(name: object) -> str | None:
    """Canonical (Albanian) municipality name for any known spelling, or ``None``."""
    if name is None or (isinstance(name, float) and name != name):
        return None
    return _municipality_index().get(normalize(str(name)))


def match_region(name: object) -> str | None:
    """Canonical region (DRP) name for any known spelling, or ``None``."""
    if name is None or (isinstance(name, float) and name != name):
        return None
    key = normalize(str(name))
    if key.startswith("drp "):
        key = key[4:]
    return _region_index().get(key)


def municipality(name: str) -> Municipality:
    """The municipality with this canonical name; ``KeyError`` naming the known ones otherwise."""
    for m in municipalities():
        if m.name == name:
            return m
    raise KeyError(f"unknown municipality {name!r}; known: {[m.name for m in municipalities()]}")


def region_of(municipality_name: str) -> str:
    """The police region (DRP) of a municipality given by its canonical name."""
    return municipality(municipality_name).region


def region(name: str) -> Region:
    for r in REGIONS:
        if r.name == name:
            return r
    raise KeyError(f"unknown region {name!r}; known: {[r.name for r in REGIONS]}")
