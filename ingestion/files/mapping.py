"""Column-mapping files: how one kind of export becomes the canonical order tables.

A mapping is YAML (see ``docs/file-imports.md``). It is validated completely when loaded, and
every problem is reported at once with the mapping file and the field it concerns, so a typo
costs one edit, not one run per typo. Shipped mappings live in ``ingestion/files/mappings/``;
a user's in ``<import dir>/mappings/`` override shipped ones of the same name and may
``extends:`` one to change only what differs (a store id, a sheet name).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ingestion.common.parsing import BadValue
from ingestion.files import settings
from ingestion.files.canonical import (
    ACCEPTS,
    LINE_FIELDS,
    ORDER_FIELDS,
    VOCABULARIES,
    CanonicalField,
    FieldType,
    Kind,
    coerce,
)
from ingestion.files.transforms import FIRST_NONBLANK, Transform, TransformError, build

TOP_KEYS = {
    "description",
    "extends",
    "format",
    "timezone",
    "channel",
    "store",
    "order_key",
    "orders",
    "lines",
}
FORMAT_KEYS = {"type", "delimiter", "quote_char", "encoding", "header_row", "sheet", "extensions"}
FIELD_KEYS = {"column", "columns", "value", "transform", "default", "optional", "aggregate"}
_CHANNEL_RE = re.compile(r"[a-z][a-z0-9_]*")
_STORE_FIELD = CanonicalField(FieldType.TEXT, "The store (marketplace, shop) within the channel.")


class MappingError(ValueError):
    """A mapping file that cannot be used; names the file and every problem found."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"mapping {path}: " + "; ".join(problems))


@dataclass(frozen=True)
class FileFormat:
    type: str
    delimiter: str
    quote_char: str | None
    encoding: str
    header_row: int
    sheet: str | int | None
    extensions: tuple[str, ...]


@dataclass(frozen=True)
class FieldSpec:
    """Where one canonical field comes from and how its text becomes the field's value."""

    target: str
    field_type: FieldType
    columns: tuple[str, ...] = ()
    constant: Any = None
    transforms: tuple[Transform, ...] = ()
    default: Any = None
    optional: bool = False
    aggregate: str = "first"  # orders only: first | first_nonblank | sum


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path
    description: str
    format: FileFormat
    timezone: ZoneInfo | None
    channel: str
    store: FieldSpec
    order_key: str
    orders: dict[str, FieldSpec]
    lines: dict[str, FieldSpec]
    fingerprint: str

    def specs(self) -> list[FieldSpec]:
        return [self.store, *self.orders.values(), *self.lines.values()]


def shipped_mappings_dir() -> Path:
    return Path(__file__).resolve().parent / "mappings"


def user_mappings_dir(import_dir: Path) -> Path:
    return import_dir / settings.MAPPINGS_FOLDER


@dataclass
class Catalog:
    """The mappings a drop folder can use: shipped ones, overridden by the user's."""

    shipped: dict[str, Path]
    user: dict[str, Path]
    _loaded: dict[str, Mapping | MappingError] = field(default_factory=dict)

    @classmethod
    def for_import_dir(cls, import_dir: Path) -> Catalog:
        return cls(_yaml_files(shipped_mappings_dir()), _yaml_files(user_mappings_dir(import_dir)))

    def names(self) -> list[str]:
        return sorted(set(self.shipped) | set(self.user))

    def path(self, name: str) -> Path | None:
        return self.user.get(name) or self.shipped.get(name)

    def get(self, name: str) -> Mapping:
        """The validated mapping ``name``; raises ``KeyError`` if none, ``MappingError`` if bad."""
        if name not in self._loaded:
            path = self.path(name)
            if path is None:
                raise KeyError(name)
            try:
                self._loaded[name] = load(name, path, self)
            except MappingError as exc:
                self._loaded[name] = exc
        result = self._loaded[name]
        if isinstance(result, MappingError):
            raise result
        return result

    def base_path(self, name: str, requested_by: Path) -> Path | None:
        """Where ``extends: name`` points: the user's mapping of that name unless it is the
        file asking (a user file may extend the shipped mapping it overrides), else shipped."""
        user = self.user.get(name)
        if user is not None and user.resolve() != requested_by.resolve():
            return user
        return self.shipped.get(name)


def _yaml_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix in {".yml", ".yaml"}}


def load(name: str, path: Path, catalog: Catalog | None = None) -> Mapping:
    """Read, resolve ``extends`` and validate one mapping file."""
    raw = _resolved(path, catalog, seen=())
    return _validate(name, path, raw)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(path, [f"cannot read it: {exc}"]) from exc
    if not isinstance(data, dict):
        raise MappingError(path, ["the file must be a YAML mapping of keys to values"])
    return data


def _resolved(path: Path, catalog: Catalog | None, seen: tuple[Path, ...]) -> dict[str, Any]:
    data = _read_yaml(path)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if catalog is None:
        raise MappingError(path, [f"extends {base_name!r}, but no other mappings are known"])
    base_path = catalog.base_path(str(base_name), path)
    if base_path is None:
        raise MappingError(
            path, [f"extends {base_name!r}, which is not a mapping ({', '.join(catalog.names())})"]
        )
    if base_path.resolve() in seen:
        raise MappingError(path, [f"extends {base_name!r} in a cycle"])
    return _deep_merge(_resolved(base_path, catalog, (*seen, path.resolve())), data)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Override wins; nested mappings merge; a key set to null is removed from the base."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}" if where else message)


def _validate(name: str, path: Path, raw: dict[str, Any]) -> Mapping:
    problems = _Problems()
    for key in sorted(set(raw) - TOP_KEYS):
        problems.add(key, f"unknown key; expected one of {', '.join(sorted(TOP_KEYS))}")
    file_format = _format(raw.get("format"), problems)
    timezone = _timezone(raw.get("timezone"), problems)
    channel = raw.get("channel")
    if not isinstance(channel, str) or not _CHANNEL_RE.fullmatch(channel):
        problems.add("channel", f"required, lowercase letters, digits and _ (got {channel!r})")
    order_key = raw.get("order_key")
    if not isinstance(order_key, str) or not order_key.strip():
        problems.add("order_key", "required: the column that says which order a row belongs to")
        order_key = ""
    store = _field("store", _STORE_FIELD, raw.get("store"), timezone, problems, order_level=True)
    if raw.get("store") is None:
        problems.add("store", "required: {column: ...} or {value: ...}")
    orders = _section("orders", ORDER_FIELDS, raw.get("orders"), timezone, problems)
    lines = _section("lines", LINE_FIELDS, raw.get("lines"), timezone, problems)
    if order_key and "external_order_id" not in orders and raw.get("orders") is not None:
        orders["external_order_id"] = FieldSpec(
            "orders.external_order_id", FieldType.TEXT, columns=(order_key,)
        )
    if raw.get("lines") is not None and not {"unit_price", "line_price"} & set(lines):
        problems.add("lines", "map unit_price or line_price (or both)")
    if raw.get("orders") is not None and "total" not in orders and "taxes_included" not in orders:
        problems.add(
            "orders.taxes_included",
            "required when total is not mapped: the total is computed and must know whether "
            "tax is added on top of the prices",
        )
    if problems.items or store is None:
        raise MappingError(path, problems.items)
    fingerprint = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]
    return Mapping(
        name=name,
        path=path,
        description=str(raw.get("description") or ""),
        format=file_format,  # type: ignore[arg-type]  # set whenever there are no problems
        timezone=timezone,
        channel=channel,  # type: ignore[arg-type]
        store=store,
        order_key=order_key,
        orders=orders,
        lines=lines,
        fingerprint=fingerprint,
    )


def _format(raw: Any, problems: _Problems) -> FileFormat | None:
    if not isinstance(raw, dict):
        problems.add("format", "required: {type: csv | tsv | xlsx, ...}")
        return None
    for key in sorted(set(raw) - FORMAT_KEYS):
        problems.add(
            f"format.{key}", f"unknown key; expected one of {', '.join(sorted(FORMAT_KEYS))}"
        )
    kind = raw.get("type")
    if kind not in settings.DEFAULT_EXTENSIONS:
        problems.add("format.type", f"must be csv, tsv or xlsx (got {kind!r})")
        return None
    delimiter = raw.get("delimiter", "\t" if kind == "tsv" else ",")
    if kind == "tsv" and delimiter != "\t":
        problems.add(
            "format.delimiter", "a tsv is tab-separated; use type csv for another delimiter"
        )
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        problems.add("format.delimiter", f"must be one character (got {delimiter!r})")
    # Amazon's flat files do not quote, and product titles contain bare '"' (12" pan): a tsv
    # reads quotes as text unless the mapping says otherwise.
    quote_char = raw.get("quote_char", None if kind == "tsv" else '"')
    if quote_char is not None and (not isinstance(quote_char, str) or len(quote_char) != 1):
        problems.add("format.quote_char", f"must be one character or null (got {quote_char!r})")
    encoding = raw.get("encoding", "utf-8")
    try:
        codecs.lookup(str(encoding))
    except LookupError:
        problems.add("format.encoding", f"{encoding!r} is not an encoding Python knows")
    header_row = raw.get("header_row", 1)
    if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
        problems.add("format.header_row", f"must be a row number from 1 (got {header_row!r})")
    sheet = raw.get("sheet")
    if sheet is not None and kind != "xlsx":
        problems.add("format.sheet", "only an xlsx has sheets")
    if isinstance(sheet, bool) or (isinstance(sheet, int) and sheet < 1):
        problems.add("format.sheet", f"a sheet name or a position from 1 (got {sheet!r})")
    extensions = raw.get("extensions", settings.DEFAULT_EXTENSIONS[kind])
    if not isinstance(extensions, list | tuple) or not all(
        isinstance(e, str) and e.startswith(".") for e in extensions
    ):
        problems.add("format.extensions", f"a list like ['.csv', '.txt'] (got {extensions!r})")
        extensions = settings.DEFAULT_EXTENSIONS[kind]
    return FileFormat(
        type=kind,
        delimiter=delimiter,
        quote_char=quote_char,
        encoding=str(encoding),
        header_row=header_row if isinstance(header_row, int) else 1,
        sheet=sheet,
        extensions=tuple(e.lower() for e in extensions),
    )


def _timezone(raw: Any, problems: _Problems) -> ZoneInfo | None:
    if raw is None:
        return None
    try:
        return ZoneInfo(str(raw))
    except (ZoneInfoNotFoundError, ValueError):
        problems.add("timezone", f"{raw!r} is not an IANA time zone such as Europe/Paris")
        return None


def _section(
    section: str,
    fields: dict[str, CanonicalField],
    raw: Any,
    timezone: ZoneInfo | None,
    problems: _Problems,
) -> dict[str, FieldSpec]:
    if not isinstance(raw, dict):
        problems.add(section, "required: a mapping of canonical field -> source")
        return {}
    specs: dict[str, FieldSpec] = {}
    for name, value in raw.items():
        canonical = fields.get(name)
        if canonical is None:
            problems.add(
                f"{section}.{name}",
                f"not a canonical field; expected one of {', '.join(sorted(fields))}",
            )
            continue
        spec = _field(
            f"{section}.{name}", canonical, value, timezone, problems, section == "orders"
        )
        if spec is not None:
            specs[name] = spec
    for name, canonical in fields.items():
        if canonical.required and name not in raw:
            problems.add(f"{section}.{name}", "required canonical field is not mapped")
    return specs


def _field(
    where: str,
    canonical: CanonicalField,
    raw: Any,
    timezone: ZoneInfo | None,
    problems: _Problems,
    order_level: bool,
) -> FieldSpec | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        problems.add(where, f"a column name or {{column: ..., transform: ...}} (got {raw!r})")
        return None
    count = len(problems.items)
    for key in sorted(set(raw) - FIELD_KEYS):
        problems.add(where, f"unknown key {key!r}; expected one of {', '.join(sorted(FIELD_KEYS))}")
    sources = [key for key in ("column", "columns", "value") if key in raw]
    if len(sources) != 1:
        problems.add(where, "give exactly one of column, columns (summed) or value (a constant)")
        return None
    columns: tuple[str, ...] = ()
    constant = None
    if "column" in raw:
        if not isinstance(raw["column"], str) or not raw["column"].strip():
            problems.add(where, f"column must be a column name (got {raw['column']!r})")
        columns = (str(raw["column"]),)
        kind = Kind.TEXT
    elif "columns" in raw:
        if not isinstance(raw["columns"], list) or not raw["columns"]:
            problems.add(where, "columns must be a non-empty list of column names")
            return None
        columns = tuple(str(c) for c in raw["columns"])
        if canonical.type not in {FieldType.MONEY, FieldType.INT}:
            problems.add(where, "several columns are summed, so only amounts and counts take them")
        kind = Kind.TEXT
    else:
        constant = raw["value"]
        kind = _constant_kind(where, constant, problems)

    transform_specs = raw.get("transform", [])
    if not isinstance(transform_specs, list):
        transform_specs = [transform_specs]
    transforms: list[Transform] = []
    aggregate = raw.get("aggregate", "first")
    for position, spec in enumerate(transform_specs):
        try:
            transform = build(spec, timezone)
        except TransformError as exc:
            problems.add(where, str(exc))
            return None
        if transform.name == FIRST_NONBLANK:
            if not order_level or position != 0:
                problems.add(
                    where, f"{FIRST_NONBLANK} applies to order fields, as the first transform"
                )
            aggregate = "first_nonblank"
            continue
        if kind not in transform.accepts:
            accepted = " or ".join(sorted(k.value for k in transform.accepts))
            problems.add(where, f"{transform.name} needs {accepted} but gets {kind.value}")
        kind = transform.produces or kind
        transforms.append(transform)
    if kind not in ACCEPTS[canonical.type]:
        problems.add(where, _kind_hint(canonical.type, kind))
    vocabulary = VOCABULARIES.get(canonical.type)
    if vocabulary is not None:
        for transform in transforms:
            for target in transform.targets:
                if target is not None and target not in vocabulary:
                    problems.add(
                        where, f"maps to {target!r}, not one of {', '.join(sorted(vocabulary))}"
                    )
    if aggregate not in {"first", "first_nonblank", "sum"}:
        problems.add(where, f"aggregate must be first or sum (got {aggregate!r})")
    if aggregate == "sum" and (
        not order_level or canonical.type not in {FieldType.MONEY, FieldType.INT}
    ):
        problems.add(where, "aggregate: sum adds an order's rows, for order amounts only")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        problems.add(where, f"optional must be true or false (got {optional!r})")
    default = None
    if raw.get("default") is not None:
        try:
            default = coerce(canonical.type, raw["default"], "default")
        except BadValue as exc:
            problems.add(where, str(exc))
    if len(problems.items) != count:
        return None
    return FieldSpec(
        target=where,
        field_type=canonical.type,
        columns=columns,
        constant=constant,
        transforms=tuple(transforms),
        default=default,
        optional=optional,
        aggregate=aggregate,
    )


def _constant_kind(where: str, value: Any, problems: _Problems) -> Kind:
    if isinstance(value, bool):
        return Kind.BOOL
    if isinstance(value, int):
        return Kind.INT
    if isinstance(value, str):
        return Kind.TEXT
    problems.add(
        where,
        f"value must be text, an integer or true/false (got {value!r}); "
        "write amounts as text ('0.50') so they stay exact",
    )
    return Kind.TEXT


def _kind_hint(field_type: FieldType, kind: Kind) -> str:
    hint = {
        FieldType.TIMESTAMP: "add a date or iso8601 transform",
        FieldType.BOOL: "add a bool or map transform",
    }.get(field_type, "check the transforms")
    return f"produces {kind.value} but the field holds {field_type.value}: {hint}"
