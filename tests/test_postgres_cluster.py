"""The throw-away PostgreSQL cluster of tests/postgres.py: one fresh database per test, and host
connections need the password (so the store's tests handle a URL with a credential in it)."""

from __future__ import annotations

import psycopg
import pytest


def test_each_test_gets_an_empty_database_that_needs_the_password(postgres_cluster, pg_url):
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)
    assert postgres_cluster.password in pg_url
    without = pg_url.replace(f":{postgres_cluster.password}@", "@")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(without, connect_timeout=30).close()
