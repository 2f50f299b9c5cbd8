"""The ledger on disk: one Parquet file per table plus ``manifest.json``.

Why files: the ground truth of a generated world is what tests, benchmarks and
``tradelane reconcile`` compare the warehouse with, and a big world is generated once and
served many times (``tradelane sandbox serve --world DIR``). The same seed and parameters give
byte-identical files: rows are sorted by primary key, and the writer's options are fixed
(zstd at a fixed level, fixed row groups, no column statistics, no write timestamps), so
a ledger can be checked by hashing it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from ingestion.sandbox.world import TABLES, World

MANIFEST = "manifest.json"
FORMAT_VERSION = 2
_ROW_GROUP = 1_000_000


def write_ledger(world: World, directory: str | Path) -> dict[str, Any]:
    """Write every table of ``world`` to ``directory`` (created if missing) and return the
    manifest written beside them."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    counts = {}
    for name, frame in world.frames().items():
        path = out / f"{name}.parquet"
        pq.write_table(
            frame.to_arrow(),
            path,
            compression="zstd",
            compression_level=3,
            row_group_size=_ROW_GROUP,
            write_statistics=False,
            use_dictionary=True,
        )
        files[name] = {"file": path.name, "sha256": _sha256(path)}
        counts[name] = frame.height
    manifest = {
        "format_version": FORMAT_VERSION,
        "seed": world.seed,
        "parameters": world.parameters,
        "start": world.start.isoformat(),
        "end": world.end.isoformat(),
        "horizon": world.horizon.isoformat(),
        "counts": counts,
        "primary_keys": {name: list(keys) for name, keys in TABLES.items()},
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(directory: str | Path) -> dict[str, Any]:
    return json.loads((Path(directory) / MANIFEST).read_text())


def read_ledger(directory: str | Path) -> World:
    """The world written by ``write_ledger`` (frames equal to the ones written)."""
    root = Path(directory)
    manifest = read_manifest(root)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{root} holds a ledger of format {manifest.get('format_version')}")
    frames = {
        name: pl.read_parquet(root / entry["file"]) for name, entry in manifest["files"].items()
    }
    return World.from_frames(
        frames,
        seed=manifest["seed"],
        start=datetime.fromisoformat(manifest["start"]),
        end=datetime.fromisoformat(manifest["end"]),
        horizon=datetime.fromisoformat(manifest["horizon"]),
        parameters=manifest["parameters"],
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
