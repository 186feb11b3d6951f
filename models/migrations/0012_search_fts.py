"""Indexes for the database search backend (search/database.py), issue #15.

PostgreSQL: a GIN trigram index (pg_trgm) on the very expression the backend matches with LIKE, so the
planner answers `UPPER(text) LIKE UPPER('%term%')` from the index; PostgreSQL keeps it in step itself.

SQLite: an FTS5 table with the trigram tokenizer, one row per challenge (rowid = challenge id), kept in
step by triggers on the challenge table, inside the same transaction as the change. Triggers rather than
the search sync outbox consumer: the database backend promises to be as fresh as the data, and the
embedded default (`make run`) may run without a worker draining the outbox.

The text is the same in both: both languages of every text field, then the tags
(search/database.py `searchable_text` builds it; keep them alike).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

TEXT_FIELDS = ("title", "summary", "situation", "problem", "outcome")


def sqlite_text(row: str) -> str:
    texts = [f"coalesce(json_extract({row}.\"{name}\", '$.{lang}'), '')" for name in TEXT_FIELDS for lang in ("ja", "en")]
    texts.append(f"coalesce((SELECT group_concat(value, ' ') FROM json_each({row}.\"tags\")), '')")
    return " || ' ' || ".join(texts)


def postgres_text(prefix: str = "") -> str:
    """The text, upper-cased as Tortoise's icontains compares it: the index must be on the same expression."""
    texts = [f"coalesce({prefix}\"{name}\"->>'{lang}', '')" for name in TEXT_FIELDS for lang in ("ja", "en")]
    texts.append(f"coalesce({prefix}\"tags\"::text, '')")
    joined = " || ' ' || ".join(texts)
    return f"UPPER(CAST(({joined}) AS VARCHAR))"


SQLITE_UP = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS challenge_search USING fts5(body, tokenize='trigram');
INSERT INTO challenge_search(rowid, body) SELECT c.id, {sqlite_text('c')} FROM challenge c;
CREATE TRIGGER IF NOT EXISTS challenge_search_insert AFTER INSERT ON challenge BEGIN
  INSERT INTO challenge_search(rowid, body) VALUES (new.id, {sqlite_text('new')});
END;
CREATE TRIGGER IF NOT EXISTS challenge_search_update AFTER UPDATE ON challenge BEGIN
  DELETE FROM challenge_search WHERE rowid = old.id;
  INSERT INTO challenge_search(rowid, body) VALUES (new.id, {sqlite_text('new')});
END;
CREATE TRIGGER IF NOT EXISTS challenge_search_delete AFTER DELETE ON challenge BEGIN
  DELETE FROM challenge_search WHERE rowid = old.id;
END;
"""
SQLITE_DOWN = """
DROP TRIGGER IF EXISTS challenge_search_insert;
DROP TRIGGER IF EXISTS challenge_search_update;
DROP TRIGGER IF EXISTS challenge_search_delete;
DROP TABLE IF EXISTS challenge_search;
"""
POSTGRES_UP = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS challenge_search_trgm ON challenge USING gin (({postgres_text()}) gin_trgm_ops);
"""
POSTGRES_DOWN = "DROP INDEX IF EXISTS challenge_search_trgm;"


def run(sqlite: str, postgres: str):
    async def code(apps, schema_editor):
        client = schema_editor.client
        await client.execute_script(sqlite if client.capabilities.dialect == "sqlite" else postgres)
    return code


class Migration(migrations.Migration):
    dependencies = [('models', '0011_pilot_evidence')]

    initial = False

    operations = [
        ops.RunPython(run(SQLITE_UP, POSTGRES_UP), run(SQLITE_DOWN, POSTGRES_DOWN)),
    ]
