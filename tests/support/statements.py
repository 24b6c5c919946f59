"""Every statement the engine sends, heard by tests that count or classify them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from switchboard.bootstrap import Container


@contextmanager
def sent(container: Container, hear: Callable[[str, Any], None]) -> Iterator[None]:
    """Call ``hear(statement, context)`` for each statement sent meanwhile, by any task; the context is
    None for a statement ``adapters/storage/direct.py`` ran straight on the driver."""

    def listener(_conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool) -> None:
        hear(statement, context)

    engine = container.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", listener)
