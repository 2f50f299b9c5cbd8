"""A dry run over the drop folder: every mapping validated, every export parsed, nothing
loaded. What ``python -m ingestion.files --check`` prints, for a seller writing a mapping."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ingestion.files.folder import parse_drop, resolve, scan
from ingestion.files.mapping import Catalog, MappingError


def check_import_dir(import_dir: str | Path) -> tuple[str, bool]:
    """A readable report and whether everything would load without a refusal."""
    root = Path(import_dir)
    catalog = Catalog.for_import_dir(root)
    lines = [f"Drop folder {root}"]
    ok = True
    for name in catalog.names():
        try:
            mapping = catalog.get(name)
            lines.append(f"  mapping {name}: ok ({mapping.path})")
        except MappingError as exc:
            ok = False
            lines.append(f"  mapping {name}: ERROR {exc}")
    resolved = {}
    for drop in scan(root):
        if drop.folder not in resolved:
            resolved[drop.folder] = resolve(catalog, drop.folder)
        parsed = parse_drop(drop, resolved[drop.folder])
        refused = Counter(row["entity"] for row in parsed.quarantine.rows)
        lines.append(
            f"  {drop.relative}: {len(parsed.orders)} orders, {len(parsed.lines)} lines, "
            f"{refused.get('row', 0)} rows refused"
        )
        for row in parsed.quarantine.rows:
            ok = False
            lines.append(f"    {row['record_id']}: {row['reason']}")
    return "\n".join(lines), ok
