"""The database search backend ranks a word earlier in the title first on SQLite too (search/database.py), issue #15.

SQLite: where in its title a word stands is read, for the few matches that can still reach the page, from an
index on the challenge's title text (both languages, as migration 0013's FTS column holds it, in lower case as
the search compares it) beside its id: reading that text by id from the index is about half the cost of reading
it from the FTS table's content copy, and a third of taking the JSON apart. SQLite keeps the index in step itself.

PostgreSQL reads it from 0013's stored column `search_title`: nothing to do.
"""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

before = importlib.import_module("models.migrations.0012_search_fts")

# search/database.py reads this very expression (SQLite uses the index only for the same expression).
TITLE_TEXT = ("lower(coalesce(json_extract(\"title\", '$.ja'), '') || ' ' || "
              "coalesce(json_extract(\"title\", '$.en'), '') || ' ')")
SQLITE_UP = f"CREATE INDEX IF NOT EXISTS challenge_search_title ON challenge (id, {TITLE_TEXT});"
SQLITE_DOWN = "DROP INDEX IF EXISTS challenge_search_title;"
POSTGRES_UP = POSTGRES_DOWN = "SELECT 1;"


class Migration(migrations.Migration):
    dependencies = [('models', '0014_search_short_words_typos')]

    initial = False

    operations = [
        ops.RunPython(before.run(SQLITE_UP, POSTGRES_UP), before.run(SQLITE_DOWN, POSTGRES_DOWN)),
    ]
