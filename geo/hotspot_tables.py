"""The Hotspots page's decisions, texts and tables: the area analysed, when the permutation check runs, the
map's fills and tooltips, the check's table, the list of hot and cold spots and the prediction test's table.

Each function takes the translator ``_`` (:class:`geo.i18n.Translator`) where it writes text; the page
only lays out what these return.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from geo import figures, hotspots, maps

#: Gi*'s hot-spot labels, strongest first.
HOT = (hotspots.HOT_99, hotspots.HOT_95, hotspots.HOT_90)


def analysed_area(region: str, municipality: str, chosen: pd.Series | None) -> tuple[str, str]:
    """The region and municipality analysed: the chosen ones; a chosen section is analysed within its municipality."""
    if chosen is not None and not municipality:
        return str(chosen["region"]), str(chosen["municipality"])
    return region, municipality


def analysis_error(exc: ValueError, _) -> str:
    """What to tell the user when the analysis refused its input."""
    text = str(exc)
    if "cells" in text:
        return _("Too many grid cells for this area: choose larger cells or a smaller area.")
    if "population" in text:
        return _("Rates per 1,000 residents need the population of every unit; some have none. Use counts.")
    return _("The analysis could not be run: {error}", error=text)


def check_runs(units: str, kind: str, result: pd.DataFrame | None, requested: bool) -> tuple[bool, bool]:
    """Whether the permutation check is too big to offer, and whether it runs now.

    Sections with queen neighbours take under half a second at 2,000 sections (bench/): run at once;
    distance bands and grid cells can take seconds: only when ``requested``. More than
    :data:`geo.hotspots.MAX_CHECK_CELLS` grid cells are never checked.
    """
    too_big = units == "grid" and result is not None and len(result) > hotspots.MAX_CHECK_CELLS
    now = result is not None and not too_big and ((units == "sections" and kind == "queen") or requested)
    return too_big, now


def small_p(p: float, _) -> str:
    """A small probability with two significant digits (0.00025)."""
    return _.number(p, decimals=max(3, 1 - math.floor(math.log10(p)))) if p > 0 else _.number(0)


def number(v, _, decimals: int = 0) -> str:
    """A number in the local format, "–" when missing."""
    return _.number(v, decimals=decimals) if pd.notna(v) else "–"


@dataclass(frozen=True)
class UnitTexts:
    """How a unit's values are written: ``kinds`` says, in the public version, which sections' counts show
    as "fewer than N" (:func:`geo.analysis.public_measures`' ``count_withheld``; empty when restricted)."""

    _: object
    policy: object = None
    kinds: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))

    def withheld(self, unit: str) -> bool:
        """Public version: the unit's count shows as "fewer than N", and it has no rate."""
        return bool(self.kinds.get(unit, ""))

    def count(self, unit: str, count) -> str:
        kind = self.kinds.get(unit, "")
        return self.policy.texts(self._)[kind] if kind else number(count, self._)

    def label(self, code: str) -> str:
        return self._.label("hotspot", code)


def legend_entries(labels: pd.Series, overlay_shown: bool, _) -> list[tuple[str, str]]:
    """The Gi* legend: the labels present (with "not significant" only when no density surface is under it)."""
    present = set(labels)
    return [
        (hotspots.LABEL_COLOURS[lbl], _.label("hotspot", lbl))
        for lbl in hotspots.LABELS
        if (lbl in present and lbl != hotspots.NOT_SIGNIFICANT)
        or (lbl == hotspots.NOT_SIGNIFICANT and not overlay_shown)
    ]


def section_layers(
    sections: pd.DataFrame,
    by_section: pd.DataFrame | None,
    show_gi: bool,
    overlay_shown: bool,
    measure: str,
    texts: UnitTexts,
) -> tuple[list[str | None], list[str]]:
    """Each section's fill colour (``None``: not filled) and tooltip, in the order of ``sections``."""
    _ = texts._
    fills, tips = [], []
    for sid, rec in zip(sections["section_id"], sections.itertuples(index=False), strict=True):
        row = by_section.loc[sid] if by_section is not None and sid in by_section.index else None
        fill = None
        if row is not None and show_gi:
            if row["label"] != hotspots.NOT_SIGNIFICANT:
                fill = hotspots.LABEL_COLOURS[row["label"]]
            elif not overlay_shown:
                fill = hotspots.LABEL_COLOURS[hotspots.NOT_SIGNIFICANT]
        fills.append(fill)
        lines = []
        if row is not None:
            lines = [
                (_("Incidents"), texts.count(sid, row["count"])),
                (
                    _("Per 1,000 residents"),
                    number(row["value"], _, 2) if measure == "rate" and not texts.withheld(sid) else "–",
                ),
                *([("Gi* z", number(row["z"], _, 2))] if texts.policy is None else []),
                (_("Result"), texts.label(row["label"])),
            ]
            if "label_sim" in row.index:
                lines.append((_("Permutation check"), texts.label(row["label_sim"])))
        tips.append(maps.tip_html(str(rec.section_name), _.municipality(rec.municipality), lines))
    return fills, tips


def cell_layers(cells, result: pd.DataFrame, texts: UnitTexts) -> tuple[object, list[str], list[str]]:
    """The grid cells that are hot or cold spots, with their fill colours and tooltips."""
    _ = texts._
    sig = result["label"] != hotspots.NOT_SIGNIFICANT
    frame = cells.loc[sig.to_numpy()]
    fills = [hotspots.LABEL_COLOURS[lbl] for lbl in result.loc[sig, "label"]]
    tips = [
        maps.tip_html(
            _("Grid cell {id}", id=cid),
            "",
            [
                (_("Incidents"), number(r["count"], _)),
                ("Gi* z", number(r["z"], _, 2)),
                (_("Result"), texts.label(r["label"])),
                *([(_("Permutation check"), texts.label(r["label_sim"]))] if "label_sim" in r.index else []),
            ],
        )
        for cid, r in result.loc[sig].iterrows()
    ]
    return frame, fills, tips


def check_table(result: pd.DataFrame, _) -> pd.DataFrame:
    """How many units got each label from Gi* (normal approximation) and from the permutation check."""
    return pd.DataFrame(
        {
            _("Result"): [_.label("hotspot", lbl) for lbl in hotspots.LABELS],
            _("Normal"): hotspots.label_counts(result["label"]).to_numpy(),
            _("Permutations"): hotspots.label_counts(result["label_sim"]).to_numpy(),
        }
    )


def hot_in_both(result: pd.DataFrame) -> tuple[int, int]:
    """The hot spots that the permutation check confirms, and all of Gi*'s hot spots."""
    hot = result["label"].isin(HOT)
    both = hot & result["label_sim"].isin(HOT)
    return int(both.sum()), int(hot.sum())


def significant(result: pd.DataFrame) -> pd.DataFrame:
    """The hot and cold spots, highest z first."""
    return result[result["label"] != hotspots.NOT_SIGNIFICANT].sort_values("z", ascending=False)


def spots_table(sig: pd.DataFrame, names: pd.DataFrame, units: str, measure: str, texts: UnitTexts) -> pd.DataFrame:
    """The list of hot and cold spots (``sig``, from :func:`significant`), one unit a row.

    ``names`` are the sections indexed by their id (for sections: their name and municipality).
    """
    _ = texts._
    if units == "sections":
        first = {
            _("Police section"): names.reindex(sig.index)["section_name"].astype(str).to_numpy(),
            _("Municipality"): [_.municipality(m) for m in names.reindex(sig.index)["municipality"]],
        }
    else:
        first = {_("Grid cell"): sig.index.astype(str)}
    rate = (
        {
            _("Per 1,000 residents"): [
                "–" if texts.withheld(u) else number(v, _, 2) for u, v in zip(sig.index, sig["value"], strict=True)
            ]
        }
        if measure == "rate"
        else {}
    )
    return pd.DataFrame(
        {
            **first,
            _("Incidents"): [texts.count(u, v) for u, v in zip(sig.index, sig["count"], strict=True)],
            **rate,
            **({"Gi* z": [_.number(v, decimals=2) for v in sig["z"]]} if texts.policy is None else {}),
            _("Result"): [texts.label(v) for v in sig["label"]],
            **({_("Permutation check"): [texts.label(v) for v in sig["label_sim"]]} if "label_sim" in sig else {}),
        }
    )


# ---------------------------------------------------------------- does it predict?


def data_months(incidents: pd.DataFrame) -> list[dt.date]:
    """The first days of the whole months the incidents span (:func:`geo.figures.full_months`)."""
    if not len(incidents):
        return []
    dates = pd.to_datetime(incidents["occurred_at"])
    return figures.full_months(dates.min(), dates.max())


def default_training(months: list[dt.date]) -> tuple[dt.date, dt.date]:
    """The training window offered first: the six whole months before the last one (fewer when there are not)."""
    return months[max(0, len(months) - 7)], months[-2]


def windows(train_from: dt.date, train_to: dt.date, test_months: int) -> tuple[figures.Period, figures.Period]:
    """The training window (whole months ``train_from``..``train_to``) and the ``test_months`` after it."""
    train = figures.Period(train_from, figures.months_period(train_to, 1).end)
    test = figures.months_period(train.end + pd.Timedelta(days=1), test_months)
    return train, test


def prediction_table(outcome: pd.DataFrame, _) -> pd.DataFrame:
    """The prediction test per predictor: sections flagged, share of the area, incidents caught, hit rate, PAI."""
    return pd.DataFrame(
        {
            _("Predictor"): [_.label("predictor", p) for p in outcome.index],
            _("Sections flagged"): [_.number(v) for v in outcome["units"]],
            _("Share of the area"): [_.number(v * 100, decimals=1) + " %" for v in outcome["area_share"]],
            _("Incidents caught"): [_.number(v) for v in outcome["captured"]],
            _("Hit rate"): [number(v * 100, _, 1) + " %" if pd.notna(v) else "–" for v in outcome["hit_rate"]],
            "PAI": [number(v, _, 2) for v in outcome["pai"]],
        }
    )
