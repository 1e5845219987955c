from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from tests import databases
from tests.factories import Factory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): the test is about SQLite itself (its files, locks, pragmas); "
        f"skipped when {databases.POSTGRES_ENV} runs the suite on PostgreSQL",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not databases.on_postgres():
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "about SQLite itself"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """PostgreSQL: the databases the test asked for (tests/databases.py) go when it ends.

    Autouse fixtures are set up first, so this runs after the test's engines are disposed.
    """
    yield
    if databases.on_postgres():
        databases.run_sync(databases.drop_created())


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """The test's database: tmp_path/talon.sqlite3, or a fresh one on TALON_TEST_POSTGRES."""
    return await databases.database_url(tmp_path / "talon.sqlite3")


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[Factory]:
    engine = create_engine(database_url)
    await upgrade(engine)
    async with create_session_factory(engine)() as session:
        yield Factory(session)
    await engine.dispose()
