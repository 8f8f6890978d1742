"""The database: engines for SQLite and PostgreSQL, sessions, and migrations run on start.

SQLite runs in WAL mode with a busy timeout, and every transaction begins ``IMMEDIATE``: it
takes the write lock at once, so two requests never both read a version and then race to
write it (SQLite would fail the second with "database is locked" instead of waiting).
PostgreSQL is reached through psycopg 3; optimistic concurrency there rests on the version
columns (``UPDATE ... WHERE version = v``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
#: Seconds a SQLite writer waits for the lock before giving up.
BUSY_TIMEOUT = 30.0


def driver_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` go through psycopg 3; SQLite as given."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    elif u.drivername not in ("sqlite", "postgresql+psycopg"):
        raise ValueError(f"db: unsupported database {u.drivername!r} (use sqlite:///path or "
                         f"postgresql://...)")
    return u.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine for ``url``, set up for concurrent requests."""
    url = driver_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT,
                                                  "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, record):
            # the driver's own transaction handling off: BEGIN is ours (below)
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            # WAL with synchronous=FULL: a commit that returned is on disk
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic, ``migrations/``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
