"""A content-addressed on-disk cache, so a re-run only pays for texts it has not seen.

SQLite rather than loose files: one file, atomic batched writes, safe if a run is interrupted, and
lookups by key stay fast at millions of entries.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from pipeline import settings


def cache_dir() -> Path:
    return settings.current().cache


def content_key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def rows_by_key(texts: Iterable[str]) -> dict[str, list[int]]:
    """The rows of each distinct text, by its content key, in the order the texts first come."""
    rows: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        rows.setdefault(content_key(text), []).append(row)
    return rows


class BlobCache:
    """Key to bytes, one table per namespace (e.g. one per embedding model)."""

    def __init__(self, path: Path, namespace: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._table = "c_" + content_key(namespace)[:16]
        self._conn = sqlite3.connect(path, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS {self._table} (k TEXT PRIMARY KEY, v BLOB NOT NULL)")

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), 900):  # SQLite's bound on query parameters
            chunk = keys[start : start + 900]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(f"SELECT k, v FROM {self._table} WHERE k IN ({marks})", chunk)
            found.update(rows)
        return found

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        with self._conn:
            self._conn.executemany(f"INSERT OR REPLACE INTO {self._table} (k, v) VALUES (?, ?)", items)

    def clear(self) -> int:
        """Every entry of this namespace, overwritten on disk (``secure_delete``), as erasure asks of the caches
        that are drawn or learnt from many answers and so are not keyed by any one text. Returns how many went."""
        self._conn.execute("PRAGMA secure_delete=ON")
        with self._conn:
            removed = self._conn.execute(f"DELETE FROM {self._table}").rowcount
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def close(self) -> None:
        self._conn.close()
