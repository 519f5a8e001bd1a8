"""Parts of a page that show recorded data (concerns, meetings, committees' activity) and redraw themselves.

A secretary records a concern in one session (:mod:`geo.meetings` writes it, with its table's revision, into the
deployment's database); every other session shows it within ``DASHBOARD_REFRESH_SECONDS`` without anyone
reloading the page. Each such part is an ``st.fragment(run_every=…)``: every few seconds it

1. asks :func:`views.gate.still_allowed` whether the visitor may still see it (the database's roles, a disabled
   user, the idle timeout), without counting the refresh as activity or as a page view;
2. asks :func:`views.cache.current` for the data: the tables' revisions (one cheap query) and, only when one
   moved, the tables that moved. The incidents and their cube are the same objects as before (a concern never
   reloads them); in public, the public copy of the visitor's policy;
3. draws the part again. Streamlit removes a fragment's elements that a run does not send again, so an
   unchanged part is sent again as it was (from the same data objects; the browser keeps it in place).

When the sections or incidents moved (a new import), the page's filters may no longer fit: the whole page reruns
(not as activity).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from geo.dataset import Dataset
from views import cache, gate
from views.context import Context

#: Session key of the data key the page's filters were made for (set by dashboard.py).
DATA_KEY = "_data_key"
#: The refresh when ``DASHBOARD_REFRESH_SECONDS`` is wrong (seconds; the setting's default).
DEFAULT_SECONDS = 5.0


def every(ctx: Context) -> float | None:
    """Seconds between a part's refreshes (``None``: only with the page); a wrong setting gives the default."""
    try:
        return ctx.settings.refresh_seconds
    except ValueError:
        return DEFAULT_SECONDS


def fresh(ctx: Context) -> tuple[Dataset, str]:
    """The session's data now, as :func:`views.cache.current` gives it (the public copy in public), and its key.

    Reruns the whole page (not as activity) when the sections or incidents moved since the page was drawn."""
    data, fingerprint = cache.current(ctx.source, ctx.policy)
    drawn_for = st.session_state.get(DATA_KEY)
    if drawn_for is not None and cache.data_key(ctx.source, ctx.policy) != drawn_for:
        st.session_state[gate.AUTOMATIC_KEY] = True
        st.rerun()
    return data, fingerprint


def part(ctx: Context, draw: Callable[[Dataset, str], None]) -> None:
    """``draw(data, fingerprint)`` now, with the page's data, and again every :func:`every` seconds with the
    data then (see the module's description). ``draw`` may use widgets: they rerun only the part."""
    drawn = [False]

    @st.fragment(run_every=every(ctx))
    def live() -> None:
        if not drawn[0]:  # the page's own run: it has just decided who the visitor is and loaded the data
            drawn[0] = True
            draw(ctx.data, ctx.fingerprint)
            return
        if not gate.still_allowed(ctx._, ctx):
            return
        try:
            data, fingerprint = fresh(ctx)
        except Exception as exc:  # noqa: BLE001 - the data as last drawn, saying why it is not newer
            st.caption(
                ctx._(
                    "New records could not be looked for ({error}); this shows the data as it was.",
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            data, fingerprint = ctx.data, ctx.fingerprint
        draw(data, fingerprint)

    live()


def watch(ctx: Context, *tables: str) -> None:
    """Rerun the whole page (not as activity) within :func:`every` seconds of one of ``tables`` moving: for what
    a part cannot redraw alone, such as a map whose clicks change the sidebar (the Concerns page's map of
    worries, the Committees page's coverage map). Draws nothing; costs one cheap query per refresh."""
    drawn_for = cache.table_key(ctx.source, *tables, at=ctx.fingerprint)  # as the page drew it

    @st.fragment(run_every=every(ctx))
    def watcher() -> None:
        if not gate.still_allowed(ctx._, ctx):
            return
        try:
            cache.current(ctx.source, ctx.policy)  # reloads only what moved
        except Exception:  # noqa: BLE001 - the page keeps what it drew; its parts say why
            return
        if cache.table_key(ctx.source, *tables) != drawn_for:
            st.session_state[gate.AUTOMATIC_KEY] = True
            st.rerun()

    watcher()
