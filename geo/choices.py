"""The sidebar's choices, shared by every page: their defaults and what is valid, the public view's period
codes and category groups, and the line on what a period is compared with.

The app (``dashboard.py``) lays out the widgets; what they offer and start with is decided here.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo import figures, places, public
from geo.dataset import Dataset
from geo.i18n import N_, md_escape
from geo.public import PublicPolicy

#: The names of the headline groups that are not single categories (as the Overview calls them).
GROUP_NAMES = {"crimes": N_("Crimes")}


def period_code(period: figures.Period) -> str:
    """A calendar month, quarter or year as a short code: ``2024-03``, ``2024-Q1``, ``2024``."""
    kind = public.period_kind(period)
    if kind == "quarter":
        return f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"
    if kind == "year":
        return str(period.start.year)
    return period.start.strftime("%Y-%m")


def public_periods(data: Dataset, policy: PublicPolicy) -> list[figures.Period]:
    """The periods the public sidebar offers, newest month first: the calendar months, quarters and years
    the incidents cover completely; with none, the last full month before the data's end (or today)."""
    first, last = data.cube.span()
    return policy.periods(first, last) or [figures.default_period(data.data_as_of)]


def offered_periods(data: Dataset, policy: PublicPolicy) -> dict[str, figures.Period]:
    """The public sidebar's periods by their code (:func:`period_code`), newest month first."""
    return {period_code(p): p for p in public_periods(data, policy)}


def default_filters(data: Dataset, policy: PublicPolicy | None) -> dict[str, object]:
    """The sidebar's values for new data: the last full month (in public, the newest month offered), every
    area and category; by session key."""
    period = figures.default_period(data.data_as_of)
    values: dict[str, object] = {"period_start": period.start, "period_end": period.end}
    values.update(dict.fromkeys(("region", "municipality", "section", "search"), ""))
    values["categories"] = []
    if policy is not None:
        values["public_period"] = period_code(public_periods(data, policy)[0])
        values["public_categories"] = ""
    return values


def ordered_period(start: dt.date, end: dt.date) -> tuple[figures.Period, bool]:
    """The period from two dates, and whether they had to be swapped (the end was before the start)."""
    if start > end:
        return figures.Period(end, start), True
    return figures.Period(start, end), False


def municipality_options(sections: pd.DataFrame, region: str, _) -> list[str]:
    """The municipality box's choices: ``""`` (all), then the region's municipalities by their shown name."""
    munis = figures.municipalities_in(sections, region)
    return ["", *sorted(munis, key=lambda m: places.normalize(_.municipality(m)))]


def section_labels(sections: pd.DataFrame) -> dict[str, str]:
    """Each section's name as the section box shows it, by id: with its id when another has the same name."""
    names = dict(zip(sections["section_id"], sections["section_name"], strict=True))
    dupes = set(sections["section_name"][sections["section_name"].duplicated(keep=False)])
    return {s: f"{n} ({s})" if n in dupes else n for s, n in names.items()}


def search_label(rec, _) -> str:
    """A search result as Markdown: the section's name, its municipality unless the name says it, and the
    village that matched (a row of :func:`geo.figures.search_sections`)."""
    label = md_escape(rec.section_name)
    if not places.names_the_municipality(rec.section_name, rec.municipality):  # "Deçan · Deçan" once
        label += f" · {_.municipality(rec.municipality)}"
    if rec.matched != rec.section_name:
        label += " · " + _("village {name}", name=md_escape(rec.matched))
    return label


def valid_categories(chosen: object) -> bool:
    """Whether the kept category choice still names only known incident categories."""
    return set(chosen) <= set(figures.CATEGORY_CODES)


def category_group_name(_, key: str) -> str:
    """What the public sidebar calls a category group (:meth:`PublicPolicy.category_groups`)."""
    if key == "":
        return _("All except traffic tickets")
    if key == "all":
        return _("All categories")
    if key in figures.CATEGORY_CODES:
        return _.term("incident_category", key)
    return _(GROUP_NAMES[key])


def comparison_caption(_, period: figures.Period) -> str:
    """The sidebar's line on what the period is compared with (:meth:`geo.figures.Period.previous`)."""
    prev = period.previous()
    kind = public.period_kind(period)
    name = _.calendar_period(prev.start, prev.end)
    if kind == "month":
        return _("Compared with the previous month: {period}", period=name)
    if kind == "quarter":
        return _("Compared with the previous quarter: {period}", period=name)
    if kind == "year":
        return _("Compared with the previous year: {period}", period=name)
    if public.whole_months(period):
        return _("Compared with the previous {n} months: {period}", n=_.number(len(period.months())), period=name)
    return _("Compared with the previous {days} days: {period}", days=_.number(period.days), period=name)
