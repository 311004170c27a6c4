"""Arranging a test: put items into a state directly, as only the state machine may in the product."""

from django.db.models import QuerySet


def put_in_state(items: QuerySet, **fields) -> int:
    """`items.update(**fields)`, status included (the product goes through fitsync/item_states.py)."""
    return QuerySet.update(items.all(), **fields)
