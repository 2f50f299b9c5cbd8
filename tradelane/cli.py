"""The ``tradelane`` command line: sandbox, run, status."""

from __future__ import annotations

from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from tradelane import settings

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
    faults: str = typer.Option("none", help="Fault profile: none, realistic or harsh."),
    shopify_plan: str = typer.Option(
        "standard",
        help="Shopify rate limit: standard (40-request bucket, 2/s) or plus (400, 20/s).",
    ),
) -> None:
    """Run the sandbox API in the foreground (Ctrl-C stops it)."""
    from ingestion.sandbox.server import serve

    serve(
        host=settings.SANDBOX_HOST,
        port=port,
        seed=seed,
        n_orders=orders,
        world_dir=None if world is None else Path(world),
        faults=faults,
        shopify_plan=shopify_plan,
    )


@sandbox_app.command("generate")
def sandbox_generate(
    out: str = typer.Option(..., help="Folder for the ledger (Parquet per table + manifest)."),
    seed: int = typer.Option(42, help="Seed (same seed and parameters, byte-identical files)."),
    orders: int = typer.Option(2000, help="Orders placed in the history window."),
    days: int = typer.Option(90, help="Days of history before the clock's start."),
    future_days: int = typer.Option(30, help="Days after the clock's start the ledger covers."),
) -> None:
    """Generate a world and write its ground-truth ledger."""
    import time

    from ingestion.sandbox.ledger import write_ledger
    from ingestion.sandbox.world import generate_world

    started = time.perf_counter()
    world = generate_world(seed=seed, n_orders=orders, days=days, future_days=future_days)
    generated = time.perf_counter() - started
    manifest = write_ledger(world, out)
    written = time.perf_counter() - started - generated
    table = Table(title=f"Sandbox ledger in {out} (seed {seed})")
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
