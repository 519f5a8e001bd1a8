"""Public-safe mode: what may be shown to a committee meeting, a projector or a printed page.

Chosen by whoever deploys the dashboard (environment variable
``DASHBOARD_PUBLIC=1`` or ``[public] enabled = true`` in
``.streamlit/secrets.toml``), never by a widget. A :class:`PublicPolicy`
turns a :class:`~geo.source.Dataset` into a public one *before* anything is
drawn, so no page, export or command can reach what it removed:

- incidents lose their coordinates (only section aggregates remain);
- sensitive categories (domestic violence, sexual offences by default) are
  removed entirely, so they are in no total;
- concerns lose their coordinates, and their description unless marked public;
- officers' contacts are removed unless the section marks them public;
- nothing is left that shows where a removed record was: the loader's row
  numbers of incidents and concerns go, concerns are numbered 1 … n again in
  an order made of public fields only (date, category, section, …), and a
  meeting's ``concerns_raised`` counts only its public concerns;
- counts below ``min_count`` are shown as "fewer than N" and left out of
  colours and of every total (:func:`suppress`), so they cannot be recovered
  by subtraction;
- only section aggregates are drawn: no density surface and no grid of
  cells, whatever their size. A density surface peaks on an isolated
  incident whatever the bandwidth, and a grid's cells, unlike sections, are
  placed by the data's own extent.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from geo.schema import CONCERN_CATEGORIES, INCIDENT_CATEGORIES
from geo.source import Dataset

#: Categories never shown in public, by default.
SENSITIVE_DEFAULT = ("domestic_violence", "sexual_offence")
#: Concern categories withheld in public with them.
SENSITIVE_CONCERNS_DEFAULT = ("domestic_violence",)


@dataclass(frozen=True)
class PublicPolicy:
    """The public-safe rules (defaults as documented in README)."""

    min_count: int = 5
    sensitive: tuple[str, ...] = SENSITIVE_DEFAULT
    sensitive_concerns: tuple[str, ...] = SENSITIVE_CONCERNS_DEFAULT

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, not {self.min_count!r}")
        known = [t.code for t in INCIDENT_CATEGORIES]
        unknown = [c for c in self.sensitive if c not in known]
        if unknown:  # a typo would make a sensitive category public
            raise ValueError(
                f"sensitive categories {', '.join(map(repr, unknown))} are not incident categories; "
                f"categories are {', '.join(known)}"
            )
        # a concern category with the code of a sensitive incident category is sensitive too
        concern_codes = {t.code for t in CONCERN_CATEGORIES}
        also = tuple(c for c in self.sensitive if c in concern_codes and c not in self.sensitive_concerns)
        if also:
            object.__setattr__(self, "sensitive_concerns", (*self.sensitive_concerns, *also))

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> PublicPolicy | None:
        """The policy from ``DASHBOARD_PUBLIC*`` settings; ``None`` when public mode is off.

        ``DASHBOARD_PUBLIC`` (1/true/yes turns it on), ``DASHBOARD_PUBLIC_MIN_COUNT``,
        ``DASHBOARD_PUBLIC_SENSITIVE`` (comma-separated codes).
        """
        on = str(settings.get("DASHBOARD_PUBLIC", "")).strip().lower() in ("1", "true", "yes", "on", "po", "da")
        if not on:
            return None
        kwargs = {}
        if settings.get("DASHBOARD_PUBLIC_MIN_COUNT"):
            kwargs["min_count"] = int(settings["DASHBOARD_PUBLIC_MIN_COUNT"])
        if settings.get("DASHBOARD_PUBLIC_SENSITIVE"):
            kwargs["sensitive"] = tuple(
                c.strip() for c in settings["DASHBOARD_PUBLIC_SENSITIVE"].split(",") if c.strip()
            )
        return cls(**kwargs)

    @classmethod
    def from_env(cls) -> PublicPolicy | None:
        """From the environment, or else from ``[public]`` in the project's ``.streamlit/secrets.toml`` (the
        file the dashboard reads), so the command line follows a deployment set up either way."""
        return cls.from_settings(deployment_settings())

    @classmethod
    def for_public_version(cls, settings: Mapping[str, str] | None = None) -> PublicPolicy:
        """The rules for a public version made on a restricted deployment: the deployment's thresholds and
        sensitive categories where it sets them, the defaults otherwise."""
        settings = deployment_settings() if settings is None else settings
        policy = cls.from_settings({**settings, "DASHBOARD_PUBLIC": "1"})
        assert policy is not None
        return policy

    # -- data

    def apply(self, data: Dataset) -> Dataset:
        """A public copy of ``data``: nothing restricted is left in it."""
        inc = data.incidents
        keep = [c for c in inc.columns if c not in LOADER_COLUMNS]  # row numbers would show the gaps
        inc = inc.loc[~inc["category"].astype(str).isin(self.sensitive).to_numpy(dtype=bool), keep].copy()
        inc["lon"] = np.nan
        inc["lat"] = np.nan
        for col in ("incident_id", "category_raw"):
            if col in inc:
                inc[col] = pd.NA
        con = data.concerns
        keep = [c for c in con.columns if c not in LOADER_COLUMNS]
        con = con.loc[~con["category"].astype(str).isin(self.sensitive_concerns).to_numpy(dtype=bool), keep].copy()
        con["lon"] = np.nan
        con["lat"] = np.nan
        if "description" in con:
            public = con["description_public"].fillna(False).astype(bool)
            con["description"] = con["description"].where(public, pd.NA)
        con = renumber_concerns(con)
        meetings = public_meetings(data.meetings, con)
        sec = data.sections.copy()
        if "officers" in sec:
            public = sec["officers_public"].fillna(False).astype(bool)
            sec["officers"] = [
                o if p else [strip_contacts(x) for x in (o or [])] for o, p in zip(sec["officers"], public)
            ]
        return replace(data, incidents=inc, concerns=con, sections=sec, meetings=meetings, label=data.label)

    def categories(self, codes) -> tuple[str, ...]:
        """``codes`` without the sensitive categories."""
        return tuple(c for c in codes if c not in self.sensitive)

    def texts(self, _) -> dict[str, str]:
        """What is shown instead of a withheld count, by kind (:data:`SMALL`, :data:`SECONDARY`), translated."""
        return {SMALL: _("fewer than {n}", n=_.number(self.min_count)), SECONDARY: _("withheld")}

    def protect(self, values, groups: Sequence[pd.Series] = ()) -> tuple[pd.Series, bool]:
        """:func:`protect` with this policy's threshold."""
        return protect(values, self.min_count, groups)

    def is_small(self, n: float) -> bool:
        """Whether a single count is withheld (``0 < n < min_count``)."""
        return bool(pd.notna(n) and 0 < n < self.min_count)

    def measures(self, measures: pd.DataFrame, sections: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-section measures (:func:`geo.figures.section_measures`) fit for public view.

        The sections' counts in each period are protected with :func:`protect` (the area's total may be on
        the same page). A withheld count takes every figure made from it: in the period, the rate and both
        changes; the previous period's (or a year earlier's) count, that change. ``count_withheld``,
        ``previous_withheld`` and ``year_earlier_withheld`` hold :data:`SMALL`, :data:`SECONDARY` or ``""``;
        ``_raw_count`` etc. keep the true counts for :meth:`exposed` checks (never to be shown).
        ``sections`` (with ``section_id``, ``municipality``, ``region``): protect each municipality's and
        region's sections as well, since their totals are shown elsewhere (headlines, briefs).
        """
        out = measures.copy()
        groups = []
        if sections is not None:
            keyed = sections.set_index(sections["section_id"].astype(str))
            groups = [keyed[c].astype(str) for c in ("municipality", "region") if c in keyed]
        for col, cols in MEASURES_FROM.items():
            if col not in out:
                continue
            kinds, _total_ok = self.protect(out[col], groups)
            hide = (kinds != "").to_numpy(dtype=bool)
            for c in cols:
                if c in out:
                    numeric = pd.api.types.is_numeric_dtype(out[c])
                    out[c] = out[c].astype("float64" if numeric else object)
                    out[c] = out[c].where(~hide, np.nan if numeric else None)
            out[f"{col}_withheld"] = kinds.to_numpy()
            out[f"_raw_{col}"] = measures[col].to_numpy()  # for checks only: never shown
        return _refdr(out)

    def withhold_all(self, measures: pd.DataFrame, col: str) -> pd.DataFrame:
        """``measures`` (from :meth:`measures`) with every count of ``col`` withheld: for when their total is
        shown and cannot be protected otherwise."""
        out = measures.copy()
        hide = (out[f"{col}_withheld"] == "").to_numpy(dtype=bool) & (out[f"_raw_{col}"] > 0).to_numpy(dtype=bool)
        out.loc[hide, f"{col}_withheld"] = SECONDARY
        for c in MEASURES_FROM[col]:
            if c in out:
                numeric = pd.api.types.is_numeric_dtype(out[c])
                out[c] = out[c].where(~hide, np.nan if numeric else None)
        return _refdr(out)

    def exposed(self, values, kinds) -> bool:
        """Whether showing the total of ``values`` (with ``kinds`` withheld) would give a withheld one back."""
        v = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
        return pinned(v, pd.Series(kinds, index=v.index), self.min_count) and not self.is_small(v.sum())


#: Columns of the loader's bookkeeping that public data does not carry: the record's row in its file (with
#: records removed, the gaps in the numbers would show where they were).
LOADER_COLUMNS = ("row",)
#: The public fields concerns are ordered by before they are numbered again (those present).
CONCERN_ORDER = ("raised_on", "category", "section_id", "source", "status", "resolved_on", "meeting_id")


def renumber_concerns(concerns: pd.DataFrame) -> pd.DataFrame:
    """The public concerns sorted by :data:`CONCERN_ORDER` (date, category, section, …) and numbered
    ``"1"`` … ``"n"`` in that order (a new frame, index 0 … n − 1).

    The file's ids are not kept: with the sensitive concerns removed, the gaps between sequential ids
    (and the ids' neighbours' dates) would show how many there were and when. The order uses public
    fields only, so neither the ids nor the order say anything about a removed concern. Applying it to
    its own result gives the same table.
    """
    out = concerns
    if len(out):
        keys = pd.DataFrame(
            {
                c: out[c].astype(str) if isinstance(out[c].dtype, pd.CategoricalDtype) else out[c]
                for c in CONCERN_ORDER
                if c in out
            },
            index=out.index,
        )
        order = (
            keys.sort_values(list(keys.columns), kind="stable", na_position="last").index
            if len(keys.columns)
            else out.index
        )
        out = out.loc[order]
    out = out.reset_index(drop=True)
    if "concern_id" in out:
        ids = [str(i) for i in range(1, len(out) + 1)]
        out["concern_id"] = pd.array(ids, dtype=out["concern_id"].dtype) if len(out) else out["concern_id"]
    return out


def public_meetings(meetings: pd.DataFrame, public_concerns: pd.DataFrame) -> pd.DataFrame:
    """``meetings`` (a new frame) whose ``concerns_raised`` counts only the public concerns recorded with the
    meeting's id (``meeting_id`` in the concerns).

    The number a meetings file gives may include sensitive concerns; less the public ones, it would point at
    the meetings where they were raised, so it is not shown. When no public concern names a meeting, the
    number is missing (unknown) for every meeting rather than 0.
    """
    out = meetings.drop(columns=[c for c in LOADER_COLUMNS if c in meetings.columns])
    if "concerns_raised" not in out or not len(out):
        return out
    linked = pd.Series(dtype="string")
    if "meeting_id" in public_concerns:
        linked = public_concerns["meeting_id"].astype("string").str.strip()
        linked = linked[linked.notna() & (linked != "")]
    if len(linked):
        counts = linked.value_counts()
        raised = out["meeting_id"].astype(str).map(counts).fillna(0).astype("int64")
        out["concerns_raised"] = pd.array(raised.to_numpy(), dtype="Int64")
    else:
        out["concerns_raised"] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out


def deployment_settings(secrets: Path | None = None) -> dict[str, str]:
    """The ``DASHBOARD_PUBLIC*`` settings: the environment's, else ``[public]`` of ``secrets`` (default: the
    project's ``.streamlit/secrets.toml``; keys ``enabled``, ``min_count``, ``sensitive``)."""
    env = {k: v for k, v in os.environ.items() if k.startswith("DASHBOARD_PUBLIC")}
    if env.get("DASHBOARD_PUBLIC", "").strip():
        return env
    path = secrets if secrets is not None else Path(__file__).resolve().parent.parent / ".streamlit" / "secrets.toml"
    try:
        conf = tomllib.loads(path.read_text(encoding="utf-8")).get("public", {})
    except (OSError, tomllib.TOMLDecodeError):
        return env
    return settings_from_table(conf) | {k: v for k, v in env.items() if v.strip()}


def settings_from_table(conf: Mapping) -> dict[str, str]:
    """``[public]`` of a secrets file (``enabled``, ``min_count``, ``sensitive`` as a list or a string) as
    ``DASHBOARD_PUBLIC*`` settings."""
    sensitive = conf.get("sensitive", "")
    return {
        "DASHBOARD_PUBLIC": str(conf.get("enabled", "")),
        "DASHBOARD_PUBLIC_MIN_COUNT": str(conf.get("min_count", "")),
        "DASHBOARD_PUBLIC_SENSITIVE": ",".join(sensitive) if isinstance(sensitive, (list, tuple)) else str(sensitive),
    }


#: Each count of :func:`geo.figures.section_measures` and the figures made from it (withheld with it).
MEASURES_FROM = {
    "count": (
        "count",
        "rate",
        *("change", "p", "p_fdr", "direction", "flag"),
        *("change_year", "p_year", "p_year_fdr", "direction_year", "flag_year"),
    ),
    "previous": ("previous", "rate_previous", "change", "p", "p_fdr", "direction", "flag"),
    "year_earlier": ("year_earlier", "change_year", "p_year", "p_year_fdr", "direction_year", "flag_year"),
}


def _refdr(measures: pd.DataFrame) -> pd.DataFrame:
    """The false-discovery control of the change flags redone over the comparisons still shown: an adjusted
    p-value depends on every other section's, so withheld ones must not take part (nor show through)."""
    from geo import compare

    for p, flag, sign in (("p", "flag", "direction"), ("p_year", "flag_year", "direction_year")):
        if {p, f"{p}_fdr", flag, sign} <= set(measures.columns):
            shown = measures[flag].notna().to_numpy(dtype=bool)
            adj = compare.adjusted(measures[p].where(shown).to_numpy(dtype=float))
            measures[f"{p}_fdr"] = adj
            flags = compare.flag(adj, pd.to_numeric(measures[sign], errors="coerce").fillna(0).to_numpy())
            measures[flag] = np.where(shown, flags, None)
    return measures


#: Why a count is withheld: below the threshold, or withheld with it so the small one cannot be worked out.
SMALL, SECONDARY = "small", "secondary"


def protect(values, min_count: int, groups: Sequence[pd.Series] = (), seed: Iterable = ()) -> tuple[pd.Series, bool]:
    """Which counts of a set to withhold when the set's total is (or may be) shown: ``(kinds, total_ok)``.

    ``kinds`` is :data:`SMALL` for ``0 < value < min_count``, :data:`SECONDARY` for a count withheld with
    them, ``""`` for a count shown (zeros are shown: a zero reveals nobody). Someone who knows the total,
    the shown counts and this rule knows what the withheld counts add up to, that a small one lies in
    1 … ``min_count`` − 1 and a secondary one is at least ``min_count``. Secondary counts, smallest first,
    are added until that leaves every withheld count more than one possible value.

    ``seed``: labels withheld from the start, whatever their value.

    ``groups``: labels (same index as ``values``) of the parts whose totals may be shown elsewhere, e.g.
    the sections' municipality and region: each part is protected the same way, so a municipality's total
    in a brief cannot give back a count withheld on a national map.

    ``total_ok`` is false when no such set exists for the whole set or one of its parts (two counts of 4
    and nothing else, say): the total shown with these counts must then be withheld too.
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    x = v.fillna(0).to_numpy()
    code = np.where((x > 0) & (x < min_count), 1, 0).astype(np.int8)  # 0 shown, 1 small, 2 secondary
    seeded = v.index.isin(list(seed)) & (code == 0) & (x > 0)  # withheld from the start (totals elsewhere)
    code[seeded] = 2
    parts = [np.arange(len(x))]
    for labels in groups:
        lab = pd.Series(labels).reindex(v.index).to_numpy(dtype=object)
        parts += [np.flatnonzero(lab == g) for g in pd.unique(lab[pd.notna(lab)])]
    changed = True
    while changed:
        changed = False
        for part in parts:
            while _pinned(x[part], code[part], min_count):
                free = part[(code[part] == 0) & (x[part] > 0)]
                if not len(free):
                    break
                code[free[np.argmin(x[free])]] = 2
                changed = True
    exposed = [part for part in parts if _pinned(x[part], code[part], min_count) and not 0 < x[part].sum() < min_count]
    kinds = pd.Series(np.array(["", SMALL, SECONDARY], dtype=object)[code], index=v.index, dtype=object)
    return kinds, not exposed


def protect_areas(section_counts: pd.Series, sections: pd.DataFrame, min_count: int) -> dict[tuple[str, str], str]:
    """Which area totals to withhold, so that one area's total minus others' gives no small one back.

    ``section_counts`` by ``section_id``; ``sections`` with ``section_id``, ``municipality``, ``region``.
    An area whose sections (as every public map withholds them) would give a count back from its total
    starts withheld; municipality totals are then protected within their region and Kosovo, region totals
    within Kosovo (:func:`protect`), and a region whose municipalities cannot be protected has its own total
    withheld. Returns ``{("municipality" | "region", name): kind}`` for the withheld ones only, and
    ``{("all", ""): kind}`` when Kosovo's total must go too.
    """
    keyed = sections.set_index(sections["section_id"].astype(str))
    counts = pd.to_numeric(section_counts, errors="coerce").reindex(keyed.index).fillna(0)
    muni_of, region_of_section = keyed["municipality"].astype(str), keyed["region"].astype(str)
    section_kinds, _ok = protect(counts, min_count, [muni_of, region_of_section])

    x = counts.to_numpy()
    code = np.where(section_kinds == SMALL, 1, np.where(section_kinds == SECONDARY, 2, 0)).astype(np.int8)

    def exposed(mask: np.ndarray) -> bool:
        return _pinned(x[mask], code[mask], min_count) and not 0 < x[mask].sum() < min_count

    munis = counts.groupby(muni_of).sum()
    region_of = keyed.groupby(muni_of)["region"].first().astype(str)
    regions = counts.groupby(region_of_section).sum()
    m_seed = {m for m in munis.index if exposed((muni_of == m).to_numpy())}
    r_seed = {r for r in regions.index if exposed((region_of_section == r).to_numpy())}
    m_kinds, _ok = protect(munis, min_count, [region_of], seed=m_seed)
    r_kinds, r_ok = protect(regions, min_count, seed=r_seed)
    out: dict[tuple[str, str], str] = {("municipality", m): k for m, k in m_kinds.items() if k}
    out |= {("region", r): k for r, k in r_kinds.items() if k}
    for region in regions.index:  # a region's total would give back one of its municipalities'
        inside = (region_of == region).to_numpy(dtype=bool)
        if pinned(munis[inside], m_kinds[inside], min_count) and not 0 < regions[region] < min_count:
            out.setdefault(("region", region), SECONDARY)
    if not r_ok or pinned(munis, m_kinds, min_count) or exposed(np.ones(len(counts), dtype=bool)):
        out[("all", "")] = SECONDARY
    return out


def pinned(values: pd.Series, kinds: pd.Series, min_count: int) -> bool:
    """Whether some withheld count has only one value consistent with the others' sum and the bounds.

    The bounds are what the rule itself tells: a small count is 1 … ``min_count`` − 1; a secondary one is
    at least ``min_count`` and, being chosen smallest first, at most the smallest count still shown.
    """
    k = pd.Series(kinds).to_numpy(dtype=object)
    code = np.where(k == SMALL, 1, np.where(k == SECONDARY, 2, 0)).astype(np.int8)
    return _pinned(pd.to_numeric(pd.Series(values), errors="coerce").fillna(0).to_numpy(), code, min_count)


def _pinned(x: np.ndarray, code: np.ndarray, min_count: int) -> bool:
    """:func:`pinned` on arrays: counts ``x``, ``code`` 0 shown, 1 small, 2 secondary."""
    w = code > 0
    if not w.any():
        return False
    small = code[w] == 1
    total = float(x[w].sum())
    shown = x[~w & (x > 0)]
    cap = min(total, float(shown.min())) if len(shown) else total
    lo = np.where(small, 1.0, float(min_count))
    hi = np.where(small, float(min_count - 1), cap)
    low = np.maximum(lo, total - (hi.sum() - hi))  # the least each can be, the others as large as they may
    high = np.minimum(hi, total - (lo.sum() - lo))
    return bool((high <= low).any())


def strip_contacts(officer: str) -> str:
    """An officer's name without phone numbers or e-mail addresses (also written with [at], dots or brackets)."""
    text = str(officer)
    text = re.sub(r"[\w.+-]+\s*(?:@|\[at\]|\(at\))\s*[\w-]+(?:\.[\w-]+)+", "", text)  # e-mail addresses
    text = re.sub(r"\+?\d[\d\s\-/.()]{5,}\d", "", text)  # phone numbers: spaces, dashes, dots, brackets
    text = re.sub(r"(?i)\b(?:tel|phone|mob|mobile|e-?mail)\b\.?:?", "", text)  # their labels
    text = re.sub(r"[\(\[][\s,;:]*[\)\]]", "", text)  # brackets left empty
    return " ".join(text.split()).strip(" ,;:")


def suppress(values: pd.Series, min_count: int) -> tuple[pd.Series, pd.Series]:
    """Counts with the small ones withheld: ``(shown, suppressed)``.

    ``shown`` has NaN where ``0 < value < min_count`` (zeros are shown: a zero
    reveals nobody). Sum ``shown`` (NaN-skipping) for any total: suppressed
    counts are then in no total and cannot be recovered by subtraction.
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    small = ((v > 0) & (v < min_count)).fillna(False).astype(bool)
    return v.where(~small), small
