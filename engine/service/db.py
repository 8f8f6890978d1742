"""The database: engines for SQLite and PostgreSQL, sessions, and migrations run on start.

SQLite runs in WAL mode with a busy timeout. Reads run in plain (deferred) transactions, which
never block anyone in WAL mode; a write begins its own transaction ``IMMEDIATE``
(:func:`begin_write`): it takes the write lock at once, so two requests never both read a
version and then race to write it (SQLite would fail the second with "database is locked"
instead of waiting), and holds it only while the write runs (in one thread: a lock held across
the server's thread hops could wait for a thread that waits for the lock).
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
#: Connections: more than the server's worker threads (anyio's 40) and the planner, so that a
#: request waits for the database's lock, never for a connection of the pool.
POOL = {"pool_size": 10, "max_overflow": 50, "pool_timeout": 60}


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
                                                  "check_same_thread": False}, **POOL)

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
            immediate = conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **POOL)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic, ``migrations/``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """End the session's read transaction (if any) and begin a write transaction: on SQLite
    ``BEGIN IMMEDIATE``, which waits for the write lock (busy timeout) and then holds it until
    commit or rollback; elsewhere a plain transaction."""
    session.rollback()
    session.connection(execution_options={"immediate": True})
