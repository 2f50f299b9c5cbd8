"""The drop folder: which files are new or changed, which mapping reads each, and one parsed
result per file.

``<import dir>/<mapping name>/**`` holds that mapping's exports. A file is parsed again only
when its content or its mapping changed since it was last loaded (the caller keeps that record
in dlt state). Files are only ever read: the folder is the seller's archive, not a queue.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.files import settings
from ingestion.files.build import FileMismatch, ParsedFile, parse_table
from ingestion.files.mapping import Catalog, Mapping, MappingError
from ingestion.files.readers import FileReadError, read_table

log = logging.getLogger(__name__)

_ANY_EXPORT = {ext for exts in settings.DEFAULT_EXTENSIONS.values() for ext in exts}


@dataclass(frozen=True)
class DropFile:
    path: Path
    relative: str  # "amazon_all_orders/2026-07.txt", the file's name in quarantine and tables
    folder: str | None  # the mapping name; None for a file outside any mapping folder
    content: bytes
    sha256: str
    mtime_ns: int


@dataclass(frozen=True)
class Resolved:
    """The mapping for a folder, or why there is none, and a version that changes when either
    changes (so fixing a mapping re-reads the files it refused)."""

    mapping: Mapping | None
    problem: str | None
    version: str


@dataclass
class Pending:
    drop: DropFile
    marker: dict[str, str]
    parsed: ParsedFile


def scan(import_dir: Path) -> list[DropFile]:
    """Every export under the drop folder, oldest first (a later export of an order wins)."""
    if not import_dir.is_dir():
        return []
    drops = []
    for path in import_dir.rglob("*"):
        relative = path.relative_to(import_dir)
        if not path.is_file() or _ignored(relative):
            continue
        folder = relative.parts[0] if len(relative.parts) > 1 else None
        if folder == settings.MAPPINGS_FOLDER:
            continue
        if folder is None and path.suffix.lower() not in _ANY_EXPORT:
            continue
        content = path.read_bytes()
        drops.append(
            DropFile(
                path=path,
                relative=relative.as_posix(),
                folder=folder,
                content=content,
                sha256=hashlib.sha256(content).hexdigest(),
                mtime_ns=path.stat().st_mtime_ns,
            )
        )
    return sorted(drops, key=lambda d: (d.mtime_ns, d.relative))


def _ignored(relative: Path) -> bool:
    return any(part.startswith(settings.IGNORED_PREFIXES) for part in relative.parts) or (
        relative.name.lower().endswith(settings.IGNORED_SUFFIXES)
    )


def resolve(catalog: Catalog, folder: str | None) -> Resolved:
    if folder is None:
        return Resolved(None, "the file is not in a mapping folder (<import dir>/<mapping>/)", "-")
    try:
        mapping = catalog.get(folder)
    except KeyError:
        known = ", ".join(catalog.names()) or "none"
        return Resolved(
            None,
            f"no mapping named {folder!r} (known: {known}); add "
            f"{settings.MAPPINGS_FOLDER}/{folder}.yml to the import folder",
            "missing",
        )
    except MappingError as exc:
        return Resolved(
            None, str(exc), "error-" + hashlib.sha256(str(exc).encode()).hexdigest()[:16]
        )
    return Resolved(mapping, None, mapping.fingerprint)


def parse_drop(drop: DropFile, resolved: Resolved) -> ParsedFile:
    """One file's orders, lines and quarantine; a file that cannot be read at all becomes one
    quarantine record naming the file and why."""
    parsed = ParsedFile(drop.relative)
    mapping = resolved.mapping
    problem = resolved.problem
    if mapping is not None and drop.path.suffix.lower() not in mapping.format.extensions:
        problem = (
            f"{drop.path.suffix or 'no extension'} is not a {mapping.format.type} extension of "
            f"mapping {mapping.path} ({', '.join(mapping.format.extensions)})"
        )
    if problem is None and mapping is not None:
        try:
            return parse_table(read_table(drop.content, mapping.format), mapping, drop.relative)
        except FileMismatch as exc:
            problem = str(exc)
        except FileReadError as exc:
            problem = f"{exc} (reading it as mapping {mapping.path} says)"
    payload = {"file": drop.relative, "sha256": drop.sha256, "bytes": len(drop.content)}
    parsed.quarantine.add("file", payload, str(problem), record_id=drop.relative)
    log.warning("%s: %s", drop.relative, problem)
    return parsed


def pending_files(
    import_dir: Path, loaded: dict[str, Any], reload_all: bool = False
) -> list[Pending]:
    """Parse the files that are new or changed since ``loaded`` (file -> marker)."""
    catalog = Catalog.for_import_dir(import_dir)
    resolved: dict[str | None, Resolved] = {}
    pending = []
    for drop in scan(import_dir):
        if drop.folder not in resolved:
            resolved[drop.folder] = resolve(catalog, drop.folder)
        marker = {"sha256": drop.sha256, "mapping": resolved[drop.folder].version}
        if not reload_all and loaded.get(drop.relative) == marker:
            continue
        pending.append(Pending(drop, marker, parse_drop(drop, resolved[drop.folder])))
    supersede(p.parsed for p in pending)
    return pending


def supersede(parsed_files: Iterable[ParsedFile]) -> None:
    """An order in several files of one run loads from the newest only, whole: merging two
    versions line by line would mix them."""
    later: set[tuple[str, str, str]] = set()
    for parsed in reversed(list(parsed_files)):
        keys = parsed.order_keys()
        parsed.drop_orders(later)
        later |= keys
