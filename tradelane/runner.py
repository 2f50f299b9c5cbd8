"""Materialize the whole asset graph once, in this process, with a progress display.

The run is recorded in the Dagster instance at ``$DAGSTER_HOME``, so a run started from the CLI
shows up in the Dagster UI's history like a scheduled one.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradelane import settings


@dataclass
class RunSummary:
    run_id: str
    success: bool
    seconds: float
    materialized: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    error: str | None = None
    log_path: Path | None = None


def ensure_dagster_home() -> None:
    """Point Dagster at the project's instance folder (unless the user chose one) and give it
    the project's ``dagster.yaml`` (telemetry off, one run at a time)."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(home))
    config = settings.REPO_ROOT / "dagster.yaml"
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(config, home / "dagster.yaml")


def run_all(console: Console | None = None) -> RunSummary:
    """Run the ``refresh_all`` job; the step-by-step log (dbt's output, Dagster's events) goes
    to ``var/log/run-<id>.log`` so the terminal shows progress, not thousands of lines."""
    console = console or Console(file=sys.stdout)
    ensure_dagster_home()
    from pipelines.defs.dbt.project import prepare_manifest

    with console.status("Preparing the dbt manifest..."):
        prepare_manifest()
    with console.status("Loading the Dagster definitions..."):
        import dagster as dg

        from pipelines.definitions import defs

        job = defs.resolve_job_def("refresh_all")
        instance = dg.DagsterInstance.get()
    total_steps = len(job.graph.node_defs)
    run_id = str(uuid.uuid4())
    outcome: dict[str, Any] = {}
    log_path = settings.log_dir() / f"run-{run_id[:8]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def execute() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                instance=instance, run_id=run_id, raise_on_error=False
            )
        except Exception as exc:  # surfaced in the summary; the thread must not die silently
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=execute, name="tradelane-run")
    with (
        log_path.open("w") as log_file,
        _redirected_output(log_file),
        Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("Running the pipeline", total=total_steps)
        worker.start()
        while worker.is_alive():
            worker.join(timeout=0.5)
            done, current = _step_progress(instance, run_id)
            progress.update(
                task, completed=done, description=f"Running {current}" if current else "Running"
            )
        progress.update(task, completed=total_steps if "result" in outcome else done)
    summary = _summarize(run_id, outcome, time.monotonic() - started)
    summary.log_path = log_path
    return summary


@contextmanager
def _redirected_output(log_file: TextIO) -> Iterator[None]:
    """Send Python-level stdout/stderr (dbt's streamed lines, Dagster's console logger) to the
    run log; the progress bar keeps the real terminal because its console was bound first."""
    with redirect_stdout(log_file), redirect_stderr(log_file):
        yield


def _step_progress(instance: Any, run_id: str) -> tuple[int, str | None]:
    import dagster as dg

    done, current = 0, None
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            current = event.step_key
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            done += 1
    return done, current


def _summarize(run_id: str, outcome: dict[str, Any], seconds: float) -> RunSummary:
    if "error" in outcome:
        return RunSummary(run_id, False, seconds, error=str(outcome["error"]))
    result = outcome["result"]
    summary = RunSummary(run_id, result.success, seconds)
    for event in result.all_events:
        if event.is_step_materialization:
            materialization = event.event_specific_data.materialization
            summary.materialized[materialization.asset_key.to_user_string()] = {
                k: v.value
                for k, v in materialization.metadata.items()
                if k
                in {
                    "rows_loaded",
                    "quarantined_records",
                    "quarantined_by_expectations",
                    "quarantine_total",
                    "routed",
                    "held",
                    "published_file",
                    "orders_considered",
                }
            }
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                summary.checks_passed += 1
            else:
                summary.checks_failed.append(evaluation.asset_check_key.to_user_string())
        elif event.is_step_failure:
            summary.error = (
                (summary.error or "")
                + f"{event.step_key} failed: "
                + str(event.event_specific_data.error.message.strip().splitlines()[-1])
                + "\n"
            )
    return summary


def print_summary(summary: RunSummary, console: Console) -> None:
    table = Table(title=f"Run {summary.run_id[:8]} ({summary.seconds:.1f} s)")
    table.add_column("asset")
    table.add_column("details")
    for key, meta in summary.materialized.items():
        table.add_row(key, ", ".join(f"{k}={v}" for k, v in meta.items()))
    console.print(table)
    quarantined = {
        key.split("/")[0]: meta["quarantine_total"]
        for key, meta in summary.materialized.items()
        if key.endswith("/quarantine") and "quarantine_total" in meta
    }
    if quarantined:
        console.print(
            "Quarantine: " + ", ".join(f"{source} {n}" for source, n in quarantined.items())
        )
    console.print(f"Checks: {summary.checks_passed} passed, {len(summary.checks_failed)} failed")
    for check in summary.checks_failed:
        console.print(f"  [red]failed[/red] {check}")
    if summary.error:
        console.print(f"[red]{summary.error}[/red]")
    if summary.log_path:
        console.print(f"Full log: {summary.log_path}")
    console.print("[green]Run succeeded[/green]" if summary.success else "[red]Run failed[/red]")
