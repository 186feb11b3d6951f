"""The database search backend answers a search in one statement (search/database.py), issue #15.

Both engines: an index holding every column the facet counts and the page order read, so counting the
challenges a visitor may see reads the index, not the rows.

SQLite: the FTS5 trigram table of 0012 is rebuilt with one column per searchable field, so a search can
rank a challenge with the words in its title above one with them in its summary, each column's text
ending in a space; an `fts5vocab` table lists its trigrams. A term of 2 characters has no trigram of its
own, but every place it occurs is the start of a trigram (the trailing space makes that true at the very
end too), so it is answered as "any trigram starting with it", from the vocabulary, not by reading every text.

PostgreSQL: the same fields as stored generated columns `search_<field>`, upper-cased once when the row is
written (as the search compares), and the pg_trgm GIN index of 0012 is replaced by one on their
concatenation: checking a candidate row and ranking it then read plain text instead of taking JSON
apart and upper-casing it on every search.
"""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

before = importlib.import_module("models.migrations.0012_search_fts")

COVERING_INDEX = ("CREATE INDEX IF NOT EXISTS challenge_search_facets ON challenge "
                  "(status, published_at, category_id, owner_id, proposals_deadline, budget_max_yen, id);")


# The columns, in the order search/database.py ranks them (RANK_FIELDS).
COLUMNS = ("title", "tags", "summary", "problem", "outcome", "situation")


def sqlite_texts(row: str) -> str:
    """Each column's text (both languages; the tags), ending in a space."""
    texts = []
    for name in COLUMNS:
        if name == "tags":
            texts.append(f"coalesce((SELECT group_concat(value, ' ') FROM json_each({row}.\"tags\")), '') || ' '")
        else:
            texts.append(" || ' ' || ".join(f"coalesce(json_extract({row}.\"{name}\", '$.{lang}'), '')"
                                             for lang in ("ja", "en")) + " || ' '")
    return ", ".join(texts)



SQLITE_UP = before.SQLITE_DOWN + f"""
CREATE VIRTUAL TABLE challenge_search USING fts5({', '.join(COLUMNS)}, tokenize='trigram');
CREATE VIRTUAL TABLE challenge_search_terms USING fts5vocab(challenge_search, 'row');
INSERT INTO challenge_search(rowid, {', '.join(COLUMNS)}) SELECT c.id, {sqlite_texts('c')} FROM challenge c;
CREATE TRIGGER challenge_search_insert AFTER INSERT ON challenge BEGIN
  INSERT INTO challenge_search(rowid, {', '.join(COLUMNS)}) VALUES (new.id, {sqlite_texts('new')});
END;
CREATE TRIGGER challenge_search_update AFTER UPDATE ON challenge BEGIN
  DELETE FROM challenge_search WHERE rowid = old.id;
  INSERT INTO challenge_search(rowid, {', '.join(COLUMNS)}) VALUES (new.id, {sqlite_texts('new')});
END;
CREATE TRIGGER challenge_search_delete AFTER DELETE ON challenge BEGIN
  DELETE FROM challenge_search WHERE rowid = old.id;
END;
{COVERING_INDEX}
"""
SQLITE_DOWN = ("DROP INDEX IF EXISTS challenge_search_facets; DROP TABLE IF EXISTS challenge_search_terms;"
               + before.SQLITE_DOWN + before.SQLITE_UP)


def postgres_column(name: str) -> str:
    if name == "tags":
        return "UPPER(coalesce(\"tags\"::text, ''))"
    return "UPPER(" + " || ' ' || ".join(f"coalesce(\"{name}\"->>'{lang}', '')" for lang in ("ja", "en")) + ")"


POSTGRES_TEXT = " || ' ' || ".join(f"search_{name}" for name in COLUMNS)  # search/database.py matches this
POSTGRES_UP = "".join(f"ALTER TABLE challenge ADD COLUMN IF NOT EXISTS search_{name} text GENERATED ALWAYS AS "
                      f"({postgres_column(name)}) STORED;\n" for name in COLUMNS) + f"""
DROP INDEX IF EXISTS challenge_search_trgm;
CREATE INDEX IF NOT EXISTS challenge_search_words ON challenge USING gin (({POSTGRES_TEXT}) gin_trgm_ops);
{COVERING_INDEX}
ANALYZE challenge;
"""
POSTGRES_DOWN = ("DROP INDEX IF EXISTS challenge_search_facets; DROP INDEX IF EXISTS challenge_search_words;"
                 + "".join(f"ALTER TABLE challenge DROP COLUMN IF EXISTS search_{name};" for name in COLUMNS)
                 + before.POSTGRES_UP)


class Migration(migrations.Migration):
    dependencies = [('models', '0012_search_fts')]

    initial = False

    operations = [
        ops.RunPython(before.run(SQLITE_UP, POSTGRES_UP), before.run(SQLITE_DOWN, POSTGRES_DOWN)),
    ]
