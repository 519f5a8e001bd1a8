"""Leaflet served by the dashboard itself: no CDN, no internet while the app runs.

The Leaflet files come from the pip package ``xstatic-leaflet``. At start the
dashboard copies them (only when missing or outdated) into the git-ignored
folder ``static/vendor/leaflet/`` next to ``dashboard.py``; Streamlit serves
that folder at ``<baseUrlPath>/app/static/`` when ``server.enableStaticServing``
is on (``.streamlit/config.toml``). Every map built by :mod:`geo.maps` loads
Leaflet from there and from nowhere else.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
#: Streamlit serves this folder at ``/app/static/``.
STATIC_DIR = APP_DIR / "static"
#: Where the Leaflet files go, inside :data:`STATIC_DIR`.
LEAFLET_SUBDIR = Path("vendor") / "leaflet"
#: Files the maps need (``images/`` holds the layer-control and marker icons the CSS refers to).
LEAFLET_FILES = ("leaflet.js", "leaflet.css")


@dataclass(frozen=True)
class Assets:
    """URLs of the JavaScript and CSS a map loads, in load order."""

    js: tuple[tuple[str, str], ...]
    css: tuple[tuple[str, str], ...]


def leaflet_source_dir() -> Path:
    """Folder of Leaflet's dist files inside the installed ``xstatic-leaflet`` package."""
    try:
        from xstatic.pkg import leaflet
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(
            "the package xstatic-leaflet is not installed; it provides Leaflet for offline maps "
            "(pip install XStatic-Leaflet)"
        ) from exc
    return Path(leaflet.BASE_DIR)


def leaflet_version() -> str:
    """Leaflet's version as packaged by ``xstatic-leaflet``, e.g. ``"1.9.3"``."""
    from xstatic.pkg import leaflet

    return str(leaflet.VERSION)


def _source_files(src: Path) -> list[Path]:
    files = [src / name for name in LEAFLET_FILES]
    files += sorted(p for p in (src / "images").glob("*") if p.is_file())
    return files


def ensure_leaflet(static_dir: Path = STATIC_DIR) -> Path:
    """Copy Leaflet into ``static_dir/vendor/leaflet`` unless an identical copy is there.

    Returns the target folder. Safe to call on every run: it compares file
    contents and copies only what differs. (``/static/vendor/`` is git-ignored.)
    """
    src = leaflet_source_dir()
    target = static_dir / LEAFLET_SUBDIR
    (target / "images").mkdir(parents=True, exist_ok=True)
    for path in _source_files(src):
        dest = target / path.relative_to(src)
        if not dest.exists() or not filecmp.cmp(path, dest, shallow=False):
            # a temporary file of this call's own (several processes, e.g. two replicas, may copy at once),
            # then an atomic rename: a browser never gets half a file
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
            try:
                os.fchmod(fd, 0o644)  # as a copied file would be (mkstemp makes it private)
                with os.fdopen(fd, "wb") as out, open(path, "rb") as src_file:
                    shutil.copyfileobj(src_file, out)
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    return target


def leaflet_assets(url_prefix: str = "") -> Assets:
    """The URLs of the local Leaflet JS and CSS as Streamlit serves them.

    ``url_prefix`` is Streamlit's ``server.baseUrlPath`` (``""`` by default).
    The URLs are absolute paths on the same host, never ``http(s)://``.
    """
    prefix = "/" + url_prefix.strip("/") if url_prefix.strip("/") else ""
    base = f"{prefix}/app/static/{LEAFLET_SUBDIR.as_posix()}"
    return Assets(js=(("leaflet", f"{base}/leaflet.js"),), css=(("leaflet_css", f"{base}/leaflet.css"),))


#: Placeholder URLs for maps that are saved as one standalone file (see :func:`standalone_html`).
INLINE_ASSETS = Assets(js=(("leaflet", "inline:leaflet.js"),), css=(("leaflet_css", "inline:leaflet.css"),))


def standalone_html(page: str) -> str:
    """Put Leaflet's JavaScript and CSS inside a map page built with :data:`INLINE_ASSETS`.

    The result opens offline from a file, on any computer: it refers to no
    other file and no server.
    """
    import re

    src = leaflet_source_dir()
    js = (src / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    css = (src / "leaflet.css").read_text(encoding="utf-8")
    page, n_js = re.subn(
        r'<script[^>]*src="inline:leaflet\.js"[^>]*>\s*</script>', lambda m: f"<script>{js}</script>", page
    )
    page, n_css = re.subn(r'<link[^>]*href="inline:leaflet\.css"[^>]*/?>', lambda m: f"<style>{css}</style>", page)
    if not (n_js and n_css):
        raise ValueError("the page was not built with INLINE_ASSETS: no Leaflet script or stylesheet to inline")
    return page
