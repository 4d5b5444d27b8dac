"""Workflows and their immutable versions; the built-ins seeded after the migrations."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg

from notify.adapters.postgres.database import Repository
from notify.workflows import (
    WorkflowDefinition,
    WorkflowPage,
    WorkflowRecord,
    WorkflowSummary,
    WorkflowVersion,
)

_VERSION_SQL = """
    SELECT w.key, v.version, w.built_in, v.created_at, v.definition
    FROM workflows w JOIN workflow_versions v ON v.key = w.key
"""


def _document(definition: WorkflowDefinition) -> str:
    return definition.model_dump_json(by_alias=True, exclude_none=True)


def _version(row: tuple[Any, ...]) -> WorkflowVersion:
    key, version, built_in, created_at, definition = row
    return WorkflowVersion(key, version, built_in, created_at, WorkflowDefinition.model_validate(definition))


def seed_built_ins(conn: psycopg.Connection[Any], definitions: Mapping[str, WorkflowDefinition]) -> list[str]:
    """Each built-in that is not stored yet, as its version 1 (one statement: concurrent seeders and a
    second run write nothing twice); the keys written."""
    keys = list(definitions)
    documents = [json.loads(_document(definitions[key])) for key in keys]
    rows = conn.execute(
        """
        WITH made AS (
            INSERT INTO workflows (key, built_in, current_version, created_at, updated_at)
            SELECT key, true, 1, now(), now() FROM unnest(%s::text[]) AS key
            ON CONFLICT (key) DO NOTHING
            RETURNING key
        )
        INSERT INTO workflow_versions (key, version, definition, created_at)
        SELECT made.key, 1, seed.definition, now()
        FROM made JOIN unnest(%s::text[], %s::jsonb[]) AS seed (key, definition) ON seed.key = made.key
        RETURNING key
        """,
        (keys, keys, [json.dumps(document) for document in documents]),
    ).fetchall()
    return [row[0] for row in rows]


class PostgresWorkflows(Repository):
    """WorkflowStore, and WorkflowVersions for the senders."""

    def save_version(
        self, key: str, definition: WorkflowDefinition, now: datetime
    ) -> tuple[WorkflowVersion, bool]:
        with self._connection() as conn:
            # The workflow's row, locked by the upsert, orders concurrent saves of one key.
            row = conn.execute(
                """
                INSERT INTO workflows AS w (key, current_version, created_at, updated_at)
                VALUES (%s, 1, %s, %s)
                ON CONFLICT (key) DO UPDATE
                    SET current_version = w.current_version + 1, updated_at = excluded.updated_at,
                        archived_at = NULL
                RETURNING current_version, built_in, xmax = 0
                """,
                (key, now, now),
            ).fetchone()
            assert row is not None
            version, built_in, created = row
            conn.execute(
                "INSERT INTO workflow_versions (key, version, definition, created_at)"
                " VALUES (%s, %s, %s, %s)",
                (key, version, _document(definition), now),
            )
        return WorkflowVersion(key, version, built_in, now, definition), created

    def find_workflow(self, key: str) -> WorkflowRecord | None:
        with self._connection() as conn:
            row = conn.execute(
                """
                SELECT w.key, v.version, w.built_in, v.created_at, v.definition,
                       w.created_at, w.updated_at, w.archived_at
                FROM workflows w JOIN workflow_versions v ON v.key = w.key AND v.version = w.current_version
                WHERE w.key = %s
                """,
                (key,),
            ).fetchone()
            if row is None:
                return None
            versions = conn.execute(
                "SELECT version, created_at FROM workflow_versions WHERE key = %s ORDER BY version", (key,)
            ).fetchall()
        created_at, updated_at, archived_at = row[5:]
        return WorkflowRecord(
            current=_version(row[:5]),
            updated_at=updated_at,
            archived_at=archived_at,
            versions=[(number, at) for number, at in versions],
            created_at=created_at,
        )

    def find_version(self, key: str, version: int) -> WorkflowVersion | None:
        with self._connection() as conn:
            row = conn.execute(
                _VERSION_SQL + " WHERE w.key = %s AND v.version = %s", (key, version)
            ).fetchone()
        return _version(row) if row else None

    def current_version(self, key: str) -> WorkflowVersion | None:
        with self._connection() as conn:
            row = conn.execute(
                _VERSION_SQL
                + " WHERE w.key = %s AND v.version = w.current_version AND w.archived_at IS NULL",
                (key,),
            ).fetchone()
        return _version(row) if row else None

    def workflows_page(self, limit: int, cursor: str | None, include_archived: bool) -> WorkflowPage:
        with self._connection() as conn:
            rows = conn.execute(
                """
                SELECT w.key, v.definition ->> 'description', w.built_in, w.archived_at, w.current_version,
                       w.updated_at
                FROM workflows w JOIN workflow_versions v ON v.key = w.key AND v.version = w.current_version
                WHERE (%(after)s::text IS NULL OR w.key > %(after)s) AND (%(all)s OR w.archived_at IS NULL)
                ORDER BY w.key
                LIMIT %(limit)s
                """,
                {"after": cursor, "all": include_archived, "limit": limit + 1},
            ).fetchall()
        items = [
            WorkflowSummary(
                key=key,
                description=description,
                built_in=built_in,
                state="archived" if archived_at else "active",
                version=version,
                updated_at=updated_at,
            )
            for key, description, built_in, archived_at, version, updated_at in rows[:limit]
        ]
        return WorkflowPage(items=items, next_cursor=items[-1].key if len(rows) > limit else None)

    def archive_workflow(self, key: str, now: datetime) -> bool | None:
        with self._connection() as conn:
            row = conn.execute(
                """
                UPDATE workflows SET archived_at = coalesce(archived_at, %s), updated_at = %s
                WHERE key = %s AND NOT built_in
                RETURNING key
                """,
                (now, now, key),
            ).fetchone()
            if row is not None:
                return True
            exists = conn.execute("SELECT built_in FROM workflows WHERE key = %s", (key,)).fetchone()
        return None if exists is None else False
