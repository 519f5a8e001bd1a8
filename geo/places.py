"""Municipalities and police regions of Kosovo, under all their names.

One list (``geo/reference/municipalities.csv``, from the Kosovo Agency of
Statistics census 2024 and GeoNames seats) with Albanian and Serbian names and
common spellings. Every input's municipality and region names are matched
against it.
"""

from __future__ import annotations

import csv
import functools
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
    name_alt: str = ""  # another Albanian name in official use (Drenas for Gllogovc), or ""


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


#: Serbian Cyrillic to Latin (Serbian's own transliteration; Latin is how Kosovo's institutions write Serbian).
_CYRILLIC = str.maketrans(
    {
        **dict(zip("абвгдђежзијклмнопрстћуфхцчш", "abvgdđežzijklmnoprstćufhcčš", strict=True)),
        **dict(zip("АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШ", "ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠ", strict=True)),
        "љ": "lj",
        "њ": "nj",
        "џ": "dž",
        "Љ": "Lj",
        "Њ": "Nj",
        "Џ": "Dž",
    }
)


def to_latin(text: str) -> str:
    """Serbian Cyrillic in Latin script (``"Општина Приштина"`` → ``"Opština Priština"``); other text as it is."""
    return str(text).translate(_CYRILLIC)


@functools.lru_cache(maxsize=65_536)
def normalize(name: str) -> str:
    """Fold a place name for matching: script, case, diacritics, punctuation and spacing.

    ``"Prishtinë"``, ``"PRISHTINE"`` and ``"prishtine "`` all fold to ``"prishtine"``;
    ``"Đakovica"`` folds to ``"djakovica"``; Serbian Cyrillic is read as Latin
    (``"Приштина"`` folds to ``"pristina"``).
    """
    s = to_latin(str(name)).strip().casefold().replace("đ", "dj").replace("ð", "dj")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = "".join(c if c.isalnum() else " " for c in s)
    return " ".join(s.split())


#: Spellings in use that the reference list lacks (the Albanian genitive of names that do not decline
#: on their last word is written out here; :func:`albanian_forms` makes the others).
EXTRA_ALIASES = {
    "Mitrovicë": ("Mitrovicë e Jugut", "Mitrovica Jug", "Mitrovicë Jug", "Mitrovicës së Jugut", "Mitrovica Jugore"),
    "Mitrovica Veriore": ("Mitrovicës së Veriut", "Mitrovicës Veriore", "Mitrovica e Veriut", "Mitrovicë Veriore"),
    "Hani i Elezit": ("Hanit të Elezit",),
}

#: Names that could mean more than one municipality, and the ones they could mean. They are never
#: matched to one of them (a file naming "Mitrovica" is asked which one it means). The canonical
#: Albanian name of the southern municipality, "Mitrovicë", is not among them.
AMBIGUOUS_MUNICIPALITIES: dict[str, tuple[str, ...]] = {
    "Mitrovica": ("Mitrovicë", "Mitrovica Veriore"),
    "Mitrovicës": ("Mitrovicë", "Mitrovica Veriore"),
    "Kosovska Mitrovica": ("Mitrovicë", "Mitrovica Veriore"),
    "Mitrovica (Kosovo)": ("Mitrovicë", "Mitrovica Veriore"),
}
AMBIGUOUS_REGIONS: dict[str, tuple[str, ...]] = {
    "Mitrovica": ("Mitrovicë Jug", "Mitrovicë Veri"),
    "Mitrovicë": ("Mitrovicë Jug", "Mitrovicë Veri"),
    "Kosovska Mitrovica": ("Mitrovicë Jug", "Mitrovicë Veri"),
}

#: Administrative words written before a municipality's name (folded; the longest are tried first):
#: English, Albanian (with the genitive article "e", and "i" as it is also written), Serbian, Bosnian/Croatian.
MUNICIPALITY_PREFIXES = (
    "municipality of",
    "municipality",
    "municipal",
    "komuna e",
    "komuna i",
    "komuna",
    "bashkia e",
    "bashkia",
    "opstina",
    "opcina",
    "opshtina",
)
#: ... and after it ("Deçan Municipality", "Priština opština").
MUNICIPALITY_SUFFIXES = ("municipality", "komuna", "opstina", "opcina")
#: The same for police regions: "DRP Prishtinë", "Regjioni i Prishtinës", "Regional Directorate Pristina".
REGION_PREFIXES = (
    "regional police directorate of",
    "regional police directorate",
    "regional directorate of",
    "regional directorate",
    "drejtoria rajonale e policise",
    "drejtoria rajonale",
    "regjioni i",
    "regjioni",
    "rajoni i",
    "rajoni",
    "region of",
    "region",
    "regionalna direkcija policije",
    "regionalna direkcija",
    "policijska uprava",
    "drp",
)
REGION_SUFFIXES = ("region", "drp")


def _decline_word(word: str) -> set[str]:
    """The definite and genitive forms of one Albanian word (lower case, with its ë and ç)."""
    if word.endswith("ë"):  # Prishtinë: Prishtina, (e) Prishtinës
        return {word[:-1] + "a", word[:-1] + "ës"}
    if word.endswith("e"):  # Shtime: Shtimja, (e) Shtimes
        return {word[:-1] + "ja", word + "s"}
    if word.endswith("i"):  # Viti: Vitia, (e) Vitisë
        return {word + "a", word + "së"}
    if word.endswith(("g", "k")):  # Istog: Istogu, (e) Istogut
        return {word + "u", word + "ut"}
    if word.endswith("j"):  # Ferizaj: Ferizaji, (e) Ferizajt
        return {word + "i", word + "t", word + "it"}
    if word[-1:].isalpha():  # Prizren: Prizreni, (e) Prizrenit
        return {word + "i", word + "it"}
    return set()


def albanian_forms(name: str) -> set[str]:
    """The Albanian definite and genitive forms of a place name, declined on its last word.

    ``"Prishtinë"`` → ``{"prishtina", "prishtinës"}`` ("Komuna e Prishtinës"); ``"Fushë Kosovë"`` →
    ``{"fushë kosova", "fushë kosovës"}``. Names with an article inside ("Hani i Elezit") decline on their
    first word and are written out in :data:`EXTRA_ALIASES`. Lower case, not folded.
    """
    words = str(name).casefold().split()
    if not words or any(w in ("i", "e", "së", "të") for w in words):
        return set()
    return {" ".join([*words[:-1], form]) for form in _decline_word(words[-1])}


def _strip(key: str, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> str:
    """A folded name without one leading and one trailing administrative word (when something is left)."""
    for p in sorted(prefixes, key=len, reverse=True):
        if key.startswith(p + " ") and len(key) > len(p) + 1:
            key = key[len(p) + 1 :]
            break
    for sfx in sorted(suffixes, key=len, reverse=True):
        if key.endswith(" " + sfx) and len(key) > len(sfx) + 1:
            key = key[: -len(sfx) - 1]
            break
    return key


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
                    name_alt=r["municipality_sq_alt"].strip(),
                )
            )
    return tuple(out)


def _index(names: dict[str, tuple[str, ...]], ambiguous: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Folded spelling → the canonical names it could mean (one, or several for an ambiguous one)."""
    owners: dict[str, list[str]] = {}
    for canonical, spellings in names.items():
        for spelling in spellings:
            key = normalize(spelling)
            if key and canonical not in owners.setdefault(key, []):
                owners[key].append(canonical)
    index = {k: tuple(v) for k, v in owners.items()}
    for spelling, meant in ambiguous.items():
        index[normalize(spelling)] = tuple(meant)
    return index


@lru_cache(maxsize=1)
def _municipality_index() -> dict[str, tuple[str, ...]]:
    names: dict[str, tuple[str, ...]] = {}
    for m in municipalities():
        spellings = [m.name, *m.aliases]
        for a in (m.name, m.name_alt):
            spellings.extend(albanian_forms(a))
        names[m.name] = tuple(spellings)
    return _index(names, AMBIGUOUS_MUNICIPALITIES)


@lru_cache(maxsize=1)
def _region_index() -> dict[str, tuple[str, ...]]:
    names = {r.name: (r.name, r.name_sr, r.name_en, *r.aliases, *albanian_forms(r.name)) for r in REGIONS}
    return _index(names, AMBIGUOUS_REGIONS)


def _candidates(name: object, index: dict, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> tuple[str, ...]:
    if name is None or (isinstance(name, float) and name != name):
        return ()
    key = normalize(str(name))
    if not key:
        return ()
    found = index.get(key)
    if found is None:
        found = index.get(_strip(key, prefixes, suffixes))
    return found or ()


def municipality_candidates(name: object) -> tuple[str, ...]:
    """The municipalities a name could mean: one for a known spelling, several for an ambiguous one, or none.

    Case, accents, Serbian Cyrillic, the Albanian definite and genitive forms and the usual administrative
    words ("Municipality of", "Komuna e", "Opština") do not matter: ``"Komuna e Prishtinës"``,
    ``"Општина Приштина"`` and ``"Municipality of Pristina"`` all give ``("Prishtinë",)``;
    ``"Mitrovica"`` gives ``("Mitrovicë", "Mitrovica Veriore")``.
    """
    return _candidates(name, _municipality_index(), MUNICIPALITY_PREFIXES, MUNICIPALITY_SUFFIXES)


def region_candidates(name: object) -> tuple[str, ...]:
    """The police regions (DRP) a name could mean, as :func:`municipality_candidates` does for municipalities."""
    return _candidates(name, _region_index(), REGION_PREFIXES, REGION_SUFFIXES)


def match_municipality(name: object) -> str | None:
    """Canonical (Albanian) municipality name for any known spelling; ``None`` when unknown or ambiguous."""
    found = municipality_candidates(name)
    return found[0] if len(found) == 1 else None


def match_region(name: object) -> str | None:
    """Canonical region (DRP) name for any known spelling; ``None`` when unknown or ambiguous."""
    found = region_candidates(name)
    return found[0] if len(found) == 1 else None


def names_the_municipality(section_name: object, municipality_name: object) -> bool:
    """Is a section's name just a spelling of its municipality's ("Municipality of Deçan" in Deçan)?

    Such a section stands for the municipality itself (a file of municipal boundaries): it is labelled
    once, with the municipality's name, and may take the municipality's census population.
    """
    if municipality_name is None or section_name is None:
        return False
    found = municipality_candidates(section_name)
    return len(found) == 1 and found[0] == municipality_name


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
