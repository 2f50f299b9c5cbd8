"""The ``tradelane`` command line: sandbox, run, status, reconcile."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from tradelane import settings

if TYPE_CHECKING:
    from tradelane.reconcile import Ledger, MartTotals

app = typer.Typer(
    help="Tradelane: the order platform for cross-border sellers.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
sandbox_app = typer.Typer(help="The bundled sandbox of a seller's world.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
console = Console()


@sandbox_app.command("serve")
def sandbox_serve(
    port: int = typer.Option(settings.SANDBOX_PORT, help="Port on 127.0.0.1."),
    seed: int = typer.Option(42, help="Seed of the generated world (same seed, same world)."),
    orders: int = typer.Option(2000, help="Number of orders in the generated world."),
    world: str = typer.Option(
        None, help="Serve the ledger written by `tradelane sandbox generate` (else generate one)."
    ),
    faults: str = typer.Option(
        None,
        help="Fault profile: none, realistic or harsh (default: the one the --world ledger "
        "was generated with, else none).",
    ),
    shopify_plan: str = typer.Option(
        "standard",
        help="Shopify rate limit: standard (40-request bucket, 2/s) or plus (400, 20/s).",
    ),
    cache_mb: int = typer.Option(
        1024,
        min=0,
        help="Megabytes of rendered JSON all lazily rendered lists (Shopify orders, AfterShip "
        "trackings, Stripe objects...) may hold together; the least recently used goes first.",
    ),
) -> None:
    """Run the sandbox API in the foreground (Ctrl-C stops it)."""
    from ingestion.sandbox.server import serve

    if world is not None:
        faults = _world_faults(Path(world), faults)
    serve(
        host=settings.SANDBOX_HOST,
        port=port,
        seed=seed,
        n_orders=orders,
        world_dir=None if world is None else Path(world),
        faults=faults or "none",
        shopify_plan=shopify_plan,
        cache_mb=cache_mb,
    )


def _world_faults(world: Path, asked: str | None) -> str:
    """The profile to serve a generated world with: the one its ledger lists malformed records
    for. Another one would serve records corrupted that the ledger does not list (and list
    some served clean), so reconciling against it could never come out even."""
    from ingestion.sandbox.ledger import read_manifest

    try:
        generated = read_manifest(world)["parameters"].get("faults", "none")
    except FileNotFoundError:
        console.print(f"[red]{world} holds no ledger (run `tradelane sandbox generate`).[/red]")
        raise typer.Exit(code=2) from None
    if asked is not None and asked != generated:
        console.print(
            f"[red]{world} was generated with --faults {generated}; serve it with that profile "
            f"or generate it again with --faults {asked}.[/red]"
        )
        raise typer.Exit(code=2)
    return generated


@sandbox_app.command("generate")
def sandbox_generate(
    out: str = typer.Option(..., help="Folder for the ledger (Parquet per table + manifest)."),
    seed: int = typer.Option(42, help="Seed (same seed and parameters, byte-identical files)."),
    orders: int = typer.Option(2000, help="Orders placed in the history window."),
    days: int = typer.Option(90, help="Days of history before the clock's start."),
    future_days: int = typer.Option(30, help="Days after the clock's start the ledger covers."),
    faults: str = typer.Option(
        "none",
        help="Fault profile the world will be served with (none, realistic, harsh): the "
        "ledger's malformed_records lists every record it serves corrupted.",
    ),
) -> None:
    """Generate a world and write its ground-truth ledger."""
    import time

    from ingestion.sandbox.fault_data import with_malformed_records
    from ingestion.sandbox.faults import get_profile
    from ingestion.sandbox.ledger import write_ledger
    from ingestion.sandbox.world import generate_world

    try:
        profile = get_profile(faults)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    started = time.perf_counter()
    world = generate_world(seed=seed, n_orders=orders, days=days, future_days=future_days)
    world = with_malformed_records(world, profile)
    generated = time.perf_counter() - started
    manifest = write_ledger(world, out)
    written = time.perf_counter() - started - generated
    table = Table(title=f"Sandbox ledger in {out} (seed {seed}, faults {profile.name})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in manifest["counts"].items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(
        f"{world.start:%Y-%m-%d} .. {world.end:%Y-%m-%d} (clock start), ledger to "
        f"{world.horizon:%Y-%m-%d}; generated in {generated:.1f}s, written in {written:.1f}s"
    )


@sandbox_app.command("advance")
def sandbox_advance(
    days: float = typer.Option(1.0, help="How many days to move the sandbox clock forward."),
    url: str = typer.Option(None, help="Sandbox URL (default: TRADELANE_SANDBOX_URL)."),
) -> None:
    """Move the running sandbox's clock on: new orders appear, old ones get updates."""
    base = url or settings.sandbox_url()
    response = httpx.post(f"{base}/_sandbox/clock/advance", params={"days": days}, timeout=30)
    response.raise_for_status()
    console.print(f"Sandbox clock is now {response.json()['now']}")


@app.command("reconcile")
def reconcile(
    world: str = typer.Option(
        None, help="Compare with the ledger written by `tradelane sandbox generate` in DIR."
    ),
    as_of: str = typer.Option(
        None,
        help="With --world: the sandbox clock the load ran at (ISO 8601; default: the "
        "world's end, where a fresh sandbox starts).",
    ),
    url: str = typer.Option(
        None,
        help="Else the running sandbox's ledger as of its clock (default: TRADELANE_SANDBOX_URL).",
    ),
    layer: str = typer.Option(
        "raw",
        help="What to compare with the ledger: raw (every table, row by row) or mart (the "
        "mart's totals per channel, store and currency, to the cent).",
    ),
    source: Annotated[
        list[str] | None,
        typer.Option(
            help="Raw layer: only these sources (repeatable), and each of their tables must be "
            "loaded; default: every source, tables not loaded are reported and skipped."
        ),
    ] = None,
    warehouse: str = typer.Option(None, help="DuckDB file (default: TRADELANE_WAREHOUSE)."),
) -> None:
    """Compare the warehouse with the sandbox's ground truth. Raw layer: per source and entity,
    what is missing, duplicated or different (money to the cent with its currency, UTC
    timestamps, exact ids), and whether every record served malformed sits in quarantine. Mart
    layer: per fact, channel, store and currency, the ledger's totals against the mart's and
    the difference. Exits 1 on any mismatch."""
    from datetime import datetime

    from tradelane.reconcile import LAYERS, MART_TOTALS, Ledger, LedgerUnavailable
    from tradelane.reconcile import reconcile as compare
    from tradelane.reconcile.report import print_report

    layers = (*LAYERS, "mart")
    if layer not in layers:
        raise typer.BadParameter(f"choose one of {', '.join(layers)}", param_hint="--layer")
    if layer == "mart" and source:
        raise typer.BadParameter("applies to the raw layer only", param_hint="--source")
    path = Path(warehouse) if warehouse else settings.warehouse_path()
    if not path.exists():
        console.print(f"[red]No warehouse at {path}: load something first (tradelane run).[/red]")
        raise typer.Exit(code=2)
    try:
        if world is not None:
            moment = None if as_of is None else datetime.fromisoformat(as_of)
            if moment is not None and moment.tzinfo is None:
                raise typer.BadParameter(
                    "give a UTC offset (2026-11-01T00:00:00Z)", param_hint="--as-of"
                )
            ledger = Ledger.from_world(world, moment)
        else:
            ledger = Ledger.from_sandbox(url or settings.sandbox_url())
    except (LedgerUnavailable, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from None
    if layer == "mart":
        _reconcile_mart(path, ledger, MART_TOTALS)
    entities = LAYERS[layer]
    if source:
        unknown = set(source) - {e.source for e in entities}
        if unknown:
            raise typer.BadParameter(f"unknown source(s) {sorted(unknown)}", param_hint="--source")
        entities = tuple(e for e in entities if e.source in source)
    results = compare(path, ledger, entities, strict=bool(source))
    print_report(results, ledger.description, console)
    raise typer.Exit(code=0 if all(r.ok for r in results) else 1)


def _reconcile_mart(path: Path, ledger: Ledger, entities: tuple[MartTotals, ...]) -> None:
    """``reconcile --layer mart``: exits 0 when every total agrees, 1 on any mismatch, 2 when
    the warehouse has no mart."""
    from tradelane.reconcile import MartNotBuilt, reconcile_mart
    from tradelane.reconcile.report import print_totals_report

    try:
        results = reconcile_mart(path, ledger, entities)
    except MartNotBuilt as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from None
    print_totals_report(results, ledger.description, console)
    raise typer.Exit(code=0 if all(r.ok for r in results) else 1)


@app.command("run")
def run() -> None:
    """Materialize the whole asset graph once (load, build, route, publish) and summarize."""
    from tradelane.runner import print_summary, run_all

    summary = run_all(console)
    print_summary(summary, console)
    raise typer.Exit(code=0 if summary.success else 1)


@app.command("status")
def status() -> None:
    """What was loaded and built, and when."""
    from tradelane.status import collect_status

    report = collect_status(settings.warehouse_path(), settings.published_dir())
    console.print(f"Warehouse: {report.warehouse}")
    if report.note:
        console.print(f"[yellow]{report.note}[/yellow]")
    if report.sources:
        sources = Table(title="Sources (raw datasets)")
        for column in ("dataset", "loads", "last loaded (UTC)", "tables", "quarantined"):
            sources.add_column(column)
        for s in report.sources:
            sources.add_row(
                s.dataset,
                str(s.loads),
                s.last_loaded_at.strftime("%Y-%m-%d %H:%M:%S") if s.last_loaded_at else "never",
                ", ".join(f"{t.table}={t.rows}" for t in s.tables if t.table != "quarantine"),
                str(s.quarantined),
            )
        console.print(sources)
    if report.built:
        built = Table(title="Built (marts and actions)")
        built.add_column("table")
        built.add_column("rows", justify="right")
        for t in report.built:
            built.add_row(f"{t.schema}.{t.table}", f"{t.rows:,}")
        console.print(built)
    if report.built_at:
        console.print(f"Routing last decided at {report.built_at:%Y-%m-%d %H:%M:%S %Z}")
    if report.published_file:
        console.print(
            f"Published copy: {report.published_file.name} "
            f"(written {report.published_at:%Y-%m-%d %H:%M:%S})"
        )
    else:
        console.print("Nothing published yet: dashboards have nothing to show.")


if __name__ == "__main__":
    app()
