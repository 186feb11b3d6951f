"""The database search backend: words of 2 characters and typos answered from indexes (search/database.py), issue #15.

PostgreSQL, 2-character words: pg_trgm gives such a word no trigram of its own, so it was looked for in every
text. Every place it occurs is one of the text's 2-character substrings (bigrams), so a GIN index on the array
of the searchable text's bigrams (`search_bigrams`, an immutable function of 0013's generated columns) answers
`search_bigrams(text) && ARRAY[word, ...]` exactly, Japanese included. PostgreSQL keeps it in step itself.
Bigrams with a space are left out: a typed word never holds one. (SQLite answers them from 0013's vocabulary.)

Both, typos: a vocabulary of the texts' words in Latin letters (the only ones forgiven a typo), so the words one
typo away from the typed one are found among a few thousand words rather than in every text; the search then
looks for those words. A table `search_word`, added to by a trigger when a challenge's text is written; words
no longer in any text stay (a word that finds nothing costs little). PostgreSQL keeps the upper-cased runs of
4+ Latin letters; SQLite (no regular expressions) the lower-cased pieces between separators holding 4 Latin
letters in a row. (FTS5's own word vocabulary, `fts5vocab`, reads every posting list: too slow to scan.)
"""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

speed = importlib.import_module("models.migrations.0013_search_speed")
before = importlib.import_module("models.migrations.0012_search_fts")

TEXT_COLUMNS = "title, summary, situation, problem, outcome, tags"
WORDS = (f"SELECT DISTINCT word FROM regexp_split_to_table({{}}, '[^A-Z]+') AS word "
         "WHERE length(word) >= 4 ORDER BY word")  # in order: concurrent writers then never deadlock

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION search_bigrams(body text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT pair), '{{}}') FROM (SELECT substr(body, i, 2) AS pair
    FROM generate_series(1, length(body) - 1) AS i) pairs WHERE strpos(pair, ' ') = 0
$$;
CREATE INDEX IF NOT EXISTS challenge_search_bigrams ON challenge USING gin (search_bigrams({speed.POSTGRES_TEXT}));
CREATE TABLE IF NOT EXISTS search_word (word text PRIMARY KEY);
INSERT INTO search_word {WORDS.format(f"(SELECT string_agg({speed.POSTGRES_TEXT}, ' ') FROM challenge)")}
  ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION challenge_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_word {WORDS.format(speed.POSTGRES_TEXT.replace("search_", "NEW.search_"))} ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS challenge_search_words ON challenge;
CREATE TRIGGER challenge_search_words AFTER INSERT OR UPDATE OF {TEXT_COLUMNS} ON challenge
  FOR EACH ROW EXECUTE FUNCTION challenge_search_words();
ANALYZE challenge;
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS challenge_search_words ON challenge; DROP FUNCTION IF EXISTS challenge_search_words();
DROP TABLE IF EXISTS search_word;
DROP INDEX IF EXISTS challenge_search_bigrams; DROP FUNCTION IF EXISTS search_bigrams(text);
"""

# SQLite has no regular expressions and allows no WITH in a trigger: the text, its separators made spaces, is split
# into a JSON array; a piece with 4 Latin letters in a row is kept whole (a word glued to Japanese or to a separator
# left out here stays glued: it is still a piece of the text, so still finds it). More separators overflow the parser.
SEPARATORS = ("\\", '"', "\n", "\r", "\t", ".", ",", ";", ":", "(", ")", "/", "-", "、", "。", "（", "）", "　")


def sqlite_words(row: str, source: str = "") -> str:
    """The statement adding the words of `row`'s text (of each row of `source`, when given)."""
    text = f"lower({before.sqlite_text(row)})"
    for separator in SEPARATORS:
        text = f"replace({text}, {sqlite_string(separator)}, ' ')"
    pieces = f"(SELECT '[\"' || replace({text}, ' ', '\",\"') || '\"]' AS array{source}) AS text"
    return (f"INSERT OR IGNORE INTO search_word(word) SELECT value FROM {pieces}, json_each(CASE WHEN "
            "json_valid(text.array) THEN text.array ELSE '[]' END) WHERE value GLOB '*[a-z][a-z][a-z][a-z]*';")


def sqlite_string(text: str) -> str:
    return "'" + text.replace("'", "''").replace("\n", "' || char(10) || '").replace("\r", "' || char(13) || '") \
        .replace("\t", "' || char(9) || '") + "'"


SQLITE_UP = f"""
CREATE TABLE IF NOT EXISTS search_word (word TEXT PRIMARY KEY) WITHOUT ROWID;
{sqlite_words('c', ' FROM challenge c')}
CREATE TRIGGER IF NOT EXISTS challenge_search_words_insert AFTER INSERT ON challenge BEGIN
  {sqlite_words('new')}
END;
CREATE TRIGGER IF NOT EXISTS challenge_search_words_update AFTER UPDATE OF {TEXT_COLUMNS} ON challenge BEGIN
  {sqlite_words('new')}
END;
"""
SQLITE_DOWN = """
DROP TRIGGER IF EXISTS challenge_search_words_insert; DROP TRIGGER IF EXISTS challenge_search_words_update;
DROP TABLE IF EXISTS search_word;
"""


class Migration(migrations.Migration):
    dependencies = [('models', '0013_search_speed')]

    initial = False

    operations = [
        ops.RunPython(before.run(SQLITE_UP, POSTGRES_UP), before.run(SQLITE_DOWN, POSTGRES_DOWN)),
    ]
