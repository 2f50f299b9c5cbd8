"""Print what reconcile found: one summary row per source and entity, then one line per
disagreement (a few per kind and entity, with the count of the rest), money as an exact decimal
with its currency, timestamps in UTC."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ingestion.common.currencies import iso_minor_units
from tradelane.reconcile.compare import EntityResult
from tradelane.reconcile.totals import Total, TotalsResult

SHOWN_PER_KIND = 5
_KINDS = (
    ("missing", "missing from raw"),
    ("duplicated", "duplicated in raw"),
    ("unexpected", "in raw but not in the ledger"),
    ("loaded_malformed", "served malformed but loaded into raw"),
    ("not_quarantined", "served malformed but not in quarantine"),
    ("unlisted_quarantined", "quarantined but not served malformed"),
)


def print_report(results: list[EntityResult], source: str, console: Console) -> None:
    """The summary table, then every disagreement on a line of its own (never wrapped, so it
    can be grepped), then the verdict."""
    table = Table(title=f"Reconcile: raw tables against {source}")
    for column in ("source", "entity", "ledger", "raw", "quarantined", "withheld", "problems"):
        left = column in ("source", "entity")
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    for r in results:
        quarantined = f"{r.quarantined}/{r.expected_quarantined}"
        problems = "[green]0[/green]" if r.ok else f"[red]{r.problems}[/red]"
        if r.not_loaded:
            problems = "[red]not loaded[/red]" if r.strict else "[yellow]not loaded[/yellow]"
        table.add_row(
            r.entity.source,
            r.entity.table,
            f"{r.ledger_rows:,}",
            f"{r.raw_rows:,}",
            quarantined,
            f"{r.withheld:,}",
            problems,
        )
    console.print(table)
    console.print(
        "quarantined: rows in the source's quarantine / records the ledger lists as served "
        "malformed; withheld: rows of a quarantined parent, never fetched."
    )
    for r in results:
        for line in problem_lines(r):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    bad = sum(r.problems for r in results)
    skipped = sum(r.not_loaded for r in results)
    if bad:
        console.print(f"[red]{bad} mismatches.[/red]")
    elif skipped:
        console.print(
            f"[green]Every loaded raw table matches the ledger exactly[/green] ({skipped} not "
            "loaded; name their sources with --source to require them)."
        )
    else:
        console.print("[green]Raw tables match the ledger exactly.[/green]")


def problem_lines(result: EntityResult) -> list[str]:
    """Plain lines naming every kind of disagreement of one entity."""
    name = result.entity.name
    lines = []
    if result.not_loaded:
        lines.append(f"{name}: raw table not loaded, nothing compared")
    for attr, label in _KINDS:
        keys = getattr(result, attr)
        for key in keys[:SHOWN_PER_KIND]:
            lines.append(f"{name} {key}: {label}")
        if len(keys) > SHOWN_PER_KIND:
            lines.append(f"{name}: {len(keys) - SHOWN_PER_KIND} more {label}")
    keys = sorted({d.key for d in result.different})
    for key in keys[:SHOWN_PER_KIND]:
        for d in (d for d in result.different if d.key == key):
            ledger = shown_value(d.ledger, d.column, d.ledger_currency)
            raw = shown_value(d.raw, d.column, d.raw_currency)
            column = d.column.removesuffix("_e4")
            lines.append(f"{name} {key}: {column} is {ledger} in the ledger, {raw} in raw")
    if len(keys) > SHOWN_PER_KIND:
        lines.append(f"{name}: {len(keys) - SHOWN_PER_KIND} more rows with different values")
    return lines


def shown_value(value: Any, column: str, currency: str | None) -> str:
    """A value as a person reads it: ten-thousandths as an exact decimal with its currency,
    at the currency's minor unit when that is exact (19.99 USD, 1999 JPY), else in full."""
    if value is None:
        return "nothing"
    if not column.endswith("_e4"):
        return str(value)
    amount = Decimal(int(value)).scaleb(-4)
    units = iso_minor_units(currency) if currency else None
    quantum = Decimal(1).scaleb(-units) if units is not None else None
    exact = quantum is not None and amount == amount.quantize(quantum)
    shown = amount.quantize(quantum) if exact else amount.normalize()
    return f"{shown:f} {currency or ''}".rstrip()


def print_totals_report(results: list[TotalsResult], source: str, console: Console) -> None:
    """One table per mart fact: every (channel/store, currency) measure with the ledger's
    figure, the mart's and the difference; then one unwrapped line per mismatch, then the
    verdict. Each group's name is shown once and folds when narrow; figures are never cut, so
    the tables stay readable at 80 columns."""
    console.print(f"Reconcile: mart totals against {source}")
    for r in results:
        table = Table(title=f"mart.{r.totals.name}", box=box.SIMPLE, pad_edge=False)
        for column in ("channel/store currency", "measure", "ledger", "mart", "difference"):
            left = column in ("channel/store currency", "measure")
            store = column == "channel/store currency"
            table.add_column(
                column,
                justify="left" if left else "right",
                no_wrap=not store,
                overflow="fold" if store else "ellipsis",
                min_width=12 if store else None,
            )
        if r.not_loaded:
            table.add_row("[yellow]not loaded[/yellow]", "", "", "", "")
        for i, t in enumerate(r.rows):
            group = (t.channel, t.store_id, t.currency)
            first = i == 0 or group != _group(r.rows[i - 1])
            last = i == len(r.rows) - 1 or group != _group(r.rows[i + 1])
            difference = shown_value(t.difference, t.measure, t.currency)
            table.add_row(
                _label(t) if first else "",
                t.measure.removesuffix("_e4"),
                shown_value(t.ledger, t.measure, t.currency),
                shown_value(t.mart, t.measure, t.currency),
                "[green]0[/green]" if t.ok else f"[red]{difference}[/red]",
                end_section=last,
            )
        console.print(table)
    for r in results:
        for line in totals_lines(r):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    bad = sum(len(r.mismatches) for r in results)
    skipped = sum(bool(r.not_loaded) for r in results)
    if bad:
        console.print(f"[red]{bad} mismatches.[/red]")
    elif skipped:
        console.print(
            f"[green]Every mart total whose sources were loaded matches the ledger exactly[/green]"
            f" ({skipped} not loaded)."
        )
    else:
        console.print("[green]Mart totals match the ledger exactly.[/green]")


def _group(total: Total) -> tuple[str, str, str | None]:
    return total.channel, total.store_id, total.currency


def _label(total: Total) -> str:
    """``channel/store currency``; rows matched to no order have no store."""
    store = f"{total.channel}/{total.store_id}" if total.store_id else total.channel
    return f"{store} {total.currency or '-'}"


def totals_lines(result: TotalsResult) -> list[str]:
    """Plain lines: what was not loaded, and each mismatching total with both figures and the
    difference (mart minus ledger)."""
    name = f"mart.{result.totals.name}"
    lines = []
    if result.not_loaded:
        lines.append(f"{name}: not loaded ({', '.join(result.not_loaded)}), nothing compared")
    for t in result.mismatches:
        group = _label(t)
        measure = t.measure.removesuffix("_e4")
        ledger = shown_value(t.ledger, t.measure, t.currency)
        mart = shown_value(t.mart, t.measure, t.currency)
        difference = shown_value(t.difference, t.measure, t.currency)
        lines.append(
            f"{name} {group}: {measure} is {ledger} in the ledger, {mart} in the mart "
            f"(difference {difference})"
        )
    return lines
