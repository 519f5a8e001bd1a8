"""Municipality and region names: every spelling users' files carry maps to one canonical name."""

from __future__ import annotations

from collections import defaultdict

import pytest

from geo import places


def test_normalize_folds_case_diacritics_punctuation_and_spacing():
    assert places.normalize("Prishtinë") == "prishtine"
    assert places.normalize("  PRISHTINE ") == "prishtine"
    assert places.normalize("Đakovica") == "djakovica"
    assert places.normalize("đ") == places.normalize("Đ") == "dj"
    assert places.normalize("Fushë-Kosovë") == "fushe kosove"
    assert places.normalize("Hani  i\tElezit") == "hani i elezit"
    assert places.normalize("čćšžç") == "ccszc"


def test_there_are_38_municipalities_each_in_one_of_the_8_regions():
    munis = places.municipalities()
    assert len(munis) == 38
    assert len({m.name for m in munis}) == 38
    assert len(places.REGIONS) == 8
    region_names = {r.name for r in places.REGIONS}
    assert {m.region for m in munis} == region_names


def test_no_spelling_names_two_municipalities():
    owners = defaultdict(set)
    for m in places.municipalities():
        for alias in (m.name, *m.aliases):
            owners[places.normalize(alias)].add(m.name)
    ambiguous = {k: v for k, v in owners.items() if len(v) > 1}
    assert ambiguous == {}


def test_no_spelling_names_two_regions():
    owners = defaultdict(set)
    for r in places.REGIONS:
        for alias in (r.name, r.name_sr, r.name_en, *r.aliases):
            owners[places.normalize(alias)].add(r.name)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("Prishtinë", "Prishtinë"),
        ("PRISHTINE", "Prishtinë"),
        ("Priština", "Prishtinë"),
        ("Pristina", "Prishtinë"),
        ("Gjakovë", "Gjakovë"),
        ("Đakovica", "Gjakovë"),
        ("Djakovica", "Gjakovë"),
        ("Kosovo Polje", "Fushë Kosovë"),
        ("Gračanica", "Graçanicë"),
        ("Graçanicë", "Graçanicë"),
        ("Zvečan", "Zveçan"),
        ("Štrpce", "Shtërpcë"),
        ("Elez Han", "Hani i Elezit"),
        ("Đeneral Janković", "Hani i Elezit"),
        ("Severna Mitrovica", "Mitrovica Veriore"),
        ("Južna Mitrovica", "Mitrovicë"),
        ("Mamuša", "Mamushë"),
        ("Klokot", "Kllokot"),
        ("Vrbovac", "Kllokot"),
    ],
)
def test_match_municipality_any_spelling(spelling, canonical):
    assert places.match_municipality(spelling) == canonical


@pytest.mark.parametrize("name", [None, float("nan"), "", "Atlantis", "Beograd"])
def test_match_municipality_unknown_is_none(name):
    assert places.match_municipality(name) is None


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("Prishtinë", "Prishtinë"),
        ("DRP Prishtinë", "Prishtinë"),
        ("drp prishtine", "Prishtinë"),
        ("Pristina", "Prishtinë"),
        ("Mitrovica South", "Mitrovicë Jug"),
        ("Južna Mitrovica", "Mitrovicë Jug"),
        ("Mitrovica Sever", "Mitrovicë Veri"),
        ("Peć", "Pejë"),
        ("Uroševac", "Ferizaj"),
        ("Gnjilane", "Gjilan"),
        ("Đakovica", "Gjakovë"),
        ("DRP Prizren", "Prizren"),
    ],
)
def test_match_region_any_spelling(spelling, canonical):
    assert places.match_region(spelling) == canonical


@pytest.mark.parametrize("name", [None, float("nan"), "", "Podujevë", "DRP Atlantis"])
def test_match_region_unknown_is_none(name):
    assert places.match_region(name) is None


def test_region_of_municipality():
    assert places.region_of("Prishtinë") == "Prishtinë"
    assert places.region_of("Zveçan") == "Mitrovicë Veri"
    assert places.region_of("Mitrovicë") == "Mitrovicë Jug"
    assert places.region_of("Prizren") == "Prizren"


def test_every_municipality_is_found_by_its_own_names():
    for m in places.municipalities():
        assert places.match_municipality(m.name) == m.name
        assert places.match_municipality(m.name_sr) == m.name
        for alias in m.aliases:
            assert places.match_municipality(alias) == m.name, alias


def test_every_region_is_found_by_its_own_names():
    for r in places.REGIONS:
        for alias in (r.name, r.name_sr, r.name_en, *r.aliases):
            assert places.match_region(alias) == r.name, alias


def test_municipality_lookup_names_the_known_ones():
    assert places.municipality("Pejë").name_sr == "Peć"
    with pytest.raises(KeyError, match="Prishtinë"):
        places.municipality("Priština")  # canonical names only


def test_region_lookup_names_the_known_ones():
    assert places.region("Gjilan").name_sr == "Gnjilane"
    with pytest.raises(KeyError, match="Gjilan"):
        places.region("Gnjilane")


def test_municipality_reference_values_are_plausible():
    for m in places.municipalities():
        assert m.population > 0
        assert m.area_km2 > 0
        # seats lie in Kosovo
        assert 41.8 < m.seat_lat < 43.3, m.name
        assert 20.0 < m.seat_lon < 21.8, m.name
