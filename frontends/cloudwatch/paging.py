"""Offset paging, as every CloudWatch listing here pages: NextToken is the position after the last item shown."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from .errors import CloudWatchError

Item = TypeVar("Item")


def page_start(token: str | None) -> int:
    """The position a NextToken names (0 without one); InvalidNextToken for one no answer gave."""
    if token is None:
        return 0
    if not token.isdigit() or len(token) > 9:
        raise CloudWatchError("InvalidNextToken", "The NextToken is not one this operation returned.")
    return int(token)


def page(items: Sequence[Item], token: str | None, limit: int) -> tuple[list[Item], str | None]:
    """The items of the page `token` names and the NextToken of the one after it (None on the last)."""
    start = page_start(token)
    return list(items[start:start + limit]), str(start + limit) if start + limit < len(items) else None
