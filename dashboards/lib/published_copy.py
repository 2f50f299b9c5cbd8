"""Which published copy of the warehouse the dashboards show, and when it was published.

Pages resolve the copy on every rerun (reading the small ``CURRENT`` pointer is cheap), so a new
publish shows up on the next interaction without restarting Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tradelane.published import NothingPublishedError, current_published_path
from tradelane.settings import published_dir

# The name ``tradelane.published.publish`` gives each copy; it carries the publish time in UTC.
_FILE_NAME_FORMAT = "warehouse-%Y%m%dT%H%M%S%fZ.duckdb"


@dataclass(frozen=True)
class PublishedCopy:
    """One versioned, read-only copy of the warehouse."""

    path: Path
    published_at: datetime

    @property
    def cache_key(self) -> str:
        """What cached queries are keyed on: each publish writes a new file name, so results of an
        older copy are never served for a newer one."""
        return str(self.path)


def current_copy() -> PublishedCopy | None:
    """The copy the ``CURRENT`` pointer names, or ``None`` when nothing was published yet."""
    try:
        path = current_published_path(published_dir())
    except NothingPublishedError:
        return None
    return PublishedCopy(path=path, published_at=published_at(path))


def published_at(path: Path) -> datetime:
    """Publish time from the versioned file name; the file's mtime if the name does not carry one
    (a copy placed by hand)."""
    try:
        return datetime.strptime(path.name, _FILE_NAME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
