"""Administration: who may use the dashboard with which role and committees, and the audit log.

Only administrators reach this page (``dashboard.py`` registers it for them alone); it checks again itself,
since a page is a script a run may reach. Every change is written by :mod:`geo.users`, in the same
transaction as its audit record; the audit log's CSV export is itself recorded.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from geo import access, users
from geo.i18n import md_escape
from views import gate
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
who = ctx.who

if not who.access.admin:  # never reached through the navigation; a guard for any other way in
    st.error(_("This page is for the dashboard's administrators."))
    st.stop()

eng = gate.engine(ctx.settings)
actor = who.actor
held_by_me = tuple(sorted(who.access.roles))


def role_name(code: str) -> str:
    return _(access.ROLE_LABELS[code])


st.title(_("Administration"))

# ---------------------------------------------------------------- users and roles

st.header(_("Users and roles"))
st.caption(
    _(
        "Roles are kept in this deployment's database and checked on every page a user opens: a change takes "
        "effect at the user's next click. The first administrator is made on the server: "
        "`python -m geo users grant EMAIL administrator`."
    )
)
everyone = users.list_users(eng)
committees = ctx.data.committees
committee_ids = sorted(str(c) for c in committees["committee_id"]) if "committee_id" in committees else []
if everyone:
    table = pd.DataFrame(
        {
            _("Email"): [u.email for u in everyone],
            _("Name"): [u.name for u in everyone],
            _("Roles"): [", ".join(role_name(r) for r in access.ROLES if r in u.roles) for u in everyone],
            _("Committees"): [", ".join(sorted(u.committees)) for u in everyone],
            _("Disabled"): [_("yes") if u.disabled else "" for u in everyone],
            _("Last activity"): [
                _.date(u.last_activity.date()) + u.last_activity.strftime(" %H:%M") if u.last_activity else "–"
                for u in everyone
            ],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
else:
    st.info(_("No users yet."))

with st.form("admin_user", clear_on_submit=False):
    st.subheader(_("Change a user"))
    left, right = st.columns(2)
    email = left.text_input(_("Email"), key="admin_email")
    known = {u.email: u for u in everyone}
    current = known.get(email.strip().lower())
    roles = right.multiselect(
        _("Roles"),
        list(access.ROLES),
        default=sorted(current.roles) if current else [],
        format_func=role_name,
        key=f"admin_roles_{email.strip().lower()}",
    )
    chosen = st.multiselect(
        _("Committees (for committee secretaries)"),
        committee_ids,
        default=sorted(c for c in (current.committees if current else ()) if c in committee_ids),
        key=f"admin_committees_{email.strip().lower()}",
    )
    disabled = st.checkbox(_("Disabled"), value=bool(current and current.disabled), key="admin_disabled")
    saved = st.form_submit_button(_("Save"), type="primary")
if saved:
    target = email.strip().lower()
    try:
        before = known.get(target)
        held = before.roles if before else frozenset()
        for role in sorted(set(roles) - held):
            users.grant(eng, target, role, actor=actor, address=who.address, actor_roles=held_by_me)
        for role in sorted(held - set(roles)):
            users.revoke(eng, target, role, actor=actor, address=who.address, actor_roles=held_by_me)
        if before is None and not roles:
            raise ValueError(_("Give a new user at least one role."))
        if set(chosen) != set(before.committees if before else ()):
            users.set_committees(
                eng, target, frozenset(chosen), actor=actor, address=who.address, actor_roles=held_by_me
            )
        if bool(before and before.disabled) != disabled:
            users.set_disabled(eng, target, disabled, actor=actor, address=who.address, actor_roles=held_by_me)
    except (ValueError, users.AuditError) as exc:
        st.error(_("Nothing more was changed: {error}", error=md_escape(exc)))
    else:
        st.success(_("Saved: {email}", email=md_escape(target)))
        st.rerun()

# ---------------------------------------------------------------- the audit log

st.header(_("Audit log"))
st.caption(
    _(
        "Every sign-in and sign-out, every restricted page view (one record per change of page, area, period "
        "or categories), every restricted export, brief and map file, every import and upload and every role "
        "change: who, when, from which address, what. Records cannot be changed or deleted."
    )
)
today = date.today()
c1, c2, c3, c4 = st.columns(4)
since = c1.date_input(_("From"), value=today - timedelta(days=7), key="admin_since", format="DD.MM.YYYY")
until = c2.date_input(_("To"), value=today, key="admin_until", format="DD.MM.YYYY")
person = c3.text_input(_("User"), key="admin_actor")
action = c4.selectbox(
    _("Action"), ["", *users.ACTIONS], key="admin_action", format_func=lambda a: a or _("All actions")
)
found = users.entries(
    eng,
    since=since,
    until=until,  # a date: the whole day
    actor=person.strip().lower() or None,
    action=action or None,
)
st.caption(_("{n} records", n=_.number(len(found))))
st.dataframe(found.head(1000), hide_index=True, width="stretch")
detail = {"since": since.isoformat(), "until": until.isoformat(), "actor": person, "action": action}
st.download_button(
    _("Download the audit log (CSV)"),
    gate.audited(who, "audit-export", detail, lambda: users.entries_csv(found)),
    file_name=f"audit-log-{since.isoformat()}-{until.isoformat()}.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
)
