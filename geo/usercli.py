"""Command line of the users and the audit log: ``python -m geo users grant|revoke|list|disable|enable|audit|purge``.

It acts as the operating-system user (:func:`geo.users.os_actor`), is not subject to roles, and records every
change in the audit log: the first administrator, and recovery when the identity provider is unreachable.
Exit codes as ``db``'s (:mod:`geo.dbcli`): 0 done; 1 refused (an unknown user, a schema that needs
``db upgrade``, no database yet); 2 bad usage (an invalid e-mail address, role or date) or a database that
failed. ``python -m geo`` runs :func:`main`: every command of :mod:`geo.cli`, ``db`` and ``users``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import sqlalchemy as sa

from geo import cli, dbcli, users
from geo.cli import UsageError
from geo.dbcli import DatabaseError


def _ready_engine(args: argparse.Namespace):
    url = dbcli._url(args)
    eng = dbcli._engine(args, url)
    dbcli._reachable(url, eng)
    dbcli._schema_ready(url, eng)
    return eng


def _checked(check, value: str) -> str:
    try:
        return check(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _describe(user: users.User) -> str:
    roles = ",".join(sorted(user.roles)) or "(no role)"
    parts = [user.email, roles]
    if user.committees:
        parts.append("committees " + ",".join(sorted(user.committees)))
    if user.disabled:
        parts.append("DISABLED")
    seen = f"{user.last_activity:%Y-%m-%d %H:%M} UTC" if user.last_activity else "never"
    parts.append(f"last active {seen}")
    return "  ".join(parts)


def _unknown(exc: users.UnknownUser) -> DatabaseError:
    return DatabaseError(str(exc), 1)


def cmd_grant(args: argparse.Namespace) -> int:
    email = _checked(users.normal_email, args.email)
    role = _checked(users.check_role, args.role)
    eng = _ready_engine(args)
    actor = users.os_actor()
    user = users.grant(eng, email, role, actor)
    if args.committee:
        try:
            user = users.set_committees(eng, email, user.committees | set(args.committee), actor)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    print(_describe(user))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    email = _checked(users.normal_email, args.email)
    role = _checked(users.check_role, args.role) if args.role is not None else None
    eng = _ready_engine(args)
    try:
        before = users.get(eng, email)
        user = users.revoke(eng, email, role, users.os_actor())
    except users.UnknownUser as exc:
        raise _unknown(exc) from None
    if before is not None and before.roles == user.roles:
        print(f"{email} did not hold {role or 'any role'}: nothing changed")
    print(_describe(user))
    return 0


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    email = _checked(users.normal_email, args.email)
    eng = _ready_engine(args)
    try:
        user = users.set_disabled(eng, email, disabled, users.os_actor())
    except users.UnknownUser as exc:
        raise _unknown(exc) from None
    print(_describe(user))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    found = users.list_users(_ready_engine(args))
    if not found:
        print("no users yet: python -m geo users grant EMAIL ROLE adds one")
        return 0
    for user in found:
        print(_describe(user))
    return 0


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_audit(args: argparse.Namespace) -> int:
    if args.since and args.until and args.until < args.since:
        raise UsageError(f"--until {args.until} is before --since {args.since}")
    if args.action and args.action not in users.ACTIONS:
        raise UsageError(f"--action {args.action!r}: actions are {', '.join(users.ACTIONS)}")
    eng = _ready_engine(args)
    frame = users.entries(eng, since=args.since, until=args.until, actor=args.user, action=args.action)
    if args.csv is not None:
        if not Path(args.csv).absolute().parent.is_dir():
            raise UsageError(f"--csv {args.csv}: no such folder")
        filters = {k: str(v) for k, v in (("since", args.since), ("until", args.until)) if v}
        filters |= {k: v for k, v in (("user", args.user), ("action", args.action)) if v}
        try:  # the export is recorded before the file is written
            users.record(eng, users.os_actor(), "audit-export", {"filters": filters, "records": len(frame)})
        except users.AuditError as exc:
            raise DatabaseError(f"refused: {exc}", 1) from None
        Path(args.csv).write_bytes(users.entries_csv(frame))
        print(f"wrote {len(frame):,} audit records to {args.csv}")
        return 0
    if frame.empty:
        print("no audit records")
        return 0
    for row in frame.itertuples(index=False):
        print(
            f"{row.id:>6}  {row.at:%Y-%m-%d %H:%M:%S}Z  {row.actor}  [{row.roles}]  {row.address or '-'}  "
            f"{row.action}  {row.detail}"
        )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    settings = cli.settings_of(args)
    try:
        days = settings.audit_retention_days
    except ValueError as exc:
        raise DatabaseError(str(exc)) from None
    if days is None:
        print("DASHBOARD_AUDIT_RETENTION_DAYS is not set: every audit record is kept")
        return 0
    eng = _ready_engine(args)
    removed = users.purge(eng, days, dt.datetime.now(dt.UTC), users.os_actor())
    print(f"removed {removed:,} audit records older than {days:g} days")
    return 0


# ---------------------------------------------------------------- wiring


def add_parser(sub) -> None:
    """The ``users`` command group."""
    u = sub.add_parser(
        "users",
        help="users, roles and the audit log of sign-in (as the operating-system user, recorded)",
        description="Users, their roles and committees, and the audit log, in the deployment's database. "
        "Acts as the operating-system user; every change is recorded in the audit log.",
    )
    u.set_defaults(func=run)
    usub = u.add_subparsers(dest="users_command", required=True)
    g = usub.add_parser("grant", help="give EMAIL the ROLE (a user the database does not know is added)")
    g.add_argument("email", metavar="EMAIL")
    g.add_argument("role", metavar="ROLE", help=", ".join(users.ROLES))
    g.add_argument(
        "--committee", action="append", default=[], metavar="ID", help="also assign this committee (repeatable)"
    )
    g.set_defaults(users_func=cmd_grant)
    r = usub.add_parser("revoke", help="take ROLE (default: every role) from EMAIL")
    r.add_argument("email", metavar="EMAIL")
    r.add_argument("role", metavar="ROLE", nargs="?")
    r.set_defaults(users_func=cmd_revoke)
    usub.add_parser("list", help="every user with roles, committees and last activity").set_defaults(
        users_func=cmd_list
    )
    d = usub.add_parser("disable", help="EMAIL has no access from their next rerun, whatever their roles")
    d.add_argument("email", metavar="EMAIL")
    d.set_defaults(users_func=lambda args: _set_disabled(args, True))
    e = usub.add_parser("enable", help="undo disable")
    e.add_argument("email", metavar="EMAIL")
    e.set_defaults(users_func=lambda args: _set_disabled(args, False))
    a = usub.add_parser("audit", help="the audit log, newest first (or as CSV)")
    a.add_argument("--since", type=_day, metavar="DATE", help="from this day (UTC), YYYY-MM-DD")
    a.add_argument("--until", type=_day, metavar="DATE", help="to this day (UTC) included")
    a.add_argument("--user", metavar="EMAIL", help="records of this actor")
    a.add_argument("--action", metavar="A", help=", ".join(users.ACTIONS))
    a.add_argument("--csv", type=Path, metavar="FILE", help="write the records as CSV (UTF-8, for spreadsheets)")
    a.set_defaults(users_func=cmd_audit)
    usub.add_parser(
        "purge", help="remove audit records older than DASHBOARD_AUDIT_RETENTION_DAYS (recorded)"
    ).set_defaults(users_func=cmd_purge)


def run(args: argparse.Namespace) -> int:
    """Run a ``users`` command: a refusal or a database failure becomes one message and its exit code."""
    name = f"python -m geo users {args.users_command}"
    try:
        return args.users_func(args)
    except DatabaseError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return exc.code
    except users.AuditError as exc:
        print(f"{name}: refused, nothing changed: {exc}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as exc:
        print(f"{name}: the database failed: {dbcli._reason(exc)}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``python -m geo``: every command of :mod:`geo.cli`, ``db`` and ``users``."""

    def extra(sub) -> None:
        dbcli.add_parser(sub)
        add_parser(sub)

    return cli.main(argv, extra=extra)
