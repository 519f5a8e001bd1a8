"""Command line: ``python -m geo validate|demo ...``.

Exit codes: 0 no errors, 1 errors in the data, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.schema import COUNT_KEYS, INPUTS, NEEDS_SECTIONS
from geo.source import DEMO_DIR, FileSource, LoadOptions, demo_source

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


def add_input_options(p: argparse.ArgumentParser) -> None:
    """The input options every ``geo`` command takes (as ``validate`` does)."""
    g = p.add_argument_group("inputs (none at all: the built-in demo)")
    for name in INPUT_NAMES:
        g.add_argument(f"--{name}", metavar="FILE", type=Path, help=f"{name} file")
    g.add_argument("--demo", action="store_true", help="use the built-in demo dataset")
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
        help="read the label FROM as the vocabulary code TO (repeatable)",
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


def source_from_args(args: argparse.Namespace) -> FileSource:
    """Build the data source the input options describe; :class:`UsageError` when they do not fit together."""
    paths = {name: getattr(args, name) for name in INPUT_NAMES if getattr(args, name) is not None}
    if args.demo and paths:
        raise UsageError("--demo cannot be combined with input files")
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
    if not paths:
        if args.map or args.value or args.crs or args.encoding:
            raise UsageError("--map, --value, --crs and --encoding need input files")
        return demo_source()
    needing = [n for n in NEEDS_SECTIONS if n in paths]
    if needing and "sections" not in paths:
        raise UsageError(f"--{' --'.join(needing)} need --sections (they are joined to the sections)")
    for name, path in paths.items():
        if not Path(path).exists():
            raise UsageError(f"--{name} {path}: no such file")
    return FileSource(paths, options)


def _print_report(report, out) -> None:
    for p in report.problems:
        print(p, file=out)
    if report.problems:
        print(file=out)
    print("counts:", file=out)
    for name, counts in report.counts.items():
        keys = COUNT_KEYS[name]
        parts = ", ".join(f"{k} {counts[k]:,}" for k in counts)
        ok = counts[keys[0]] == sum(counts[k] for k in keys[1:])
        print(f"  {name:<11} {parts}{'' if ok else '   (DOES NOT RECONCILE)'}", file=out)
    n_err, n_warn = len(report.errors), len(report.warnings)
    print(f"\n{'OK' if report.ok else 'NOT OK'}: {n_err} error(s), {n_warn} warning(s)", file=out)


def cmd_validate(args: argparse.Namespace) -> int:
    source = source_from_args(args)
    data = source.load()
    if args.json:
        json.dump(data.report.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_report(data.report, sys.stdout)
    return 0 if data.report.ok else 1


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


def build_parser() -> argparse.ArgumentParser:
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
    c = sub.add_parser("contract", help="print the data contract as Markdown tables")
    c.set_defaults(func=cmd_contract)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits with 2 on its own usage errors
    try:
        return args.func(args)
    except UsageError as exc:
        parser.error(str(exc))  # exits 2
    return 2
