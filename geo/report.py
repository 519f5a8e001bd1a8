"""Problems found while loading, and the report that collects them with the counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from geo.schema import COUNT_KEYS, EXTRA_COUNT_KEYS, PROBLEM_CODES

#: A value in a problem is cut to this many characters (a cell of megabytes must not be copied whole).
VALUE_LIMIT = 200
#: A problem's message is cut to this many characters.
MESSAGE_LIMIT = 1000


def shorten(text: str, limit: int = VALUE_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when it was cut.

    >>> shorten("x" * 10, 5)
    'xxxx…'
    """
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One problem with an input.

    ``row`` is the 1-based record number in the file (the first data row of a
    CSV, the first feature of a GeoJSON, is 1); ``None`` for whole-file problems.
    Tests and tools rely on ``code``, ``file``, ``row`` and ``field``; the
    ``message`` is for people and may be translated.
    """

    code: str
    severity: str  # "error" or "warning"
    input: str
    file: str
    row: int | None = None
    field: str | None = None
    value: Any = None
    expected: str | None = None
    message: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        v = d["value"]
        if v is not None and not isinstance(v, (str, int, float, bool)):
            d["value"] = str(v)
        return d

    def __str__(self) -> str:
        return f"{self.severity.upper()} [{self.code}] {self.message}"


@dataclass
class Report:
    """All problems of one load and the reconciled counts per input."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(
        self,
        code: str,
        input: str,
        file: str,
        message: str,
        *,
        row: int | None = None,
        field: str | None = None,
        value: Any = None,
        expected: str | None = None,
        severity: str | None = None,
    ) -> Problem:
        if code not in PROBLEM_CODES:
            raise ValueError(f"unknown problem code {code!r}; known: {sorted(PROBLEM_CODES)}")
        if isinstance(value, str):
            value = shorten(value)
        elif value is not None and not isinstance(value, (int, float, bool)):
            value = shorten(str(value))
        p = Problem(
            code,
            severity or PROBLEM_CODES[code],
            input,
            file,
            row,
            field,
            value,
            None if expected is None else shorten(expected, MESSAGE_LIMIT),
            shorten(message, MESSAGE_LIMIT),
        )
        self.problems.append(p)
        return p

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def has_errors(self, input: str) -> bool:
        return any(p.input == input for p in self.errors)

    def set_counts(self, input: str, **counts: int) -> None:
        keys = COUNT_KEYS[input] + EXTRA_COUNT_KEYS.get(input, ())
        missing = set(keys) - set(counts)
        extra = set(counts) - set(keys)
        if missing or extra:
            raise ValueError(
                f"counts for {input} need exactly {keys}; missing {sorted(missing)}, extra {sorted(extra)}"
            )
        self.counts[input] = {k: int(counts[k]) for k in keys}

    def reconciles(self, input: str) -> bool:
        """``loaded`` equals the sum of the outcome counts for this input."""
        c = self.counts[input]
        first, *rest = COUNT_KEYS[input]
        return c[first] == sum(c[k] for k in rest)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
            "counts": self.counts,
        }
