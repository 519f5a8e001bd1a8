"""The dashboard in public-safe mode (``DASHBOARD_PUBLIC=1``): what each page withholds, and the marking.

Distance-based leak checks over everything the app and the command line produce are in
``test_public_leaks.py``; these tests check the pages' own rules on a hand-made dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import PAGES, ok, small_dataset, texts, tiny_dataset
from leakcheck import possible_values
from streamlit.testing.v1 import AppTest

from geo import figures, maps
from geo.public import PublicPolicy
from geo.source import Dataset

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
SENSITIVE_NAMES = ("Domestic violence", "Sexual offence", "domestic_violence", "sexual_offence")


def sensitive_dataset() -> Dataset:
    """:func:`small_dataset` plus domestic violence and sexual offences in April 2024 (the default period)."""
    data = small_dataset()
    inc = data.incidents
    extra = []
    for i, (cat, sid, n) in enumerate([("domestic_violence", "G22", 9), ("sexual_offence", "G33", 6)]):
        sec = data.sections[data.sections["section_id"] == sid].geometry.iloc[0].representative_point()
        for k in range(n):
            extra.append(
                {
                    "incident_id": f"S{i}-{k}",
                    "occurred_at": pd.Timestamp("2024-04-10 21:00") + pd.Timedelta(hours=k),
                    "category": cat,
                    "count": 1,
                    "lon": sec.x,
                    "lat": sec.y,
                    "section_id": sid,
                    "category_raw": cat,
                    "row": len(inc) + len(extra) + 1,
                }
            )
    inc = pd.concat([inc, pd.DataFrame(extra)], ignore_index=True)
    inc["section_id"] = inc["section_id"].astype("string")
    data.incidents = inc
    return data


class SensitiveSource:
    def fingerprint(self) -> str:
        return "small-sensitive-1"

    def load(self) -> Dataset:
        return sensitive_dataset()


def run(page: str | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = SensitiveSource()
    at.session_state["lang"] = lang
    at.run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.fixture
def public(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    return PublicPolicy()


@pytest.fixture
def drawn(monkeypatch):
    """The choropleths the pages build (their features are what the browser receives)."""
    made = []
    real = maps.choropleth

    def spy(*args, **kwargs):
        m = real(*args, **kwargs)
        made.append(m)
        return m

    monkeypatch.setattr(maps, "choropleth", spy)
    return made


def section_features(fmap) -> dict[str, dict]:
    layer = next(c for c in fmap._children.values() if getattr(c, "layer_name", "") == "sections")
    return {f["id"]: f["properties"] for f in layer.data["features"]}


@pytest.mark.parametrize(
    ("lang", "public_word", "restricted_word"), [("en", "PUBLIC", "RESTRICTED"), ("sq", "PUBLIK", "I KUFIZUAR")]
)
def test_every_page_is_marked_public_or_restricted(monkeypatch, lang, public_word, restricted_word):
    for page in PAGES:
        at = run(page, lang)
        ok(at)
        shown = texts(at)
        assert f":red-badge[**{restricted_word}**]" in shown and ":blue-badge[" not in shown, page
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    for page in PAGES:
        at = run(page, lang)
        ok(at)
        shown = texts(at)
        assert f":blue-badge[**{public_word}**]" in shown and ":red-badge[" not in shown, page


def test_public_pages_never_name_a_sensitive_category(public):
    for page in PAGES:
        at = run(page)
        ok(at)
        shown = texts(at) + "\n".join(str(df.value.to_csv()) for df in at.dataframe)
        shown += "\n".join(str(m.label) + str(m.help) for m in at.metric)
        for name in SENSITIVE_NAMES:
            assert name not in shown, (page, name)
    options = run().sidebar.multiselect[0].options
    assert options and not any(name in o for o in options for name in SENSITIVE_NAMES)


def test_restricted_pages_do_show_the_sensitive_categories():
    at = run()
    ok(at)
    assert any("Domestic violence" in o for o in at.sidebar.multiselect[0].options)


def test_public_overview_withholds_small_counts_from_map_and_totals(public, drawn):
    at = run()
    ok(at)
    data = PublicPolicy().apply(sensitive_dataset())
    period = figures.default_period(data.data_as_of)
    # the sections' counts (every category but tickets, as the map draws them)
    counts = figures.incident_counts(data.incidents, period, figures.DEFAULT_CATEGORIES)
    counts = counts.reindex(data.sections["section_id"].astype(str), fill_value=0)
    assert ((counts > 0) & (counts < 5)).sum() >= 2, "the fixture must have small counts for this to mean anything"
    feats = section_features(drawn[-1])
    kinds = {}
    for sid, n in counts.items():
        t2 = feats[sid]["t2"]
        if 0 < n < 5:
            assert t2 == "fewer than 5" and feats[sid]["nd"] is True, sid  # no number, no colour
            assert feats[sid]["t7"] == "–" and feats[sid]["t4"] == "–", sid  # nor its rate or its change
        kinds[sid] = {"fewer than 5": "small", "withheld": "secondary"}.get(t2, "")
        if not kinds[sid]:
            assert t2 == f"{int(n):,}", sid
    # the map's total is on the page (the headlines add up to it): still no withheld count is pinned down
    total = int(counts.sum())
    shown = {sid: int(n) for sid, n in counts.items()}
    possible = possible_values(shown, kinds, total)
    assert possible and all(low < high for low, high in possible.values()), possible
    # headlines: the area's true totals, or withheld (never a sum that silently leaves something out)
    heads = figures.headlines(data.incidents, data.concerns, data.committees, data.sections, figures.Filters(), period)
    values = {m.label: m.value for m in at.metric}
    for label, key in (("Crimes", "crimes"), ("Damage only", "accident_damage"), ("Traffic tickets", "traffic_ticket")):
        n = heads[key].current
        assert values[label] in (f"{n:,}", "withheld") if n == 0 or n >= 5 else values[label] == "fewer than 5"
    # the sensitive incidents (9 + 6 in April) are in no figure
    restricted = figures.headlines(
        sensitive_dataset().incidents, data.concerns, data.committees, data.sections, figures.Filters(), period
    )
    assert restricted["crimes"].current - heads["crimes"].current == 15
    assert values["Crimes"] != f"{restricted['crimes'].current:,}"


def test_restricted_overview_shows_every_count(drawn):
    at = run()
    ok(at)
    feats = section_features(drawn[-1])
    assert not any(p["t2"] in ("fewer than 5", "withheld") for p in feats.values())
    assert any(p["t2"] in {"1", "2", "3", "4"} for p in feats.values())


def test_public_hotspots_offer_sections_only(public):
    at = run("views/hotspots.py")
    ok(at)
    labels = [w.label for w in (*at.radio, *at.checkbox, *at.number_input)]
    assert "Units" not in labels and "Density surface" not in labels and "Density bandwidth (m)" not in labels
    assert "Does the hotspot map predict?" not in texts(at)
    assert "Gi* z" not in "".join(str(list(df.value.columns)) for df in at.dataframe)


def test_public_data_page_has_no_uploads_and_no_single_incidents(public):
    at = run("views/data.py")
    ok(at)
    assert not at.get("file_uploader")
    shown = texts(at)
    assert "Uploading is disabled" in shown and "Validation report" not in shown
    assert "Records outside every section" not in shown
    buttons = {b.proto.label: b.proto.disabled for b in at.get("download_button")}
    assert buttons["Incidents (CSV)"] is True and buttons["Validation report (CSV)"] is True
    assert buttons["Sections (GeoJSON)"] is False


def test_public_mode_from_the_secrets_file_with_its_own_threshold():
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["public"] = {"enabled": True, "min_count": 10, "sensitive": ["domestic_violence", "sexual_offence"]}
    at.session_state["source"] = SensitiveSource()
    at.session_state["lang"] = "en"
    at.run()
    ok(at)
    policy = at.session_state["ctx"].policy
    assert policy is not None and policy.min_count == 10
    assert ":blue-badge[**PUBLIC**]" in texts(at) and "fewer than 10" in texts(at)


def test_without_settings_the_deployment_is_restricted():
    at = run()
    ok(at)
    assert at.session_state["ctx"].policy is None


# ---------------------------------------------------------------- small cases where a total would give a count back


def march(spec: list[tuple[str, str, int, int]], name: str):
    """:func:`tiny_dataset` with its incidents replaced by ``spec`` (section, category, count, day in March
    2024) and one record on 1 April, so that March is the default period."""
    data = tiny_dataset()
    rows = [
        (f"X{i}", pd.Timestamp(f"2024-03-{day:02d} 10:00"), cat, n, sid) for i, (sid, cat, n, day) in enumerate(spec)
    ]
    rows.append(("LAST", pd.Timestamp("2024-04-01 10:00"), "other", 1, "S6"))
    inc = pd.DataFrame(rows, columns=["incident_id", "occurred_at", "category", "count", "section_id"])
    inc["category_raw"] = inc["category"]
    inc["count"] = inc["count"].astype("Int64")
    inc["section_id"] = inc["section_id"].astype("string")
    inc["lon"], inc["lat"] = np.nan, np.nan
    inc["row"] = range(1, len(inc) + 1)
    data.incidents = inc

    class Source:
        def fingerprint(self) -> str:
            return name

        def load(self) -> Dataset:
            return data

    return Source()


def run_on(source, page: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = source
    at.session_state["lang"] = "en"
    at.run()
    for key, value in state.items():
        at.session_state[key] = value
    if page:
        at.switch_page(page)
    at.run()
    ok(at)
    return at


def test_headlines_and_map_are_protected_together(public, drawn):
    # S1: 2 fatal, 10 injury, 30 damage, 40 thefts, 6 tickets: the map shows S1's 82 (all but tickets)
    spec = [("S1", "accident_fatal", 1, 2), ("S1", "accident_fatal", 1, 3), ("S1", "accident_injury", 10, 4)]
    spec += [("S1", "accident_damage", 30, 5), ("S1", "theft", 40, 6), ("S1", "traffic_ticket", 6, 7)]
    spec += [(s, "theft", 20, 8) for s in ("S2", "S3", "S4", "S5")]
    at = run_on(march(spec, "p-r1"), region="Prishtinë", municipality="Prishtinë", section="S1")
    shown = {m.label: m.value for m in at.metric}
    assert shown["With fatalities"] == "fewer than 5"
    # the figure withheld with it is one the map's 82 also counts (tickets would not hide the 2)
    assert shown["With injuries"] == "withheld" and shown["Traffic tickets"] == "6"
    assert section_features(drawn[-1])["S1"]["t2"] == "82"


def test_a_total_that_would_give_counts_back_is_withheld(public, drawn):
    # region Ferizaj: S6 and S7 with 4 thefts each; its crimes (8) would make both exactly 4
    spec = [("S6", "theft", 4, 3), ("S7", "theft", 4, 4)] + [(s, "theft", 20, 8) for s in ("S1", "S2", "S3")]
    at = run_on(march(spec, "p-r4"), region="Ferizaj")
    feats = section_features(drawn[-1])
    assert feats["S6"]["t2"] == feats["S7"]["t2"] == "fewer than 5"
    assert {m.label: m.value for m in at.metric}["Crimes"] == "withheld"


def test_the_trust_page_shows_no_incident_figures_in_public(public):
    # municipality and region rows, 2024 and 2024-Q1: one figure minus another would give counts back
    at = run_on(SensitiveSource(), "views/trust.py")
    table = next(df.value for df in at.dataframe if "Trust (%)" in df.value.columns)
    assert not {"Incidents", "Incidents per 1,000 a year", "Days of incident data"} & set(table.columns)
    assert "incident figures are not shown" in texts(at)


def test_the_trust_page_shows_incident_figures_when_restricted():
    at = run_on(SensitiveSource(), "views/trust.py")
    table = next(df.value for df in at.dataframe if "Trust (%)" in df.value.columns)
    assert {"Incidents", "Incidents per 1,000 a year"} <= set(table.columns)


def test_a_chosen_section_withholds_the_headlines_its_map_figure_withholds(public, drawn):
    # damage-only accidents: S1 7 (withheld with S2's 2), S2 2, S3 20, S4 20
    spec = [("S1", "accident_damage", 7, 3), ("S2", "accident_damage", 2, 4)]
    spec += [("S3", "accident_damage", 20, 5), ("S4", "accident_damage", 20, 6)]
    at = run_on(march(spec, "p-b"), region="Prishtinë", municipality="Prishtinë", section="S1")
    assert section_features(drawn[-1])["S1"]["t2"] == "withheld"
    assert {m.label: m.value for m in at.metric}["Damage only"] == "withheld"


def test_chosen_categories_are_matched_to_the_headlines_without_the_sensitive_ones(public, drawn):
    spec = [("S1", "accident_fatal", 1, 2), ("S1", "accident_fatal", 1, 3), ("S1", "accident_injury", 10, 4)]
    spec += [("S1", "accident_damage", 30, 5), ("S1", "theft", 40, 6), ("S1", "traffic_ticket", 6, 7)]
    spec += [(s, "theft", 20, 8) for s in ("S2", "S3", "S4", "S5")]
    offered = [c for c in figures.CATEGORY_CODES if c not in PublicPolicy().sensitive and c != "traffic_ticket"]
    at = run_on(march(spec, "p-a"), region="Prishtinë", municipality="Prishtinë", section="S1", categories=offered)
    shown = {m.label: m.value for m in at.metric}
    assert shown["With fatalities"] == "fewer than 5" and shown["With injuries"] == "withheld"


def test_wrong_sensitive_settings_show_nothing(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.setenv("DASHBOARD_PUBLIC_SENSITIVE", "domestic_violence,sexual_offense")  # a typo
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = SensitiveSource()
    at.run()
    assert at.error and "sexual_offense" in at.error[0].value
    assert not at.metric and not at.dataframe and "ctx" not in at.session_state


def test_a_public_demo_does_not_invite_uploads(public, monkeypatch):
    from geo.source import demo_source

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = demo_source()
    at.session_state["lang"] = "en"
    at.run()
    ok(at)
    notice = next(m.value for m in at.markdown if "Demo data" in m.value)  # one line under the marking
    assert "load your own files" not in notice


def test_one_area_minus_another_gives_no_small_count_back(public):
    # Ferizaj's S6 and S7 have 4 thefts each; Prishtinë's sections 20 each
    spec = [("S6", "theft", 4, 3), ("S7", "theft", 4, 4)] + [
        (s, "theft", 20, 8) for s in ("S1", "S2", "S3", "S4", "S5")
    ]
    source = march(spec, "p-f")
    crimes = {}
    for region in ("", "Prishtinë", "Ferizaj"):
        at = run_on(source, region=region, municipality="")
        crimes[region] = {m.label: m.value for m in at.metric}["Crimes"]
    shown = [v for v in crimes.values() if v.isdigit()]
    # Kosovo (108) and Prishtinë (100) side by side would give Ferizaj's 8, and with it 4 and 4
    assert crimes["Ferizaj"] == "withheld" and len(shown) <= 1, crimes


def test_the_brief_withholds_the_same_headline_figures_as_the_overview(public):
    from geo import brief

    spec = [("S1", "accident_fatal", 1, 2), ("S1", "accident_fatal", 1, 3), ("S1", "accident_injury", 10, 4)]
    spec += [("S1", "accident_damage", 30, 5), ("S1", "theft", 40, 6), ("S1", "traffic_ticket", 6, 7)]
    spec += [(s, "theft", 20, 8) for s in ("S2", "S3", "S4")]
    source = march(spec, "p-d")
    at = run_on(source, region="Prishtinë", municipality="Prishtinë")
    overview = {m.label: m.value for m in at.metric}
    data = source.load()
    content = brief.brief_content(
        data, figures.default_period(data.data_as_of), lang="en", municipality="Prishtinë", policy=PublicPolicy()
    )
    printed = {row[0]: row[1] for row in content.headlines}
    pairs = [
        ("With fatalities", "Accidents with fatalities"),
        ("With injuries", "Accidents with injuries"),
        ("Damage only", "Accidents, damage only"),
        ("Traffic tickets", "Traffic tickets"),
        ("Crimes", "Crimes"),
    ]
    assert [overview[a] for a, _b in pairs] == [printed[b] for _a, b in pairs]
    assert "withheld" in [printed[b] for _a, b in pairs]
