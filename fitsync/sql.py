"""Hand-written SQL for the statements on a webhook's path: record the event, upsert the item, queue it.

A webhook answers only after its transaction commits (R1), and on SQLite every webhook waits its turn for
the one write lock, so that transaction has to be short. Django's ORM spends most of a small statement's
time composing it (about 250 µs a statement on the bench machine, against some 30 µs for SQLite to run
it), so these few statements are written out here. They are INSERT ... ON CONFLICT and
UPDATE ... RETURNING, the same on SQLite (>= 3.35) and PostgreSQL, and every value still goes through
the model field's own conversion.
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


def quoted(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _insert_into(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quoted(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quoted(model._meta.db_table)} ({columns}) VALUES ({placeholders})", fields


def insert_statement(instance: models.Model) -> tuple[str, list]:
    """`INSERT INTO table (columns) VALUES (...)` for every column of `instance`, with its parameters.

    Model defaults and auto_now values apply as in save(); the primary key is left to the database.
    """
    statement, fields = _insert_into(type(instance))
    db = connections[DEFAULT_DB_ALIAS]  # once: each attribute of the `connection` proxy is a lookup
    return statement, [f.get_db_prep_save(f.pre_save(instance, add=True), db) for f in fields]


def db_value(model: type[models.Model], name: str, value):
    """`value` as the database stores field `name` of `model` (a datetime on SQLite is text, say)."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def execute(query: str, params: list) -> tuple[list[tuple], int]:
    """(rows returned, rows affected)."""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall() if cursor.description else []
        return rows, cursor.rowcount
