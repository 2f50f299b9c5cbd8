"""The ``DbtProject`` in a module of its own (DESIGN.md), plus ``prepare_manifest``.

The manifest is prepared *before* definitions load (by ``make setup``, ``tradelane run`` and the
test session), never by ``prepare_if_dev``: under ``dagster dev`` that re-parses dbt in every step
process and turned a 15 s run into 106 s here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from tradelane import settings

DBT_PROJECT_DIR = settings.dbt_project_dir()

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# The dbt installed beside this interpreter: the virtualenv need not be activated (on PATH).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def _sources_newest_mtime() -> float:
    files = [
        p
        for p in DBT_PROJECT_DIR.rglob("*")
        if p.suffix in {".sql", ".yml", ".md", ".csv"}
        and "target" not in p.parts
        and "logs" not in p.parts
    ]
    return max(p.stat().st_mtime for p in files)


def manifest_is_current() -> bool:
    manifest = Path(dbt_project.manifest_path)
    return manifest.exists() and manifest.stat().st_mtime >= _sources_newest_mtime()


def prepare_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project's files."""
    if force or not manifest_is_current():
        subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            check=True,
            cwd=DBT_PROJECT_DIR,
        )
    return Path(dbt_project.manifest_path)


if __name__ == "__main__":
    print(prepare_manifest(force="--force" in sys.argv))


def run_dbt_on(
    warehouse: Path, *args: str, work_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dbt <args>`` in the project on ``warehouse``, with target and logs in ``work_dir``.

    Why its own folders: tests and benchmarks build scratch warehouses while a Dagster run may be
    using the project's ``target/``; sharing it made the other run fail. The caller
    decides what a non-zero exit means (the result is returned, output captured)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [
            DBT_EXECUTABLE,
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "TRADELANE_WAREHOUSE": str(warehouse), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
