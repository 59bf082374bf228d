"""Many rows in one statement, without the ORM's per-value machinery.

For writes made while CPU-bound threads hold the GIL (a push chunk's result batches): every statement
waits to take the GIL back after the driver releases it, and Django's bulk_update (a CASE per row) and
bulk_create compile and prepare each value through several method calls. Here an UPDATE of many rows,
each with its own values, is one `UPDATE ... FROM` a VALUES list (SQLite 3.33+, PostgreSQL), an INSERT
of many rows one multi-row INSERT; values are prepared for the database as the fields would (a fast path
for text, numbers and booleans, which both drivers bind as they are). No signals, as bulk_create sends
none; the objects are not refreshed (an inserted one keeps no primary key).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

Prep = Callable[[Any], Any] | None
AS_IS = {"CharField", "TextField", "BooleanField", "IntegerField", "PositiveIntegerField", "BigIntegerField",
         "PositiveBigIntegerField", "SmallIntegerField", "PositiveSmallIntegerField", "ForeignKey"}
TEXT = {"CharField", "TextField"}
PG_MAX_PARAMS = 65535


def _prep(field: models.Field) -> Prep:
    """How a value of `field` is sent: as it is (None), or through a function."""
    kind = field.get_internal_type()
    if kind in AS_IS:
        return None
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return field


def _cast_type(field: models.Field) -> str:
    return field.cast_db_type(connection)  # type: ignore[attr-defined]  # (not in django-stubs)


def _rows_per_statement(columns: int) -> int:
    limit = connection.features.max_query_params or PG_MAX_PARAMS
    return max(1, limit // max(1, columns))


def _values(preps: list[Prep], raw: Sequence[Any]) -> list[Any]:
    return [v if p is None or v is None else p(v) for p, v in zip(preps, raw, strict=True)]


def update_from_values() -> bool:
    """Whether this database updates rows from a VALUES list (else one prepared UPDATE per row)."""
    return connection.vendor == "postgresql" or (
        connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 33))


def update_rows(model: type[models.Model], fields: list[str], rows: list[tuple[Any, Sequence[Any]]],
                constants: dict[str, Any] | None = None) -> None:
    """Set `fields` of each row (primary key, values in the order of `fields`), and `constants` (the same
    value for every row) with them: one statement (more only past the database's parameter limit)."""
    if not rows:
        return
    qn, meta = connection.ops.quote_name, model._meta
    columns = [_field(model, name) for name in fields]
    preps = [_prep(c) for c in columns]
    fixed = [(_field(model, name), value) for name, value in (constants or {}).items()]
    fixed_sql = [f"{qn(f.column)} = %s" for f, _ in fixed]
    fixed_params = [f.get_db_prep_save(value, connection) for f, value in fixed]
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    prepared = [[key, *_values(preps, values)] for key, values in rows]
    with connection.cursor() as cursor:
        if not update_from_values():
            sql = (f"UPDATE {table} SET {', '.join([*(f'{qn(c.column)} = %s' for c in columns), *fixed_sql])} "
                   f"WHERE {pk} = %s")
            cursor.executemany(sql, [[*row[1:], *fixed_params, row[0]] for row in prepared])
            return
        cast = connection.vendor != "sqlite"  # PostgreSQL types a VALUES column from its values: text for '...'

        def value(c: models.Field) -> str:
            # Text as it is: a cast to varchar(n) would cut a long value where the column refuses it.
            ref = f"v.{qn(c.column)}"
            return f"CAST({ref} AS {_cast_type(c)})" if cast and c.get_internal_type() not in TEXT else ref

        names = ", ".join(["pk", *(qn(c.column) for c in columns)])
        sets = ", ".join([*(f"{qn(c.column)} = {value(c)}" for c in columns), *fixed_sql])
        row_sql = f"({', '.join(['%s'] * (len(columns) + 1))})"
        key = f"CAST(v.pk AS {_cast_type(meta.pk)})" if cast else "v.pk"
        size = _rows_per_statement(len(columns) + 1)
        for start in range(0, len(prepared), size):
            part = prepared[start:start + size]
            sql = (f"WITH v ({names}) AS (VALUES {', '.join([row_sql] * len(part))}) "
                   f"UPDATE {table} SET {sets} FROM v WHERE {table}.{pk} = {key}")
            cursor.execute(sql, [*(p for row in part for p in row), *fixed_params])


def insert_objects(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert these unsaved objects (an automatic primary key) as bulk_create would, `auto_now_add` and
    `auto_now` fields set to now on each; one statement (more only past the parameter limit)."""
    if not objs:
        return
    qn, meta = connection.ops.quote_name, model._meta
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    stamped = [f for f in columns if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    preps = [_prep(c) for c in columns]
    attnames = [c.attname for c in columns]
    rows = []
    for obj in objs:
        for f in stamped:
            f.pre_save(obj, add=True)
        rows.append(_values(preps, [getattr(obj, name) for name in attnames]))
    row_sql = f"({', '.join(['%s'] * len(columns))})"
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c.column) for c in columns)}) VALUES "
    size = _rows_per_statement(len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            part = rows[start:start + size]
            cursor.execute(head + ", ".join([row_sql] * len(part)), [p for row in part for p in row])
