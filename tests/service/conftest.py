"""The service under test, on SQLite and on PostgreSQL.

PostgreSQL is the project's server (127.0.0.1:5432, trust auth, database ``test``; override
with ``INVSWARM_TEST_PG``): each test gets a schema of its own, dropped at the end. Without
the server the PostgreSQL cases are skipped, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from invswarm.engine.service import ServiceConfig, create_app  # noqa: E402

PG = os.environ.get("INVSWARM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
OPERATOR = "op-" + "t" * 30


def _pg_connect():
    import psycopg

    try:
        return psycopg.connect(PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {PG}: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    schema = f"test_{secrets.token_hex(6)}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with _pg_connect() as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def make_client(db_url: str, **config) -> TestClient:
    cfg = ServiceConfig(db_url=db_url, operator_token=OPERATOR,
                        **{"method": "greedy", "time_limit": 5.0, "debounce": 0.05, **config})
    return TestClient(create_app(cfg, worker=config.get("planning", False)))


@pytest.fixture
def client(db_url):
    """The app without its planning worker (tests that plan call the planner themselves)."""
    with make_client(db_url) as c:
        yield c


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


OP = bearer(OPERATOR)
