"""python -m geo map: the overview map as one HTML file that works offline."""

import json
import re

import pytest
from dashboard_fixtures import public_policy

from geo import figures
from geo.cli import main


def features(html: str) -> list[dict]:
    """The section features' properties embedded in the page."""
    props = [json.loads("{" + m + "}") for m in re.findall(r'"properties": \{(.*?)\}(?=, "type")', html)]
    return [p for p in props if "section_id" in p]


def test_municipality_map_is_standalone(tmp_path, capsys, demo):
    out = tmp_path / "m.html"
    assert main(["map", "--municipality", "Priština", "--lang", "sr", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    # Leaflet is inside the file: no script or stylesheet is fetched from anywhere
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert "L.map(" in page or "L.Map" in page
    ids = {f["section_id"] for f in features(page)}
    expected = set(demo.sections.loc[demo.sections["municipality"] == "Prishtinë", "section_id"])
    assert ids == expected
    assert "RESTRICTED" in page and "stanovnika" in page  # marked, and in Serbian


def test_public_map_leaves_small_counts_uncoloured(tmp_path, capsys, demo):
    out = tmp_path / "m.html"
    assert main(["map", "--public", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "PUBLIC" in page
    period = figures.default_period(demo.data_as_of)
    policy = public_policy()
    cats = policy.categories(figures.DEFAULT_CATEGORIES)
    m = figures.section_measures(demo.sections, policy.apply(demo).cube, period, cats)  # the published counts
    small = set(m.index[m["count"].map(policy.is_small)])
    assert small, "the demo should have some sections with small counts"
    by_id = {f["section_id"]: f for f in features(page)}
    for sid in small:
        assert by_id[sid]["nd"] is True  # drawn as "no data", not coloured
    assert not any(by_id[sid]["nd"] for sid in m.index[m["count"] >= policy.min_count])  # the others are


@pytest.mark.parametrize("args", [["--out", "m.pdf"], ["--municipality", "Atlantis", "--out", "m.html"]])
def test_usage_errors_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["map", *args])
    assert exc.value.code == 2
