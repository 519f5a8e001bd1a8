"""The Overview's figures, the search box, exports and uploads, on a tiny hand-made dataset."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import tiny_dataset

from geo import exports, figures, uploads
from geo.figures import Filters, Period
from geo.loader import LoadOptions
from geo.source import FileSource

MARCH = Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("as_of", "start", "end"),
    [
        ("2024-04-01 00:00", "2024-03-01", "2024-03-31"),  # April just started: March is the last full month
        ("2024-03-31 23:59", "2024-03-01", "2024-03-31"),  # March is complete
        ("2024-03-30", "2024-02-01", "2024-02-29"),  # March is not: February (leap year)
        ("2024-01-15", "2023-12-01", "2023-12-31"),  # across a year
    ],
)
def test_default_period_is_the_last_full_month(as_of, start, end):
    p = figures.default_period(pd.Timestamp(as_of))
    assert (p.start, p.end) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_default_period_without_data_uses_today():
    p = figures.default_period(None, today=dt.date(2024, 5, 10))
    assert (p.start, p.end) == (dt.date(2024, 4, 1), dt.date(2024, 4, 30))


def test_previous_of_whole_months_is_the_calendar_months_before():
    assert MARCH.previous() == Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))  # February, not 30 Jan – 29 Feb
    q2 = Period(dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    assert q2.previous() == Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    year = Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert year.previous() == Period(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    january = Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert january.previous() == Period(dt.date(2024, 12, 1), dt.date(2024, 12, 31))


def test_previous_period_of_other_days_has_the_same_length():
    days = Period(dt.date(2024, 3, 2), dt.date(2024, 3, 31))
    prev = days.previous()
    assert prev.days == days.days == 30
    assert prev.end == dt.date(2024, 3, 1) and prev.start == dt.date(2024, 2, 1)
    one = Period(dt.date(2024, 3, 18), dt.date(2024, 3, 18)).previous()
    assert one.start == one.end == dt.date(2024, 3, 17)
    with pytest.raises(ValueError, match="ends on or after its start"):
        Period(dt.date(2024, 3, 2), dt.date(2024, 3, 1))


def test_period_includes_its_whole_last_day():
    when = pd.Series(
        pd.to_datetime(["2024-02-29 23:59:00", "2024-03-01 00:00:00", "2024-03-31 23:59:59", "2024-04-01 00:00:00"])
    )
    assert MARCH.mask(when).tolist() == [False, True, True, False]


# ---------------------------------------------------------------- incidents


def test_incident_counts_sum_count_and_skip_records_outside_sections(data):
    c = figures.incident_counts(data.incidents, MARCH)
    assert c.to_dict() == {"S1": 3, "S2": 16, "S3": 1, "S6": 1}  # S2: 14 tickets in one record; I14 outside
    assert figures.incident_counts(data.incidents, MARCH, ["theft"]).to_dict() == {"S1": 2}
    only = figures.incident_counts(data.incidents, MARCH, section_ids=pd.Index(["S2"]))
    assert only.to_dict() == {"S2": 16}


def test_section_measures(data):
    m = figures.section_measures(data.sections, data.incidents, MARCH)
    assert list(m.index) == list(data.sections["section_id"])
    assert m.loc["S1", "count"] == 3 and m.loc["S1", "previous"] == 1 and m.loc["S1", "change"] == 2
    assert m.loc["S2", "rate"] == pytest.approx(16 / 8000 * 1000)
    assert m.loc["S3", "change"] == -1
    assert pd.isna(m.loc["S7", "rate"]) and m.loc["S7", "count"] == 0  # no population: no rate
    crimes = figures.section_measures(data.sections, data.incidents, MARCH, ("theft", "assault"))
    assert crimes["count"].sum() == 3


def test_headlines(data):
    h = figures.headlines(data.incidents, data.concerns, data.committees, data.sections, Filters(), MARCH)
    assert list(h) == list(figures.HEADLINES)
    got = {k: (v.current, v.previous) for k, v in h.items()}
    assert got == {
        "accident_fatal": (1, 0),
        "accident_injury": (1, 0),
        "accident_damage": (1, 1),
        "traffic_ticket": (14, 5),
        "crimes": (4, 3),  # March: theft×2, assault, burglary (S6); Feb: theft, burglary, drugs
        "open_concerns": (2, 2),  # 31 Mar: C1, C3 open; 29 Feb: C1, C2 (resolved 5 Mar); C5 resolved, no date
        "active_committees": (3, 2),  # K3 set up 15 Mar; K4 inactive
    }
    assert h["traffic_ticket"].change == 9


def test_headlines_follow_the_area(data):
    h = figures.headlines(
        data.incidents, data.concerns, data.committees, data.sections, Filters(municipality="Ferizaj"), MARCH
    )
    assert h["crimes"].current == 1 and h["traffic_ticket"].current == 0
    assert h["active_committees"].current == 1  # K3 (K4 inactive)
    h = figures.headlines(data.incidents, data.concerns, data.committees, data.sections, Filters(section="S2"), MARCH)
    assert h["traffic_ticket"].current == 14
    assert h["open_concerns"].current == 1  # C3
    assert h["active_committees"].current == 2  # K1 lists S2; K2 is Prishtinë's MCPS with no list
    h = figures.headlines(
        data.incidents, data.concerns, data.committees, data.sections, Filters(region="Ferizaj"), MARCH
    )
    assert h["active_committees"].current == 1


def test_figures_never_modify_the_shared_tables(data):
    before = {n: pd.util.hash_pandas_object(getattr(data, n).astype(str)).sum() for n in ("incidents", "concerns")}
    sec_before = data.sections.drop(columns="geometry").astype(str).copy()
    figures.section_measures(data.sections, data.incidents, MARCH)
    figures.headlines(data.incidents, data.concerns, data.committees, data.sections, Filters(section="S1"), MARCH)
    figures.joined_records(data.incidents, data.sections)
    figures.select_sections(data.sections, Filters(region="Ferizaj"))
    after = {n: pd.util.hash_pandas_object(getattr(data, n).astype(str)).sum() for n in ("incidents", "concerns")}
    assert before == after
    pd.testing.assert_frame_equal(sec_before, data.sections.drop(columns="geometry").astype(str))


# ---------------------------------------------------------------- filters and search


def test_cascading_choices(data):
    assert figures.regions_in(data.sections) == ["Prishtinë", "Ferizaj"]  # official order
    assert figures.municipalities_in(data.sections, "Prishtinë") == ["Fushë Kosovë", "Prishtinë"]
    assert list(figures.sections_in(data.sections, municipality="Ferizaj")["section_id"]) == ["S6", "S7"]
    assert len(figures.select_sections(data.sections, Filters(region="Prishtinë"))) == 5
    assert figures.Filters(municipality="Ferizaj").area_level == "municipality"


@pytest.mark.parametrize(
    ("query", "ids", "matched"),
    [
        ("fushe", ["S5"], "Fushë Kosovë Qendër"),  # no diacritics needed
        ("LAKRI", ["S3"], "Lakrishte"),  # a village
        ("nerodime", ["S6"], "Nerodime"),
        ("q", [], None),  # too short
        ("zzz", [], None),
    ],
)
def test_search_by_section_or_village(data, query, ids, matched):
    found = figures.search_sections(data.sections, query)
    assert list(found["section_id"]) == ids
    if matched:
        assert found["matched"].iloc[0] == matched


def test_search_puts_name_matches_first(data):
    found = figures.search_sections(data.sections, "arber")
    assert found["section_id"].tolist() == ["S3"]  # name and village both match: one row


# ---------------------------------------------------------------- records outside, exports


def test_outside_records(data):
    out = figures.outside_records(data.incidents)
    assert out["incident_id"].tolist() == ["I14"]
    assert figures.outside_records(data.incidents.iloc[0:0]).empty


def test_csv_export_has_bom_joined_columns_and_no_restricted_text(data):
    raw = exports.joined_csv(data.incidents, data.sections)
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert {"section_name", "municipality", "region"} <= set(frame.columns)
    assert "Arbëria" in frame["section_name"].tolist()
    concerns = data.concerns.assign(description="secret", description_public=[True, False, False, False, False])
    out = pd.read_csv(io.BytesIO(exports.joined_csv(concerns, data.sections, concerns=True)), encoding="utf-8-sig")
    assert out["description"].tolist()[0] == "secret" and out["description"].isna().sum() == 4


def test_geojson_export_hides_officers_unless_public(data):
    gj = json.loads(exports.sections_geojson(data.sections))
    assert len(gj["features"]) == 7
    props = {f["properties"]["section_id"]: f["properties"] for f in gj["features"]}
    assert props["S1"]["officers"] == []  # officers_public is false
    assert props["S3"]["villages"] == ["Arbëria", "Lakrishte"]
    public = data.sections.assign(officers_public=True)
    gj = json.loads(exports.sections_geojson(public))
    assert gj["features"][0]["properties"]["officers"] == ["Arben K."]


def test_problems_csv(data):
    frame = pd.read_csv(io.BytesIO(exports.problems_csv(data.report)), encoding="utf-8-sig")
    assert frame.loc[0, "code"] == "bad_date" and frame.loc[0, "row"] == 16 and frame.loc[0, "field"] == "occurred_at"


# ---------------------------------------------------------------- uploads


def test_safe_names():
    assert uploads.safe_name("../../etc/passwd") == "passwd"
    assert uploads.safe_name("C:\\Users\\x\\Incidentet (Prishtinë).csv") == "Incidentet_Prishtine_.csv"
    assert uploads.safe_name("...") == "upload"


def test_save_upload_replaces_previous(tmp_path):
    a = uploads.save_upload(tmp_path, "incidents", "a.csv", b"x")
    b = uploads.save_upload(tmp_path, "incidents", "b.csv", b"y")
    assert not a.exists() and b.read_bytes() == b"y" and b.parent == tmp_path / "incidents"
    with pytest.raises(ValueError, match="unknown input"):
        uploads.save_upload(tmp_path, "weather", "w.csv", b"")


def test_guess_columns_like_the_loader():
    got = uploads.guess_columns("incidents", ["Data", "Kategoria", "Latitude", "LNG", "extra"])
    assert got == {"occurred_at": "Data", "category": "Kategoria", "lat": "Latitude", "lon": "LNG"}


def test_read_columns_and_values(tmp_path):
    p = tmp_path / "inc.csv"
    p.write_text("datum;kategorija;lat;lon\n2024-03-01;Krađa;42.6;21.1\n2024-03-02;Bicikl;42.6;21.1\n", "utf-8")
    cols, why = uploads.read_columns(p, "incidents")
    assert cols == ["datum", "kategorija", "lat", "lon"] and why == ""
    labels = uploads.distinct_values(p, "incidents", "kategorija")
    assert sorted(labels) == ["Bicikl", "Krađa"]
    assert uploads.unknown_labels("incidents", "category", labels) == ["Bicikl"]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK")
    cols, why = uploads.read_columns(bad, "incidents")
    assert cols == [] and why


def test_own_data_round_trip(tmp_path):
    src_dir = tmp_path / "in"
    src_dir.mkdir()
    (src_dir / "s.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (src_dir / "i.csv").write_text("a\n1\n")
    opts = LoadOptions(columns={"incidents": {"occurred_at": "a"}}, values={"incidents": {"category": {"X": "theft"}}})
    source = FileSource({"sections": src_dir / "s.geojson", "incidents": src_dir / "i.csv"}, opts)
    # an options.json as an administrator (or an earlier version's save) writes it, read back
    own = src_dir
    files = {"sections": "s.geojson", "incidents": "i.csv"}
    meta = {"files": files, "options": uploads.options_to_dict(source.options)}
    (own / "options.json").write_text(json.dumps(meta))
    back = uploads.own_source(own)
    assert back is not None and back.options == opts
    assert sorted(p.name for p in back.paths.values()) == ["i.csv", "s.geojson"]
    assert uploads.own_source(tmp_path / "nothing") is None
    (own / "options.json").write_text("{not json")
    assert uploads.own_source(own) is None
    assert "options.json is not valid JSON" in uploads.own_data(own).problem


# ---------------------------------------------------------------- honest comparisons, categories, time


def test_year_earlier_and_coverage():
    assert MARCH.year_earlier() == Period(dt.date(2023, 3, 1), dt.date(2023, 3, 31))
    leap = Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29)).year_earlier()
    assert leap == Period(dt.date(2023, 2, 1), dt.date(2023, 2, 28))
    # data from 3 Feb: the previous period (30 Jan – 29 Feb) is covered on more than half its days
    assert MARCH.previous().covered_by(pd.Timestamp("2024-02-03"), pd.Timestamp("2024-04-01"))
    assert not MARCH.previous().covered_by(pd.Timestamp("2024-02-20"), pd.Timestamp("2024-04-01"))
    assert not MARCH.covered_by(None, None)


def test_section_measures_compare_honestly(data):
    from scipy import stats

    m = figures.section_measures(data.sections, data.incidents, MARCH)
    # S2: 16 now (14 tickets in one record) in 31 days against 6 in the 27 days of the previous period the data
    # covers (it starts on 3 February): exact test, current | 22 ~ Binomial(22, 31/58); +167 % but p = 0.11
    q = 31 / (31 + 27)
    assert m.loc["S2", "p"] == pytest.approx(min(1, 2 * min(stats.binom.sf(15, 22, q), stats.binom.cdf(16, 22, q))))
    assert m.loc["S2", "direction"] == 1 and m.loc["S2", "flag"] == "no_change"
    assert m.loc["S1", "flag"] == "no_change"  # 3 against 1: +200 %, but not more than chance
    # many sections at once: the flags come from p-values adjusted across them (never smaller)
    assert (m["p_fdr"].dropna() >= m["p"].dropna() - 1e-12).all()
    assert m.loc["S4", "flag"] == "no_comparison"  # 0 against 0
    # the data does not reach March 2023: no comparison rather than a comparison with zeros
    assert m["year_earlier"].isna().all() and set(m["flag_year"]) == {"no_comparison"}


def test_covered_days():
    assert MARCH.covered_days(pd.Timestamp("2024-03-10 14:00"), pd.Timestamp("2024-06-01")) == 22
    assert MARCH.previous().covered_days(pd.Timestamp("2024-02-03"), pd.Timestamp("2024-04-01")) == 27
    assert MARCH.covered_days(pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")) == 0
    assert MARCH.covered_days(None, None) == 0


def test_headlines_are_flagged_by_the_exact_test(data):
    from scipy import stats

    h = figures.headlines(data.incidents, data.concerns, data.committees, data.sections, Filters(), MARCH)
    tickets = h["traffic_ticket"]  # 14 in 31 days against 5 in the 27 days covered
    assert (tickets.days, tickets.previous_days) == (31, 27)
    p, flag = tickets.test("previous")
    assert p == pytest.approx(2 * stats.binom.sf(13, 19, 31 / 58)) and flag == "no_change"
    assert h["crimes"].test("previous")[1] == "no_change"  # 4 against 3
    assert h["crimes"].year_earlier is None and h["crimes"].test("year_earlier") == (
        pytest.approx(np.nan, nan_ok=True),
        "no_comparison",
    )
    assert h["active_committees"].year_earlier == 2  # the register always covers the past
    with pytest.raises(ValueError, match="against"):
        h["crimes"].test("last week")


def test_default_categories_leave_out_traffic_tickets():
    assert "traffic_ticket" not in figures.DEFAULT_CATEGORIES
    assert len(figures.DEFAULT_CATEGORIES) == len(figures.CATEGORY_CODES) - 1
    assert Filters().incident_categories == figures.DEFAULT_CATEGORIES
    assert Filters(categories=("traffic_ticket",)).incident_categories == ("traffic_ticket",)


def test_aggregated_rows_stay_out_of_the_time_of_day(data):
    agg = figures.is_aggregated(data.incidents)
    assert data.incidents.loc[agg, "incident_id"].tolist() == ["I6", "I10"]  # ticket rows with counts 14 and 5
    one_ticket = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2024-03-01 00:00", "2024-03-01 00:00"]),
            "category": ["traffic_ticket", "theft"],
            "count": [1, 1],
        }
    )
    assert figures.is_aggregated(one_ticket).tolist() == [True, False]  # a ticket dated midnight has no time
    hours = figures.hour_of_day(data.incidents, MARCH)
    assert hours.sum() == 7 and hours[8] == 3 and hours[10] == 1 and hours[23] == 2 and len(hours) == 24


def test_monthly_counts_and_months(data):
    months = figures.monthly_counts(
        data.incidents, Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31)), ("theft", "burglary")
    )
    assert list(months.index.month) == [1, 2, 3] and list(months.columns) == ["theft", "burglary"]
    assert months.loc["2024-03-01", "theft"] == 2 and months.loc["2024-01-01"].sum() == 0
    assert figures.monthly_counts(data.incidents, Period(dt.date(2020, 1, 1), dt.date(2020, 2, 1))).empty
    assert figures.full_months(pd.Timestamp("2024-02-03"), pd.Timestamp("2024-04-01")) == [dt.date(2024, 3, 1)]
    assert figures.full_months(None, None) == []
    assert figures.months_period(dt.date(2024, 1, 15), 2) == Period(dt.date(2024, 1, 1), dt.date(2024, 2, 29))


def test_located_incidents_and_counts_by_category(data):
    points, unlocated = figures.located_incidents(data.incidents, MARCH)
    assert len(points) == 8 and unlocated == 0  # I14 lies outside every section
    table = figures.counts_by_category(data.incidents, MARCH)
    assert table.loc["S2", "traffic_ticket"] == 14 and table.loc["S1", "theft"] == 2
    no_xy = data.incidents.assign(lon=np.nan)
    points, unlocated = figures.located_incidents(no_xy, MARCH, ("traffic_ticket",))
    assert points.empty and unlocated == 14


def test_neighbours_of_a_section(data):
    assert figures.neighbours_of(data.sections, "S1") == ["S2", "S3", "S4", "S5"]  # S4 touches at a corner
    assert figures.neighbours_of(data.sections, "S6") == ["S7"]
    assert figures.neighbours_of(data.sections, "nope") == []
    assert figures.area_population(data.sections.iloc[:2]) == 20000
    assert np.isnan(figures.area_population(data.sections))  # S7 has no population
