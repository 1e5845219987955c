from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from tests.factories import Factory


@pytest.fixture
async def factory(tmp_path: Path) -> AsyncIterator[Factory]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'talon.sqlite3'}")
    await upgrade(engine)
    async with create_session_factory(engine)() as session:
        yield Factory(session)
    await engine.dispose()
