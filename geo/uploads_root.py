"""The one folder under which every session's uploads live, and whether a file lies in it.

Uploaded files are never written to the columnar cache (:mod:`geo.filecache`),
which asks :func:`is_upload`; the session folders themselves are made, used
and swept by :mod:`geo.uploads`. Both read :data:`UPLOADS_ROOT` from here when
called, so setting it (a test's private folder) moves them together.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

#: The parent of every session's upload folder: one folder the project owns in the temporary directory.
UPLOADS_ROOT = Path(tempfile.gettempdir()) / "community-policing-dashboard-uploads"


def is_upload(path: Path, root: Path | None = None) -> bool:
    """Whether ``path`` lies in a session's upload folder (under :data:`UPLOADS_ROOT` or ``root``)."""
    parent = Path(root if root is not None else UPLOADS_ROOT)
    try:
        return Path(path).resolve().is_relative_to(parent.resolve())
    except OSError:
        return False
