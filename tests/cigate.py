"""What "running in CI" means for the test suite, and the rule that nothing may be skipped there.

Locally a test whose tools are missing (Chromium, PostgreSQL, PostGIS) skips and says why; in CI
(``CI=true``, which the CI runner sets and ``.ci/run`` exports itself) every one of them must run,
so a skip there fails the run. The decision is a pure function (:func:`skip_gate`) of the skipped
tests and the environment; the hooks below apply it, and ``conftest.py`` imports them (so they are
this suite's hooks; ``python -m pytest -p cigate`` loads them into any other run).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import pytest

#: Values of ``CI`` that mean "this is CI" (GitHub, GitLab and most runners set ``true``; some ``1``).
CI_VALUES = frozenset({"true", "1", "yes"})


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether ``env`` (an ``os.environ``-like mapping) says the tests run in CI."""
    return env.get("CI", "").strip().lower() in CI_VALUES


def skip_gate(skipped: Sequence[tuple[str, str]], env: Mapping[str, str]) -> str | None:
    """The failure message for a run that skipped tests in CI, or ``None`` when the run may pass.

    ``skipped`` holds ``(test id, reason)`` of every skipped test or module. Outside CI skips are
    allowed (``None``); in CI any skip fails the run, and the message names each one with its reason.
    """
    if not skipped or not in_ci(env):
        return None
    lines = [f"{len(skipped)} skipped under CI=true, where every test must run:"]
    lines += [f"  {nodeid}: {reason}" for nodeid, reason in skipped]
    return "\n".join(lines)


# ---------------------------------------------------------------- the hooks

#: ``(test id, reason)`` of every skip of this run, in order.
SKIPPED: list[tuple[str, str]] = []


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _record(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):  # an expected failure is not a skip
        SKIPPED.append((report.nodeid, _reason(report)))


def pytest_runtest_logreport(report) -> None:
    _record(report)


def pytest_collectreport(report) -> None:
    _record(report)  # a module skipped as a whole (pytest.skip(..., allow_module_level=True))


def pytest_sessionfinish(session, exitstatus) -> None:
    if skip_gate(SKIPPED, os.environ) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    message = skip_gate(SKIPPED, os.environ)
    if message:
        terminalreporter.section("skipped under CI: the run fails", sep="=", red=True, bold=True)
        terminalreporter.line(message)
