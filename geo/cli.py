"""Command line: ``python -m geo validate|demo ...``.

Exit codes: 0 no errors, 1 errors in the data, 2 bad usage or settings (a public output without the
deployment's perturbation secret among them).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from geo.loader import LoadOptions
from geo.schema import COUNT_KEYS, INPUTS, MAX_COUNT, NEEDS_SECTIONS, NUMBER_FORMATS
from geo.source import DEMO_DIR, FileSource, demo_source

INPUT_NAMES = tuple(INPUTS)


class UsageError(Exception):
    """Bad command-line usage (exit 2)."""


def _split_target(text: str, option: str, sep: str = "=") -> tuple[str, str, str]:
    """``INPUT.FIELD=REST`` (the ``INPUT.`` prefix optional when the field belongs to one input)."""
    if sep not in text:
        raise UsageError(f"{option} {text!r}: expected INPUT.FIELD{sep}VALUE")
    target, rest = text.split(sep, 1)
    if "." in target:
        input, fld = target.split(".", 1)
        if input not in INPUTS:
            raise UsageError(f"{option} {text!r}: unknown input {input!r}; inputs are {', '.join(INPUT_NAMES)}")
        if fld not in INPUTS[input].field_names:
            raise UsageError(
                f"{option} {text!r}: {input} has no field {fld!r}; its fields are "
                f"{', '.join(INPUTS[input].field_names)}"
            )
        return input, fld, rest
    owners = [name for name, spec in INPUTS.items() if target in spec.field_names]
    if not owners:
        raise UsageError(f"{option} {text!r}: no input has a field {target!r}")
    if len(owners) > 1:
        raise UsageError(
            f"{option} {text!r}: field {target!r} is ambiguous (it belongs to {', '.join(owners)}); "
            f"write it as INPUT.{target}"
        )
    return owners[0], target, rest


def _input_value(text: str, option: str) -> tuple[str, str]:
    if "=" not in text:
        raise UsageError(f"{option} {text!r}: expected INPUT=VALUE")
    input, value = text.split("=", 1)
    if input not in INPUTS:
        raise UsageError(f"{option} {text!r}: unknown input {input!r}; inputs are {', '.join(INPUT_NAMES)}")
    if not value:
        raise UsageError(f"{option} {text!r}: the value is empty")
    return input, value


def _place(text: str, kind: str, name: str) -> str:
    """The canonical name of the municipality or region ``name`` means; :class:`UsageError` otherwise."""
    from geo import places

    find = places.municipality_candidates if kind == "municipality" else places.region_candidates
    found = find(name)
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(f"--value {text!r}: {name!r} could be {' or '.join(found)}; write which one")
    known = [m.name for m in places.municipalities()] if kind == "municipality" else [r.name for r in places.REGIONS]
    plural = "municipalities" if kind == "municipality" else "regions"
    raise UsageError(f"--value {text!r}: {name!r} is not a {kind} of Kosovo; {plural} are {', '.join(known)}")


def add_input_options(p: argparse.ArgumentParser) -> None:
    """The input options every ``geo`` command takes (as ``validate`` does)."""
    g = p.add_argument_group("inputs (none at all: the built-in demo)")
    for name in INPUT_NAMES:
        g.add_argument(f"--{name}", metavar="FILE", type=Path, help=f"{name} file")
    g.add_argument("--demo", action="store_true", help="use the built-in demo dataset")
    g.add_argument(
        "--own",
        action="store_true",
        help="use the deployment's data, as the dashboard does (DASHBOARD_DATA_DIR, default data/own/)",
    )
    g.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="INPUT.FIELD=SOURCE",
        help="take a contract field from the file's column SOURCE (repeatable)",
    )
    g.add_argument(
        "--value",
        action="append",
        default=[],
        metavar="INPUT.FIELD=FROM:TO",
        help="read the label FROM as the vocabulary code TO, or the place name FROM as the municipality "
        "or region TO (sections.municipality, sections.region, committees.municipality; repeatable)",
    )
    g.add_argument(
        "--crs",
        action="append",
        default=[],
        metavar="INPUT=EPSG:CODE",
        help="CRS of a file without one, or of its x/y columns (repeatable)",
    )
    g.add_argument(
        "--encoding",
        action="append",
        default=[],
        metavar="INPUT=NAME",
        help="text encoding of a CSV file, e.g. cp1250 (repeatable)",
    )
    g.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="INPUT=NAME",
        help="the layer to read from a GeoPackage or zip with several (default: the first, with a warning)",
    )
    g.add_argument(
        "--number-format",
        action="append",
        default=[],
        metavar="INPUT=" + "|".join(NUMBER_FORMATS),
        help="how the input's whole numbers group thousands, e.g. incidents=1.234 (without it, 1.000 and 1,000 "
        "are rejected, never guessed; repeatable)",
    )
    g.add_argument(
        "--max-count",
        type=int,
        default=None,
        metavar="N",
        help=f"the largest count one incident row may carry (default {MAX_COUNT:,})",
    )
    g.add_argument(
        "--earliest",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the earliest plausible date; earlier rows are rejected (default 1990-01-01)",
    )
    g.add_argument(
        "--latest",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the latest plausible date; later rows are rejected (default one day after today in Kosovo)",
    )


def _iso_date(text: str) -> str:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from exc


def source_from_args(args: argparse.Namespace, sections_stored: bool = False) -> FileSource:
    """Build the data source the input options describe; :class:`UsageError` when they do not fit together.

    ``sections_stored``: inputs joined to the sections may come without a sections file (``db import``
    joins them to the sections the database holds)."""
    paths = {name: getattr(args, name) for name in INPUT_NAMES if getattr(args, name) is not None}
    if args.demo and paths:
        raise UsageError("--demo cannot be combined with input files")
    if getattr(args, "own", False):
        given = [args.map, args.value, args.crs, args.encoding, args.layer, args.number_format]
        limits = [args.max_count, args.earliest, args.latest]
        if paths or args.demo or any(given) or any(v is not None for v in limits):
            raise UsageError(
                "--own cannot be combined with --demo, input files or their options (--map, --value, --crs, "
                "--encoding, --layer, --number-format, --max-count, --earliest, --latest): it reads the saved ones"
            )
        return own_source()
    options = LoadOptions()
    for text in args.map:
        input, fld, src = _split_target(text, "--map")
        if not src:
            raise UsageError(f"--map {text!r}: the source column is empty")
        options.columns.setdefault(input, {})[fld] = src
    for text in args.value:
        input, fld, rest = _split_target(text, "--value")
        if ":" not in rest:
            raise UsageError(f"--value {text!r}: expected INPUT.FIELD=FROM:TO")
        label, code = rest.rsplit(":", 1)
        kind = INPUTS[input].field(fld).place
        if kind:  # place names: TO is any name of a known municipality or region
            options.values.setdefault(input, {}).setdefault(fld, {})[label] = _place(text, kind, code)
            continue
        allowed = INPUTS[input].field(fld).allowed
        if not allowed:
            raise UsageError(f"--value {text!r}: {input}.{fld} has no vocabulary")
        if code not in allowed:
            raise UsageError(f"--value {text!r}: {code!r} is not a {input}.{fld} code; codes are {', '.join(allowed)}")
        options.values.setdefault(input, {}).setdefault(fld, {})[label] = code
    for text in args.crs:
        input, value = _input_value(text, "--crs")
        options.crs[input] = value
    for text in args.encoding:
        input, value = _input_value(text, "--encoding")
        try:
            "".encode(value)
        except LookupError as exc:
            raise UsageError(f"--encoding {text!r}: unknown encoding {value!r}") from exc
        options.encoding[input] = value
    for text in args.layer:
        input, value = _input_value(text, "--layer")
        options.layer[input] = value
    for text in args.number_format:
        input, value = _input_value(text, "--number-format")
        if value not in NUMBER_FORMATS:
            raise UsageError(
                f"--number-format {text!r}: write the thousands separator as one of {', '.join(NUMBER_FORMATS)}"
            )
        options.number_format[input] = value
    if args.max_count is not None:
        if args.max_count < 1:
            raise UsageError(f"--max-count {args.max_count}: must be at least 1")
        options.max_count = args.max_count
    if args.earliest is not None:
        options.earliest = args.earliest
    if args.latest is not None:
        options.latest = args.latest
    earliest, latest = options.date_range()
    if latest < earliest:
        raise UsageError(f"--latest {latest} is before --earliest {earliest}")
    given = (args.map, args.value, args.crs, args.encoding, args.layer, args.number_format)
    if not paths:
        if any(given) or args.max_count is not None or args.earliest or args.latest:
            raise UsageError(
                "--map, --value, --crs, --encoding, --layer, --number-format, --max-count, --earliest and "
                "--latest need input files"
            )
        return demo_source()
    needing = [n for n in NEEDS_SECTIONS if n in paths]
    if needing and "sections" not in paths and not sections_stored:
        raise UsageError(f"--{' --'.join(needing)} need --sections (they are joined to the sections)")
    for name, path in paths.items():
        if not Path(path).exists():
            raise UsageError(f"--{name} {path}: no such file")
    return FileSource(paths, options)


def own_source() -> FileSource:
    """The deployment's data; :class:`UsageError` naming the folder, file and reason when it cannot be used,
    a warning on stderr when an older save (or the hand-made files) stands in for it."""
    from geo import settings, uploads

    folder = settings.Settings.load().data_dir  # as the dashboard reads it: DASHBOARD_DATA_DIR now
    own = uploads.own_data(folder)
    if own.source is None:
        why = own.problem or "nothing has been saved there and it holds no options.json"
        raise UsageError(f"--own: the deployment's data in {folder} cannot be loaded: {why}")
    if own.problem:
        instead = "the save before it" if own.fallback == "previous" else f"the files put in {folder} by hand"
        print(f"warning: the deployment's saved data cannot be loaded: {own.problem}; using {instead}", file=sys.stderr)
    return own.source


#: Inputs whose counts ``validate`` does not print in public-safe mode: their totals hold the sensitive
#: categories (less the public totals, they give them back) and small counts (records outside every section).
PUBLIC_WITHHELD_COUNTS = ("incidents", "concerns")


def without_values(report):
    """``report`` with every problem's value withheld, for public-safe mode: where and what each problem is,
    never the offending value (it may be an incident's coordinates, a sensitive category's label or a private
    text)."""
    from dataclasses import replace

    def where(p) -> str:
        parts = (p.file, f"row {p.row}" if p.row is not None else "", f"field {p.field}" if p.field else "")
        return ", ".join(x for x in parts if x)

    return replace(
        report,
        problems=[
            replace(p, value=None, message=where(p) + ": the value is withheld in public-safe mode (DASHBOARD_PUBLIC)")
            for p in report.problems
        ],
    )


def _print_report(report, out, withheld: tuple[str, ...] = ()) -> None:
    for p in report.problems:
        print(p, file=out)
    if report.problems:
        print(file=out)
    print("counts:", file=out)
    for name, counts in report.counts.items():
        keys = COUNT_KEYS[name]
        ok = counts[keys[0]] == sum(counts[k] for k in keys[1:])
        if name in withheld:
            parts = "withheld in public-safe mode (DASHBOARD_PUBLIC)" + (", they add up" if ok else "")
        else:
            parts = ", ".join(f"{k} {counts[k]:,}" for k in counts)
        print(f"  {name:<11} {parts}{'' if ok else '   (DOES NOT RECONCILE)'}", file=out)
    n_err, n_warn = len(report.errors), len(report.warnings)
    print(f"\n{'OK' if report.ok else 'NOT OK'}: {n_err} error(s), {n_warn} warning(s)", file=out)


def cmd_validate(args: argparse.Namespace) -> int:
    from geo.public import PublicPolicy

    source = source_from_args(args)
    data = source.load()
    report = data.report
    public = PublicPolicy.from_settings(settings_of(args)) is not None
    if public:
        report = without_values(report)
    withheld = PUBLIC_WITHHELD_COUNTS if public else ()
    if args.json:
        doc = report.to_dict()
        if withheld:
            doc["counts"] = {k: v for k, v in doc["counts"].items() if k not in withheld}
            doc["counts_withheld"] = {k: report.reconciles(k) for k in report.counts if k in withheld}
        json.dump(doc, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_report(report, sys.stdout, withheld)
    return 0 if report.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from geo import demo

    if args.seed is None:
        args.seed = demo.DEFAULT_SEED
    if args.check:
        directory = args.out or DEMO_DIR
        diffs = demo.check(Path(directory), seed=args.seed)
        if diffs:
            print(f"{directory} differs from a fresh generation with seed {args.seed}:")
            for d in diffs:
                print(f"  {d}")
            print("Regenerate it with: python -m geo demo --out data/demo")
            return 1
        print(f"{directory} equals a fresh generation with seed {args.seed}")
        return 0
    out = Path(args.out or DEMO_DIR)
    out.mkdir(parents=True, exist_ok=True)
    written = demo.generate(out, seed=args.seed)
    for name, path in written.items():
        print(f"{name:<11} {path}")
    return 0


def cmd_contract(args: argparse.Namespace) -> int:
    from geo.contract import contract_markdown

    print(contract_markdown())
    return 0


def _date(text: str):
    import pandas as pd

    from geo.validation import parse_dates

    v, bad = parse_dates(pd.Series([text]), keep_time=False)
    if bad.iloc[0] or pd.isna(v.iloc[0]):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (2024-03-18, 18.03.2024 or 18/03/2024)")
    return v.iloc[0].date()


def add_period_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from",
        dest="date_from",
        type=_date,
        metavar="DATE",
        help="first day (default: the last full month in the data)",
    )
    p.add_argument("--to", dest="date_to", type=_date, metavar="DATE", help="last day, included")


def period_from_args(args: argparse.Namespace, data, policy=None):
    """The period ``--from``/``--to`` give (default: the last full month in the data); with a public
    ``policy``, only a calendar month, quarter or year the data covers completely, as the dashboard's public
    sidebar offers (:meth:`geo.public.PublicPolicy.check_period`; default: the newest of them)."""
    from geo import figures, public

    if (args.date_from is None) != (args.date_to is None):
        raise UsageError("give both --from and --to, or neither (the last full month in the data)")
    if args.date_from is None:
        period = figures.default_period(data.data_as_of)
        if policy is not None:
            offered = policy.offered_periods(data)
            period = offered[0] if offered else period  # the newest month (with none, refused below)
    elif args.date_to < args.date_from:
        raise UsageError(f"--to {args.date_to} is before --from {args.date_from}")
    else:
        period = figures.Period(args.date_from, args.date_to)
    if policy is not None:
        try:
            policy.check_period(data, period)
        except public.PublicQueryError as exc:
            raise UsageError(f"--from {period.start} --to {period.end}: {exc}") from exc
    span = figures.empty_period(data.cube, period)
    if span is not None:
        print(
            f"note: no incidents between {period.start} and {period.end}; the data covers {span[0]} to {span[1]}.",
            file=sys.stderr,
        )
    return period


def settings_of(args: argparse.Namespace):
    """The deployment's settings (:class:`geo.settings.Settings`), read once per command by :func:`main`."""
    from geo import settings

    found = getattr(args, "settings", None)
    return found if found is not None else settings.Settings.load()


def policy_from_args(args: argparse.Namespace):
    """Public mode when the deployment sets it (it cannot be turned off here) or ``--public`` asks for it.

    Raises :class:`geo.public.MissingSecret` when public figures are asked for and the deployment has set
    no perturbation secret (:func:`main` says how to set it)."""
    from geo.public import PublicPolicy

    try:
        settings = settings_of(args)
        policy = PublicPolicy.from_settings(settings)
        if policy is None and getattr(args, "public", False):
            policy = PublicPolicy.for_public_version(settings)  # the deployment's thresholds and secret where set
    except ValueError as exc:
        raise UsageError(f"public-safe settings: {exc}") from exc
    if policy is not None:
        policy.require_secret()
    return policy


def public_categories(policy, asked: tuple[str, ...], option: str = "--category") -> tuple[str, ...]:
    """``asked`` without the sensitive categories, when the public version offers that choice (one
    category, or a group of :meth:`geo.public.PublicPolicy.category_groups`); :class:`UsageError` otherwise."""
    categories = policy.categories(asked)
    if not categories:  # an empty selection would mean every category
        raise UsageError(f"{option} {', '.join(asked)}: withheld from public versions (DASHBOARD_PUBLIC_SENSITIVE)")
    if not policy.allows_categories(categories):
        groups = [
            f"{key or 'none given'} ({', '.join(codes)})"
            for key, codes in policy.category_groups().items()
            if len(codes) > 1
        ]
        raise UsageError(
            f"{option} {', '.join(categories)}: the public version offers figures for one category at a time or "
            f"for a whole group, each {option} of the group given: {'; '.join(groups)}"
        )
    return categories


def _load_or_fail(args: argparse.Namespace):
    from geo.public import PublicPolicy

    data = source_from_args(args).load()
    if not data.report.ok:
        public = getattr(args, "public", False) or PublicPolicy.from_settings(settings_of(args)) is not None
        for p in (without_values(data.report) if public else data.report).errors:
            print(p, file=sys.stderr)
        print("the data has errors; see python -m geo validate", file=sys.stderr)
        return None
    return data


def cmd_brief(args: argparse.Namespace) -> int:
    from geo import brief

    suffix = Path(args.out).suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise UsageError(f"--out {args.out}: a brief is written as .pdf or .html")
    policy = policy_from_args(args)
    data = _load_or_fail(args)
    if data is None:
        return 1
    period = period_from_args(args, data, policy)
    try:
        content = brief.brief_content(
            data,
            period,
            lang=args.lang,
            municipality=args.municipality,
            section=args.section,
            policy=policy,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    brief.write(content, Path(args.out))
    print(f"{content.marking} brief written to {args.out}")
    return 0


def permutation_count(text: str) -> int | str:
    """``--permutations``: a whole number of 0 or more, or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of permutations (0 for none) or auto")
    return n


def cmd_hotspots(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from geo import analysis, exports, figures, hotspots
    from geo.schema import INCIDENT_CATEGORIES

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".geojson", ".json"):
        raise UsageError(f"--out {out}: hotspots are written as .csv or .geojson")
    codes = [t.code for t in INCIDENT_CATEGORIES]
    for c in args.category:
        if c not in codes:
            raise UsageError(f"--category {c!r}: not a category; categories are {', '.join(codes)}")
    policy = policy_from_args(args)
    categories = tuple(args.category) or tuple(c for c in codes if c != "traffic_ticket")
    if policy is not None:
        if args.unit != "sections":
            raise UsageError("--unit grid: public versions show sections only (a grid of cells is restricted)")
        categories = public_categories(policy, categories)
    data = _load_or_fail(args)
    if data is None:
        return 1
    period = period_from_args(args, data, policy)
    small = pd.Series(dtype=bool)
    if policy is not None:
        data = policy.apply(data)  # no coordinates, no sensitive categories, published counts only

    def permutations(n_units: int) -> int:
        return hotspots.permutations_for(n_units) if args.permutations == "auto" else args.permutations

    # the dashboard's analyses (geo.analysis), over every section
    every = figures.Filters(categories=categories)
    try:
        if args.unit == "sections":
            # public: Gi* of the published counts; a count shown as "fewer than N" enters as 0 (its neighbours'
            # Gi* would otherwise give it back), and its own figures are left out below
            res = analysis.section_hotspots(
                data, every, period, args.measure, args.weights, args.threshold_m, args.permutations, args.seed, policy
            )
            if policy is not None:
                small = analysis.small_sections(data, policy, period, categories, res.index)
            units = data.sections.set_index(data.sections["section_id"])
        else:
            cells, res = analysis.grid_hotspots(
                data,
                every,
                period,
                args.cell_m,
                args.measure,
                args.weights,
                args.threshold_m,
                args.permutations,
                args.seed,
            )
            units = cells.set_index(cells["cell_id"].astype(str))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    key = "section_id" if args.unit == "sections" else "cell_id"
    names = {}
    if args.unit == "sections":  # who reads the table knows the sections by name and area, not by id
        for col in ("section_name", "municipality", "region"):
            names[col] = units[col].reindex(res.index).astype("string").to_numpy() if col in units else pd.NA
    table = pd.DataFrame(
        {
            key: res.index,
            **names,
            "count": pd.array(res["count"].round(), dtype="Int64"),
            "rate": (res["count"] / res["population"] * 1000).to_numpy(),
            "z": res["z"].to_numpy(),
            "p": res["p"].to_numpy(),
            "p_fdr": res["p_fdr"].to_numpy(),
            "label": res["label"].to_numpy(),
            **({"p_sim": res["p_sim"].to_numpy(), "label_sim": res["label_sim"].to_numpy()} if "p_sim" in res else {}),
        }
    )
    if policy is not None:
        from geo.public import SMALL

        hide = table[key].astype(str).map(small).fillna(False).to_numpy(dtype=bool)
        table["count"] = table["count"].where(~hide)
        table.loc[hide, [c for c in ("rate", "z", "p", "p_fdr", "p_sim") if c in table]] = np.nan
        table.loc[hide, [c for c in ("label", "label_sim") if c in table]] = hotspots.NOT_SIGNIFICANT  # no z
        table["withheld"] = np.where(hide, SMALL, "")  # "small": the published count is below the minimum
    summary = hotspots.label_counts(table["label"])
    mark = exports.marking_for(policy)
    if out is not None:
        if out.suffix.lower() == ".csv":
            out.write_bytes(exports.csv_bytes(table, marking=mark))
        else:
            import geopandas as gpd

            geo = gpd.GeoDataFrame(table, geometry=units.geometry.reindex(table[key]).to_numpy(), crs=units.crs)
            doc = json.loads(geo.to_crs("EPSG:4326").to_json(drop_id=True))
            for feature in doc["features"]:
                feature["properties"][exports.CLASSIFICATION] = mark
            doc = {"type": "FeatureCollection", exports.CLASSIFICATION: mark, "features": doc["features"]}
            if data.is_demo:
                doc["data"] = exports.DEMO_NOTE
            out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    if args.json:
        json.dump(
            {
                "period": [str(period.start), str(period.end)],
                "unit": args.unit,
                "categories": list(categories),
                "public": policy is not None,
                exports.CLASSIFICATION: mark,
                **({"data": exports.DEMO_NOTE} if data.is_demo else {}),
                "labels": {k: int(v) for k, v in summary.items()},
                "permutations": int(permutations(len(table))),
                "units": json.loads(table.to_json(orient="records")),
            },
            sys.stdout,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    else:
        demo = f" · {exports.DEMO_NOTE}" if data.is_demo else ""
        print(f"{mark} · Gi* hot spots, {period.start} to {period.end}, {len(table)} {args.unit}{demo}")
        checked = "label_sim" in table
        if checked:
            print(f"  {'':<18} {'Gi*':>6} {'permutation check (' + format(permutations(len(table)), ',') + ')':>6}")
        sim = hotspots.label_counts(table["label_sim"]) if checked else None
        for label, n in summary.items():
            print(f"  {hotspots.LABEL_TEXT[label]:<18} {n:>6}" + (f" {sim[label]:>6}" if checked else ""))
        if out is not None:
            print(f"written to {out}")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    """The overview map as one offline HTML file (:func:`geo.exports.overview_map_html`, as the dashboard)."""
    from geo import exports

    if Path(args.out).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out {args.out}: the map is written as one .html file")
    policy = policy_from_args(args)
    data = _load_or_fail(args)
    if data is None:
        return 1
    period = period_from_args(args, data, policy)
    try:
        page = exports.overview_map_html(data, period, args.lang, municipality=args.municipality or "", policy=policy)
    except ValueError as exc:
        raise UsageError(f"--municipality: {exc}") from exc
    Path(args.out).write_text(page, encoding="utf-8")
    print(f"{exports.marking_for(policy)} map written to {args.out}")
    return 0


#: ``--public``: what it makes and what it needs.
PUBLIC_HELP = (
    "the public-safe version: published figures, for a calendar month, quarter or year (needs the deployment's "
    "perturbation secret, DASHBOARD_PUBLIC_SECRET)"
)


def build_parser(extra: Callable | None = None) -> argparse.ArgumentParser:
    """The parser of every command; ``extra(subparsers)`` adds more (:mod:`geo.dbcli` adds ``db``)."""
    p = argparse.ArgumentParser(prog="python -m geo", description="Community-policing data: validate, demo, contract.")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="read, validate and join the inputs; report every problem and the counts")
    add_input_options(v)
    v.add_argument("--json", action="store_true", help="print one JSON object instead of the readable report")
    v.set_defaults(func=cmd_validate)
    d = sub.add_parser("demo", help="generate the synthetic demo dataset, or check the committed one")
    d.add_argument("--out", type=Path, help=f"folder to write (default {DEMO_DIR})")
    d.add_argument("--seed", type=int, default=None, help="random seed (default: the demo's own seed)")
    d.add_argument("--check", action="store_true", help="check that the folder equals a fresh generation")
    d.set_defaults(func=cmd_demo)
    b = sub.add_parser("brief", help="a one-page brief (PDF or HTML) for a municipality or a section")
    add_input_options(b)
    area = b.add_mutually_exclusive_group(required=True)
    area.add_argument("--municipality", metavar="NAME", help="any of its names (Prishtinë, Priština, Pristina)")
    area.add_argument("--section", metavar="ID", help="a section id")
    add_period_options(b)
    b.add_argument("--lang", choices=("sq", "sr", "en"), default="sq", help="language (default sq)")
    b.add_argument("--public", action="store_true", help=PUBLIC_HELP)
    b.add_argument("--out", type=Path, required=True, metavar="FILE.pdf|FILE.html")
    b.set_defaults(func=cmd_brief)
    h = sub.add_parser("hotspots", help="Getis-Ord Gi* hot and cold spots per section or grid cell")
    add_input_options(h)
    h.add_argument(
        "--category",
        action="append",
        default=[],
        metavar="CODE",
        help="incident category (repeatable; default every category but traffic tickets)",
    )
    add_period_options(h)
    h.add_argument("--unit", choices=("sections", "grid"), default="sections")
    h.add_argument("--cell-m", type=float, default=1000.0, help="grid cell size in metres (default 1000)")
    h.add_argument("--measure", choices=("count", "rate"), default="count", help="count, or rate per 1,000 residents")
    h.add_argument("--weights", choices=("queen", "distance"), default="queen", help="neighbours (default queen)")
    h.add_argument("--threshold-m", type=float, default=None, help="distance band in metres (with --weights distance)")
    h.add_argument(
        "--permutations",
        type=permutation_count,
        default=0,
        metavar="N|auto",
        help="permutation robustness check: a count, or auto (enough for a single unit to reach 99 %% after "
        "FDR: 27,999 for 273 units); default none",
    )
    h.add_argument("--seed", type=int, default=0)
    h.add_argument("--public", action="store_true", help=PUBLIC_HELP)
    h.add_argument("--out", type=Path, metavar="FILE.csv|FILE.geojson")
    h.add_argument("--json", action="store_true", help="print one JSON object")
    h.set_defaults(func=cmd_hotspots)
    mp = sub.add_parser("map", help="the overview map as one HTML file that works offline")
    add_input_options(mp)
    mp.add_argument("--municipality", metavar="NAME", help="only this municipality's sections")
    add_period_options(mp)
    mp.add_argument("--lang", choices=("sq", "sr", "en"), default="sq", help="language (default sq)")
    mp.add_argument("--public", action="store_true", help=PUBLIC_HELP)
    mp.add_argument("--out", type=Path, required=True, metavar="FILE.html")
    mp.set_defaults(func=cmd_map)
    c = sub.add_parser("contract", help="print the data contract as Markdown tables")
    c.set_defaults(func=cmd_contract)
    if extra is not None:
        extra(sub)
    return p


def main(argv: list[str] | None = None, extra: Callable | None = None) -> int:
    """Run a command; ``extra`` as :func:`build_parser` (``python -m geo`` runs :func:`geo.usercli.main`)."""
    from geo import i18n, public, settings

    parser = build_parser(extra)
    args = parser.parse_args(argv)  # argparse exits with 2 on its own usage errors
    args.settings = settings.Settings.load()  # once per command: the environment, else .streamlit/secrets.toml
    try:
        return args.func(args)
    except UsageError as exc:
        parser.error(str(exc))  # exits 2
    except public.MissingSecret:  # a setting of the deployment, not of this command: how to set it
        print(f"{parser.prog}: error: {public.missing_secret_text(i18n.translator('en'))}", file=sys.stderr)
    return 2
