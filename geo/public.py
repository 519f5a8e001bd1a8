"""Public-safe mode: what may be shown to a committee meeting, a projector or a printed page.

Chosen by whoever deploys the dashboard (environment variable
``DASHBOARD_PUBLIC=1`` or ``[public] enabled = true`` in
``.streamlit/secrets.toml``), never by a widget. A :class:`PublicPolicy`
turns a :class:`~geo.dataset.Dataset` into a public one *before* anything is
drawn, so no page, export or command can reach what it removed:

- incidents lose their coordinates (only section aggregates remain);
- sensitive categories (domestic violence, sexual offences by default) are
  removed entirely, so they are in no total;
- concerns lose their coordinates, and their description unless marked public.
  Public concerns are records of public meetings, listed one by one on the public pages, so their
  counts are exact (adjusting them would hide nothing a visitor cannot count in the list);
- officers' contacts are removed unless the section marks them public;
- nothing is left that shows where a removed record was: the loader's row
  numbers of incidents and concerns go, concerns are numbered 1 … n again in
  an order made of public fields only (date, category, section, …), and a
  meeting's ``concerns_raised`` counts only its public concerns;
- every incident count is published with **cell-key perturbation** (the
  method of the ONS's and the ABS's table builders): each record has a fixed
  key from an HMAC of the deployment's secret and the record's identity; a
  count's cell key is the sum of its records' keys modulo 256, and a public
  perturbation table (:func:`default_table`, at most ±2, zero stays zero, a
  positive count stays positive) gives its adjustment. The same records give
  the same value on every page, output and day, so two views that differ by a
  few records differ by those records plus noise. Totals are cells of their
  own (:class:`PublishedCube`);
- a published value of 1 … ``min_count`` − 1 shows as "fewer than N"; a true
  zero shows as 0. Nothing else is withheld, so no pattern of withheld counts
  depends on the hidden values;
- the public view offers only calendar months, quarters and years and fixed
  category groups (:meth:`PublicPolicy.category_groups`): with free filters,
  many pairs of views would isolate the same records, each with fresh noise,
  and their average would give the count back;
- only section aggregates are drawn: no density surface and no grid of
  cells, whatever their size. A density surface peaks on an isolated
  incident whatever the bandwidth, and a grid's cells, unlike sections, are
  placed by the data's own extent.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo import settings as config
from geo.cube import IncidentCube
from geo.dataset import Dataset
from geo.schema import CONCERN_CATEGORIES, INCIDENT_CATEGORIES

#: Categories never shown in public, by default.
SENSITIVE_DEFAULT = ("domestic_violence", "sexual_offence")
#: Concern categories withheld in public with them.
SENSITIVE_CONCERNS_DEFAULT = ("domestic_violence",)


class MissingSecret(ValueError):
    """Public mode without the deployment's perturbation secret: nothing public can be published."""


#: How a deployment sets the perturbation secret (named in every message about a missing one).
SECRET_SETTING = "DASHBOARD_PUBLIC_SECRET"
#: The shortest secret accepted (characters): a short one could be guessed, and with it every key.
SECRET_MIN_LENGTH = 16
#: Where a deployment's own perturbation table is named (a CSV in the ONS format: ``pcv, ckey, pvalue``).
PTABLE_SETTING = "DASHBOARD_PUBLIC_PTABLE"


def missing_secret_text(_) -> str:
    """How to set the secret, translated (the public view and every public output say this)."""
    return _(
        "Public figures need the deployment's perturbation secret. Set {setting} in the environment, or "
        "secret under [public] in .streamlit/secrets.toml, to a random text of at least {n} characters "
        '(for example the output of: python -c "import secrets; print(secrets.token_hex(32))").',
        setting=SECRET_SETTING,
        n=SECRET_MIN_LENGTH,
    )


def secret_id(secret: str) -> str:
    """A short fingerprint of the secret: it names the secret in cache keys without giving it away."""
    return hmac.new(secret.encode("utf-8"), b"geo.public secret id", "sha256").hexdigest()[:16]


@dataclass(frozen=True)
class PublicPolicy:
    """The public-safe rules (defaults as documented in README).

    ``secret`` (the deployment's, never in the repository) draws every record's perturbation key;
    ``secret_id`` is its fingerprint (in ``repr`` and equality, so caches keep deployments apart).
    ``ptable``: a perturbation table file in the ONS format, or ``""`` for :func:`default_table`.
    """

    min_count: int = 5
    sensitive: tuple[str, ...] = SENSITIVE_DEFAULT
    sensitive_concerns: tuple[str, ...] = SENSITIVE_CONCERNS_DEFAULT
    secret: str = field(default="", repr=False, compare=False)
    secret_id: str = ""
    ptable: str = ""

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
        if self.secret:
            if len(self.secret) < SECRET_MIN_LENGTH:
                raise ValueError(
                    f"the perturbation secret ({SECRET_SETTING}) must be at least {SECRET_MIN_LENGTH} characters "
                    f"long, not {len(self.secret)}"
                )
            object.__setattr__(self, "secret_id", secret_id(self.secret))
        if self.ptable:
            read_table(self.ptable)  # a wrong table is refused when the policy is made, naming the file and row

    @classmethod
    def from_settings(cls, settings: config.Settings | Mapping[str, str]) -> PublicPolicy | None:
        """The policy from the deployment's :class:`~geo.settings.Settings` (or a mapping of ``DASHBOARD_PUBLIC*``
        settings); ``None`` when public mode is off.

        ``DASHBOARD_PUBLIC`` (1/true/yes turns it on), ``DASHBOARD_PUBLIC_MIN_COUNT``,
        ``DASHBOARD_PUBLIC_SENSITIVE`` (comma-separated codes), ``DASHBOARD_PUBLIC_SECRET``,
        ``DASHBOARD_PUBLIC_PTABLE`` (a file). Without a secret the policy is made (the view can say what
        is missing) but publishes nothing: :meth:`apply` raises :class:`MissingSecret`.
        """
        settings = _as_settings(settings)
        if not settings.public:
            return None
        kwargs: dict = {}
        if settings.public_min_count is not None:
            kwargs["min_count"] = settings.public_min_count
        if settings.public_sensitive is not None:
            kwargs["sensitive"] = settings.public_sensitive
        if settings.public_secret:
            kwargs["secret"] = settings.public_secret
        if settings.public_ptable:
            kwargs["ptable"] = settings.public_ptable
        for name, key in (("DASHBOARD_PUBLIC_SENSITIVE", "sensitive"), (PTABLE_SETTING, "ptable")):
            if key in kwargs:  # a wrong value's message names its setting
                try:
                    cls(**{key: kwargs[key]})
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        return cls(**kwargs)

    @classmethod
    def from_env(cls) -> PublicPolicy | None:
        """From the environment, or else from ``[public]`` in the project's ``.streamlit/secrets.toml`` (the
        file the dashboard reads), so the command line follows a deployment set up either way."""
        return cls.from_settings(deployment_settings())

    @classmethod
    def for_public_version(cls, settings: config.Settings | Mapping[str, str] | None = None) -> PublicPolicy:
        """The rules for a public version made on a restricted deployment: the deployment's thresholds,
        sensitive categories and secret where it sets them, the defaults otherwise."""
        settings = _as_settings(deployment_settings() if settings is None else settings)
        policy = cls.from_settings(replace(settings, values={**settings.values, "DASHBOARD_PUBLIC": "1"}))
        assert policy is not None
        return policy

    @property
    def has_secret(self) -> bool:
        return bool(self.secret)

    def require_secret(self) -> None:
        """Raise :class:`MissingSecret` (with how to set it) when the deployment has set none."""
        if not self.secret:
            raise MissingSecret(
                f"public figures need the deployment's perturbation secret: set {SECRET_SETTING} (or secret "
                f"under [public] in .streamlit/secrets.toml) to a random text of at least {SECRET_MIN_LENGTH} "
                "characters"
            )

    @property
    def table(self) -> PerturbationTable:
        """The perturbation table: the deployment's file, or :func:`default_table`."""
        return read_table(self.ptable) if self.ptable else default_table()

    # -- data

    def apply(self, data: Dataset, reuse: tuple[Dataset, Dataset] | None = None) -> Dataset:
        """A public copy of ``data``: nothing restricted is left in it, and its cube publishes perturbed
        counts (:class:`PublishedCube`). Raises :class:`MissingSecret` without a secret.

        ``reuse``: an earlier ``(data, its public copy)`` made with this policy; when ``data`` has the very
        same incidents (a concern changed, nothing else), their public copy and published cube are kept
        instead of being made again (a million records' keys take seconds)."""
        self.require_secret()
        cube = None
        if reuse is not None and reuse[0].incidents is data.incidents and "cube" in reuse[1].__dict__:
            inc, cube = reuse[1].incidents, reuse[1].cube
        else:
            inc, cube = self._public_incidents(data)
        con = data.concerns
        keep = [c for c in con.columns if c not in LOADER_COLUMNS]
        hidden = con["category"].astype(str).isin(self.sensitive_concerns).to_numpy(dtype=bool)
        con = con.loc[~hidden, keep].copy()
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
        out = replace(data, incidents=inc, concerns=con, sections=sec, meetings=meetings, label=data.label)
        out.__dict__["cube"] = cube
        return out

    def _public_incidents(self, data: Dataset) -> tuple[pd.DataFrame, PublishedCube]:
        """The incidents of the public copy and their published cube."""
        inc = data.incidents
        keys = self._known_keys(data)
        if keys is None:
            keys = record_keys(inc, self.secret)  # from the records' identities, before the ids go
        sensitive = inc["category"].astype(str).isin(self.sensitive).to_numpy(dtype=bool)
        keep = [c for c in inc.columns if c not in LOADER_COLUMNS]  # row numbers would show the gaps
        inc = inc.loc[~sensitive, keep].copy()
        inc["lon"] = np.nan
        inc["lat"] = np.nan
        for col in ("incident_id", "category_raw"):
            if col in inc:
                inc[col] = pd.NA
        return inc, PublishedCube.publish(IncidentCube.build(inc), keys[~sensitive], self)

    def _known_keys(self, data: Dataset) -> np.ndarray | None:
        """The incident keys of ``data`` when it is already a public copy made with this secret, by row.

        Its records have lost the ids and coordinates their keys were drawn from, so drawing them again
        would publish the same records with other values; a public copy given again keeps its own."""
        cube = data.__dict__.get("cube")
        if not isinstance(cube, PublishedCube) or cube.policy is None or cube.policy.secret_id != self.secret_id:
            return None
        keys = np.zeros(len(data.incidents), dtype=np.int64)  # records in no section are in no answer
        keys[cube.record_row] = cube.record_key
        return keys

    def categories(self, codes) -> tuple[str, ...]:
        """``codes`` without the sensitive categories."""
        return tuple(c for c in codes if c not in self.sensitive)

    # -- what the public view may ask for

    def category_groups(self) -> dict[str, tuple[str, ...]]:
        """The category choices of the public view, by key: ``""`` (all but traffic tickets, the default),
        ``"all"`` (every category), each headline group, and each single category, sensitive ones left out
        of all (a group left empty is not offered). Free combinations are not offered: with them, two
        choices that differ by one category would isolate it again and again, with fresh noise each time."""
        from geo import figures

        groups: dict[str, tuple[str, ...]] = {
            "": self.categories(figures.DEFAULT_CATEGORIES),
            "all": self.categories(figures.CATEGORY_CODES),
        }
        for key, codes in figures.HEADLINE_CATEGORIES.items():
            groups.setdefault(key, self.categories(codes))
        for code in self.categories(figures.CATEGORY_CODES):
            groups.setdefault(code, (code,))
        return {k: v for k, v in groups.items() if v}

    def allows_categories(self, codes: Iterable[str]) -> bool:
        """Whether a public figure may be made of these categories (empty: all of the cube's)."""
        wanted = frozenset(self.categories(codes))
        if not wanted and not tuple(codes):
            return True
        return wanted in {frozenset(v) for v in self.category_groups().values()}

    def periods(self, first: object, last: object) -> list:
        """The periods the public view offers, newest first: the calendar months, quarters and years that
        the data from ``first`` to ``last`` covers completely (:func:`public_periods`)."""
        return public_periods(first, last)

    def offered_periods(self, data: Dataset) -> list:
        """The periods a public output of ``data`` may be for, newest first: :meth:`periods` of the span of
        the incidents it publishes (sensitive ones left out), as the dashboard's public sidebar offers them.
        ``data``: a public dataset (:meth:`apply`'s) or the restricted one it is made from."""
        from geo.cube import _datetimes

        cube = data.__dict__.get("cube")
        if isinstance(cube, PublishedCube):
            return self.periods(*cube.span())
        inc = data.incidents
        keep = ~inc["category"].astype(str).isin(self.sensitive).to_numpy(dtype=bool)
        when = _datetimes(inc["occurred_at"][keep]) if keep.any() else np.zeros(0, dtype="datetime64[us]")
        when = when[~np.isnat(when)]
        if not len(when):
            return []
        return self.periods(pd.Timestamp(when.min()), pd.Timestamp(when.max()))

    def check_period(self, data: Dataset, period, what: str = "a public output") -> None:
        """Raise :class:`PublicQueryError` unless ``period`` is one of :meth:`offered_periods` of ``data``: a
        public output is for a calendar month, quarter or year that the data covers completely (a period the
        data covers in part would publish the part as if it were the whole). The message names the newest
        periods offered."""
        offered = self.offered_periods(data)
        if period in offered:
            return
        if not offered:
            raise PublicQueryError(
                f"{what} is for a calendar month, quarter or year the data covers completely; these data cover "
                "no whole calendar month"
            )
        newest = {k: [p for p in offered if period_kind(p) == k][:3] for k in ("month", "quarter", "year")}
        listed = "; ".join(
            f"{kind}s {', '.join(f'{p.start} to {p.end}' for p in ps)}" for kind, ps in newest.items() if ps
        )
        raise PublicQueryError(
            f"{what} is for a calendar month, quarter or year the data covers completely, not {period.start} to "
            f"{period.end}; the newest are: {listed}"
        )

    # -- published values

    def is_small(self, n: float) -> bool:
        """Whether a published count shows as "fewer than N" (``0 < n < min_count``)."""
        return bool(pd.notna(n) and 0 < n < self.min_count)

    def small_text(self, _) -> str:
        """What a published count below the threshold shows, translated."""
        return _("fewer than {n}", n=_.number(self.min_count))

    def texts(self, _) -> dict[str, str]:
        """What is shown instead of a count, by kind (:data:`SMALL`), translated."""
        return {SMALL: self.small_text(_)}

    def show(self, n: float | None, _) -> str:
        """A published count as text: the number, "fewer than N" for 1 … N − 1, "–" when missing."""
        if n is None or pd.isna(n):
            return "–"
        return self.small_text(_) if self.is_small(n) else _.number(int(n))

    def note(self, _) -> str:
        """The one line every public page and output shows under its figures."""
        return _("Public figures are adjusted slightly so that no individual can be identified; totals may not add up.")

    def publish(self, counts, keys) -> np.ndarray:
        """Published values of cells with these true counts and cell keys (:meth:`PerturbationTable.perturb`)."""
        return self.table.perturb(counts, keys)

    def attendance(self, meeting_id: str, counts: Mapping[str, int]) -> dict[str, int]:
        """Published values of a meeting's attendance by group (``{group: true count}``): each group is one cell
        whose key is drawn from the secret, the meeting's id and the group (:func:`attendance_keys`), so the
        same meeting's group is published the same in every output."""
        self.require_secret()
        groups = list(counts)
        keys = attendance_keys(meeting_id, groups, self.secret)
        values = self.publish(np.array([int(counts[g]) for g in groups], dtype=np.int64), keys)
        return {g: int(v) for g, v in zip(groups, values, strict=True)}

    def measures(self, measures: pd.DataFrame, sections: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-section measures made from published counts (:func:`geo.figures.section_measures` on a
        public dataset's cube) fit for public view.

        A count that shows as "fewer than N" takes every figure made from it: in the period, the rate and
        both changes; the previous period's (or a year earlier's) count, that change. ``count_withheld``,
        ``previous_withheld`` and ``year_earlier_withheld`` hold :data:`SMALL` or ``""``. ``sections`` is
        accepted for callers of the earlier rule and not used: no count depends on another's value.
        """
        out = measures.copy()
        for col, cols in MEASURES_FROM.items():
            if col not in out:
                continue
            values = pd.to_numeric(out[col], errors="coerce")
            hide = ((values > 0) & (values < self.min_count)).fillna(False).to_numpy(dtype=bool)
            for c in cols:
                if c in out:
                    numeric = pd.api.types.is_numeric_dtype(out[c])
                    out[c] = out[c].astype("float64" if numeric else object)
                    out[c] = out[c].where(~hide, np.nan if numeric else None)
            out[f"{col}_withheld"] = np.where(hide, SMALL, "").astype(object)
        return _refdr(out)


#: Why a count is not shown as a number: its published value is below the threshold.
SMALL = "small"


#: Columns of the loader's bookkeeping that public data does not carry: the record's row in its file (with
#: records removed, the gaps in the numbers would show where they were).
LOADER_COLUMNS = ("row", "id_generated", "identity")
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
    """The ``DASHBOARD_PUBLIC*`` settings given (:meth:`geo.settings.Settings.load`): ``[public]`` of ``secrets``
    (default: the project's ``.streamlit/secrets.toml``), each overridden by its environment variable."""
    loaded = config.Settings.load(secrets_file=secrets if secrets is not None else "project")
    return {k: v for k, v in loaded.values.items() if k in config.PUBLIC}


def _as_settings(settings: config.Settings | Mapping[str, str]) -> config.Settings:
    """``settings`` as :class:`~geo.settings.Settings` (a mapping holds settings by environment variable name)."""
    if isinstance(settings, config.Settings):
        return settings
    return config.Settings({k: str(v).strip() for k, v in settings.items() if str(v).strip()})


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


def strip_contacts(officer: str) -> str:
    """An officer's name without phone numbers or e-mail addresses (also written with [at], dots or brackets)."""
    text = str(officer)
    text = re.sub(r"[\w.+-]+\s*(?:@|\[at\]|\(at\))\s*[\w-]+(?:\.[\w-]+)+", "", text)  # e-mail addresses
    text = re.sub(r"\+?\d[\d\s\-/.()]{5,}\d", "", text)  # phone numbers: spaces, dashes, dots, brackets
    text = re.sub(r"(?i)\b(?:tel|phone|mob|mobile|e-?mail)\b\.?:?", "", text)  # their labels
    text = re.sub(r"[\(\[][\s,;:]*[\)\]]", "", text)  # brackets left empty
    return " ".join(text.split()).strip(" ,;:")


# ---------------------------------------------------------------- record keys

#: Cell keys run 0 … N_KEYS − 1; a cell's key is the sum of its records' keys modulo N_KEYS.
N_KEYS = 256


def incident_identities(incidents: pd.DataFrame) -> list[bytes]:
    """Each incident record's identity, stable when the same data is loaded or imported again.

    The file's own ``incident_id`` where it gives one (never an id the loader made, ``id_generated``);
    otherwise the record's content: date and time,
    category, where it is (longitude and latitude to a millionth of a degree, or the section of a record
    located only by section) and ``count``. Exact duplicates are told apart by their occurrence number
    (first, second, … of the same identity), never by the row they are on. A missing value is an empty
    text. Built with Arrow's string kernels: about 0.9 s per million records with ids, 4 s without.
    Records read from the database carry the identity stored at their import (``identity``): it is used.
    """
    n = len(incidents)
    if not n:
        return []
    if "identity" in incidents:  # stored with each record by the database (geo.store)
        return incidents["identity"].tolist()
    ids = (
        incidents["incident_id"].astype("string").str.strip().fillna("")
        if "incident_id" in incidents
        else pd.Series("", index=incidents.index, dtype="string")
    )
    has_id = (ids != "").to_numpy(dtype=bool)
    if "id_generated" in incidents:  # an id the loader made (file:row) is not the record's
        has_id &= ~incidents["id_generated"].fillna(False).to_numpy(dtype=bool)
    identity = pc.binary_join_element_wise("id", _arrow_text(ids), _SEP)
    if not has_id.all():
        rows = np.flatnonzero(~has_id)
        at = np.zeros(n, dtype=np.int64)
        at[rows] = np.arange(len(rows))
        content = _record_content(incidents.iloc[rows]).take(pa.array(at))
        identity = pc.if_else(pa.array(has_id), identity, content)
    codes = pc.dictionary_encode(identity).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    occurrence = pa.array(_occurrences(codes)).cast(pa.string())
    return pc.binary_join_element_wise(identity, occurrence, _SEP).cast(pa.large_binary()).to_pylist()


#: Separates the fields of an identity (a control character no field holds).
_SEP = "\x1f"


def _arrow_text(values: pd.Series) -> pa.Array:
    """A column as Arrow text, missing values empty."""
    return pa.array(values.astype("string").fillna("").to_numpy(dtype=object), type=pa.string())


def _record_content(incidents: pd.DataFrame) -> pa.Array:
    """``record``, date and time to the second, category, place and count, one text per record."""
    n = len(incidents)
    when = pd.to_datetime(incidents["occurred_at"], errors="coerce")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    when_text = np.datetime_as_string(when.to_numpy(dtype="datetime64[s]"), unit="s")  # NaT: "NaT"
    lon = pd.to_numeric(incidents["lon"], errors="coerce").to_numpy(dtype=float) if "lon" in incidents else None
    lat = pd.to_numeric(incidents["lat"], errors="coerce").to_numpy(dtype=float) if "lat" in incidents else None
    if lon is None or lat is None:
        lon = lat = np.full(n, np.nan)
    located = np.isfinite(lon) & np.isfinite(lat)
    lon_e6 = np.where(located, np.rint(np.where(located, lon, 0) * 1e6), 0).astype(np.int64)
    lat_e6 = np.where(located, np.rint(np.where(located, lat, 0) * 1e6), 0).astype(np.int64)
    section = (
        _arrow_text(incidents["section_id"]) if "section_id" in incidents else pa.array([""] * n, type=pa.string())
    )
    where = pc.if_else(
        pa.array(located),
        pc.binary_join_element_wise(pa.array(lon_e6).cast(pa.string()), pa.array(lat_e6).cast(pa.string()), ","),
        pc.binary_join_element_wise("section", section, " "),
    )
    count = pd.to_numeric(incidents["count"], errors="coerce").fillna(1).round().astype("int64").to_numpy()
    return pc.binary_join_element_wise(
        "record",
        pa.array(when_text.astype(object), type=pa.string()),
        _arrow_text(incidents["category"]),
        where,
        pa.array(count).cast(pa.string()),
        _SEP,
    )


def _occurrences(codes: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same code (0 for the first of each)."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(codes)), 0))
    out = np.empty(len(codes), dtype=np.int64)
    out[order] = np.arange(len(codes)) - start
    return out


def _keys(identities: list[bytes], secret: str, domain: bytes) -> np.ndarray:
    """The first byte of HMAC-SHA256(secret, domain + identity) of each identity: keys 0 … 255.

    HMAC written out (RFC 2104) over copies of the two SHA-256 states, which takes half the time of
    copying an ``hmac`` object per record (about 1 s per million); the test suite checks it against
    :func:`hmac.new`."""
    key = secret.encode("utf-8")
    if len(key) > 64:  # SHA-256's block: longer keys are hashed first
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + domain)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def first_byte(identity: bytes) -> int:
        h = inner.copy()
        h.update(identity)
        o = outer.copy()
        o.update(h.digest())
        return o.digest()[0]

    return np.fromiter(map(first_byte, identities), dtype=np.int64, count=len(identities))


def record_keys(incidents: pd.DataFrame, secret: str) -> np.ndarray:
    """Every incident record's perturbation key (0 … 255, in the table's row order), drawn from an HMAC of
    the deployment's secret and the record's identity (:func:`incident_identities`). About 2 s per million
    records with ids (identities 0.7 s, HMAC 1.4 s on 2 cores): a public dataset computes them once, when
    it is made (:meth:`PublicPolicy.apply`)."""
    if not secret:
        raise MissingSecret(f"record keys need the deployment's perturbation secret ({SECRET_SETTING})")
    return _keys(incident_identities(incidents), secret, b"incident\x1e")


def attendance_keys(meeting_id: str, groups, secret: str) -> np.ndarray:
    """The cell keys (0 … 255) of a meeting's attendance groups: an HMAC of the secret, the meeting's id and the
    group (a domain of its own: never the key of an incident record)."""
    if not secret:
        raise MissingSecret(f"cell keys need the deployment's perturbation secret ({SECRET_SETTING})")
    identities = [f"{meeting_id}{_SEP}{g}".encode() for g in groups]
    return _keys(identities, secret, b"attendance\x1e")


# ---------------------------------------------------------------- the perturbation table

#: Rows of a table: true counts 1 … MAX_ROW; larger counts reuse rows 501 … 750 (the ONS's rule).
MAX_ROW = 750


@dataclass(frozen=True, eq=False)
class PerturbationTable:
    """Noise by (true count, cell key): ``noise[c, k]`` is added to a cell of ``c`` records whose key is
    ``k``. Row 0 is all zeros (a true zero is published as 0). Counts above :data:`MAX_ROW` use row
    ``(c − 1) mod 250 + 501``, as the ONS's tables do, so the noise of large counts does not depend on
    their size.
    """

    noise: np.ndarray  # int64, shape (MAX_ROW + 1, N_KEYS)
    name: str = "default"

    @property
    def bound(self) -> int:
        """The largest adjustment the table makes, either way."""
        return int(np.abs(self.noise).max())

    @staticmethod
    def rows(counts: np.ndarray) -> np.ndarray:
        c = np.asarray(counts, dtype=np.int64)
        return np.where(c <= MAX_ROW, np.maximum(c, 0), (c - 1) % 250 + 501)

    def perturb(self, counts, keys) -> np.ndarray:
        """Published values (int64) of cells with true ``counts`` and cell ``keys`` (any shape, same shape)."""
        c = np.asarray(counts, dtype=np.int64)
        k = np.asarray(keys, dtype=np.int64) % N_KEYS
        return np.where(c > 0, c + self.noise[self.rows(c), k], 0).astype(np.int64)

    def to_frame(self) -> pd.DataFrame:
        """The table in the ONS's format: one row per (``pcv`` 1 … 750, ``ckey`` 0 … 255), ``pvalue``."""
        pcv, ckey = np.meshgrid(np.arange(1, MAX_ROW + 1), np.arange(N_KEYS), indexing="ij")
        return pd.DataFrame(
            {"pcv": pcv.ravel(), "ckey": ckey.ravel(), "pvalue": self.noise[1:].ravel().astype(np.int64)}
        )

    def probabilities(self, count: int) -> dict[int, float]:
        """The share of keys that give each adjustment to a cell of ``count`` records."""
        row = self.noise[int(self.rows(np.array([count]))[0])] if count > 0 else np.zeros(N_KEYS, np.int64)
        values, n = np.unique(row, return_counts=True)
        return {int(v): float(c) / N_KEYS for v, c in zip(values, n)}


#: The default table's adjustments and, for each, how many of the 256 keys give it: by true count.
DEFAULT_SHARES: dict[str, dict[int, int]] = {
    "1": {0: 128, 1: 80, 2: 48},
    "2": {-1: 64, 0: 96, 1: 64, 2: 32},
    "3+": {-2: 32, -1: 48, 0: 96, 1: 48, 2: 32},
}


@functools.lru_cache(maxsize=1)
def default_table() -> PerturbationTable:
    """The default table: adjustments of at most ±2; zero stays zero; a positive count is never published
    as zero or less.

    From 3 on, a cell is published exactly with 37.5 % of keys, one more or less with 18.75 % each and
    two more or less with 12.5 % each (mean 0, variance 1.375). A count of 1 or 2 cannot go down by 2
    without reaching zero, so those rows lean upwards (:data:`DEFAULT_SHARES`); both show as "fewer than
    5" whatever their adjustment. Within a row the keys are assigned to adjustments in an order drawn
    once per row from a fixed seed, so cells of neighbouring counts with the same key are not adjusted
    alike. The table is public: knowing it does not give the keys, which come from the secret.
    """
    noise = np.zeros((MAX_ROW + 1, N_KEYS), dtype=np.int64)
    for c in range(1, MAX_ROW + 1):
        shares = DEFAULT_SHARES[str(c)] if c < 3 else DEFAULT_SHARES["3+"]
        row = np.concatenate([np.full(n, d, dtype=np.int64) for d, n in shares.items()])
        noise[c] = row[np.random.default_rng(20_261_201 + c).permutation(N_KEYS)]
    return PerturbationTable(noise, "default")


@functools.lru_cache(maxsize=8)
def read_table(path: str) -> PerturbationTable:
    """A deployment's perturbation table from a CSV in the ONS's format (``pcv, ckey, pvalue``: true count
    1 … 750, cell key 0 … 255, the adjustment; pairs not listed are not adjusted).

    Refused with a ``ValueError`` naming the file, row and field when a value is not a whole number or
    out of range, a pair is listed twice, or an adjustment would publish a positive count as zero or less.
    """
    name = Path(path).name
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: the perturbation table cannot be read ({exc})") from exc
    missing = [c for c in ("pcv", "ckey", "pvalue") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name}: the perturbation table has no column {', '.join(missing)} (it needs pcv, ckey, pvalue)"
        )
    noise = np.zeros((MAX_ROW + 1, N_KEYS), dtype=np.int64)
    seen = np.zeros((MAX_ROW + 1, N_KEYS), dtype=bool)
    for i, (pcv, ckey, pvalue) in enumerate(zip(frame["pcv"], frame["ckey"], frame["pvalue"]), start=2):
        values = {}
        for field_name, text, lo, hi in (
            ("pcv", pcv, 1, MAX_ROW),
            ("ckey", ckey, 0, N_KEYS - 1),
            ("pvalue", pvalue, None, None),
        ):
            try:
                v = int(str(text).strip())
            except ValueError:
                raise ValueError(f"{name}, row {i}, {field_name}: {text!r} is not a whole number") from None
            if lo is not None and not lo <= v <= hi:
                raise ValueError(f"{name}, row {i}, {field_name}: {v} is outside {lo} … {hi}")
            values[field_name] = v
        c, k, d = values["pcv"], values["ckey"], values["pvalue"]
        if seen[c, k]:
            raise ValueError(f"{name}, row {i}: pcv {c} with ckey {k} is listed twice")
        if c + d < 1:
            raise ValueError(
                f"{name}, row {i}, pvalue: {d} would publish a count of {c} as {c + d}; a positive count must "
                "stay positive"
            )
        seen[c, k] = True
        noise[c, k] = d
    return PerturbationTable(noise, name)


# ---------------------------------------------------------------- public periods


def period_kind(period) -> str:
    """``"month"``, ``"quarter"`` or ``"year"`` for a calendar month, quarter or year; ``""`` otherwise."""
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    if start.day != 1 or end != end + pd.offsets.MonthEnd(0):
        return ""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months == 1:
        return "month"
    if months == 3 and start.month in (1, 4, 7, 10):
        return "quarter"
    if months == 12 and start.month == 1:
        return "year"
    return ""


def whole_months(period) -> bool:
    """Whether the period starts on a month's first day and ends on a month's last."""
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    return start.day == 1 and end == end + pd.offsets.MonthEnd(0)


def public_periods(first: object, last: object) -> list:
    """The calendar months, quarters and years that data from ``first`` to ``last`` covers completely,
    newest first, each kind together (months, then quarters, then years)."""
    from geo import figures

    months = figures.full_months(first, last)
    out: list = []
    for m in reversed(months):
        out.append(figures.months_period(m, 1))
    have = set(months)
    for m in reversed(months):
        if m.month in (1, 4, 7, 10) and all(dt.date(m.year, m.month + i, 1) in have for i in range(3)):
            out.append(figures.months_period(m, 3))
    for m in reversed(months):
        if m.month == 1 and all(dt.date(m.year, 1 + i, 1) in have for i in range(12)):
            out.append(figures.months_period(m, 12))
    return out


# ---------------------------------------------------------------- the published cube


class PublicQueryError(ValueError):
    """A public figure asked for a period or categories the public view does not offer."""


@dataclass(frozen=True, eq=False)
class PublishedCube(IncidentCube):
    """A public dataset's cube: every count it answers is a published value.

    Each answer (a section's count, a total, a category, a month, an hour) is one cell: the true sum of
    its records' ``count`` and its cell key (the sum of its records' keys modulo 256), turned into a
    published value by the policy's table. The same records therefore give the same value in any page,
    output or filter path. Totals are cells of their own (:meth:`total`), not sums of shown figures.

    Only what the public view offers may be asked (calendar months, quarters and years; the policy's
    category groups, :meth:`PublicPolicy.category_groups`): anything else raises
    :class:`PublicQueryError`, so a page cannot offer free filters by mistake.
    """

    cell_key: np.ndarray = None  # int64: the sum of the cell's record keys (modulo 256)
    record_key: np.ndarray = None  # int64: each record's key, in the cube's record order
    policy: PublicPolicy = None

    @classmethod
    def publish(cls, cube: IncidentCube, keys: np.ndarray, policy: PublicPolicy) -> PublishedCube:
        """``cube`` (of the public incidents) with ``keys`` (one per row of the table it was built from)."""
        record_key = (
            np.asarray(keys, dtype=np.int64)[cube.record_row] if len(cube.record_row) else np.zeros(0, np.int64)
        )
        cell_key = (
            np.add.reduceat(record_key, cube.cell_start) % N_KEYS if len(cube.cell_start) else np.zeros(0, np.int64)
        )
        fields = {f: getattr(cube, f) for f in cube.__dataclass_fields__}
        return cls(**fields, cell_key=cell_key, record_key=record_key, policy=policy)

    # -- checks

    def _check(self, period, categories, whole: bool = False) -> None:
        if whole:
            if not whole_months(period):
                raise PublicQueryError(
                    f"public monthly figures are for whole months, not {period.start} to {period.end}"
                )
        elif not period_kind(period):
            raise PublicQueryError(
                f"a public figure is for a calendar month, quarter or year, not {period.start} to {period.end}"
            )
        if not self.policy.allows_categories(tuple(categories or ())):
            raise PublicQueryError(f"the public view offers no figure for the categories {sorted(categories)}")

    def _published(self, counts: np.ndarray, keys: np.ndarray) -> np.ndarray:
        return self.policy.publish(np.rint(counts).astype(np.int64), np.rint(keys).astype(np.int64) % N_KEYS)

    # -- the questions, published

    def incident_counts(self, period, categories=(), section_ids=None) -> pd.Series:
        self._check(period, categories)
        rows = self._cells(period, categories, section_ids)
        n = len(self.section_ids)
        sums = np.bincount(self.cell_section[rows], weights=self.cell_count[rows].astype(float), minlength=n)
        keys = np.bincount(self.cell_section[rows], weights=self.cell_key[rows].astype(float), minlength=n)
        present = np.bincount(self.cell_section[rows], minlength=n) > 0
        ids = self.section_ids[present]
        out = pd.Series(
            self._published(sums[present], keys[present]),
            index=pd.Index(ids, dtype="str", name="section_id"),
            name="count",
        )
        return out.sort_index()

    def total(self, period, categories=(), section_ids=None) -> int:
        self._check(period, categories)
        rows = self._cells(period, categories, section_ids)
        count, key = int(self.cell_count[rows].sum()), int(self.cell_key[rows].sum())
        return int(self._published(np.array([count]), np.array([key]))[0])

    def _cell_values(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return {"n": self.cell_count[rows], "k": self.cell_key[rows]}

    def _group_counts(self, frame: pd.DataFrame, by: list[str]) -> pd.Series:
        """Each group is one cell: its records' count and key sums, published."""
        sums = frame.groupby(by)[["n", "k"]].sum()
        return pd.Series(self._published(sums["n"].to_numpy(), sums["k"].to_numpy()), index=sums.index)

    def counts_by_category(self, period, section_ids=None) -> pd.DataFrame:
        self._check(period, ())
        return super().counts_by_category(period, section_ids)

    def monthly_counts(self, period, categories=(), section_ids=None, order=()) -> pd.DataFrame:
        self._check(period, (), whole=True)
        if categories and not all(self.policy.allows_categories((c,)) for c in categories):
            raise PublicQueryError(f"the public view offers no figure for the categories {sorted(categories)}")
        return super().monthly_counts(period, categories, section_ids, order)

    def located_incidents(self, period, categories=(), section_ids=None) -> tuple[pd.DataFrame, int]:
        """No located records in public (the public incidents have no coordinates); the published number
        of the records, all located only by section."""
        self._check(period, categories)
        rows = self._records(period, categories, section_ids)
        count, key = int(self.record_count[rows].sum()), int(self.record_key[rows].sum())
        points = pd.DataFrame({"lon": np.zeros(0), "lat": np.zeros(0), "count": np.zeros(0)})
        return points, int(self._published(np.array([count]), np.array([key]))[0])

    def hour_of_day(self, period, categories=(), section_ids=None) -> pd.Series:
        self._check(period, categories)
        rows = self._records(period, categories, section_ids)
        rows = rows[~self.record_aggregated[rows]]
        counts = np.bincount(self.record_hour[rows], minlength=24)[:24]
        keys = np.bincount(self.record_hour[rows], weights=self.record_key[rows].astype(float), minlength=24)[:24]
        out = pd.Series(self._published(counts, keys).astype("int64"), index=range(24), name="count")
        out.index.name = "hour"
        return out


# ---------------------------------------------------------------- headline figures


def headlines(policy: PublicPolicy, data: Dataset, filters, period) -> dict:
    """:func:`geo.figures.headlines` of a public dataset (``policy.apply``'s): the incident figures are
    cells of its published cube; open concerns and active committees are counted exactly, from the public
    concerns and the public register (records of public meetings, listed one by one on the public pages, so
    their number is no secret). Raises ``ValueError`` for a dataset that is not public."""
    from geo import figures

    if not isinstance(data.cube, PublishedCube):
        raise ValueError("public headline figures are made from a public dataset (PublicPolicy.apply)")
    return figures.headlines(data.cube, data.concerns, data.committees, data.sections, filters, period)
