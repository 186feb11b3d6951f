"""The database backend: queries the database directly, so it is always as fresh as the data.

It is the embedded default (no other service) and the fallback while Meilisearch is unreachable.
Text matching is substring matching over the attributes Meilisearch searches, in both languages.
Japanese has no spaces between words, so the query is split only on the spaces the person typed and
every word must occur somewhere: as typed, in the other kana or width (ゴミ finds ごみ, ＤＸ finds DX),
or in a category's or agency's name. When nothing matches as typed, words of 5+ letters may have one
typo (a letter wrong, missing, extra, or two swapped), as Meilisearch forgives: the words of the texts one typo
away are found in their vocabulary (migration 0014), then searched for as typed words are.

Words are answered from trigram indexes (migrations 0012 and 0013): on SQLite the FTS5 table
`challenge_search` (one column per field, trigram tokenizer, kept in step by triggers; 2-character words
through its vocabulary), on PostgreSQL a pg_trgm GIN index on the stored, upper-cased fields (2-character
words have no trigram there: a GIN index of the texts' 2-character substrings answers them, migration 0014).
Which challenges a visitor may see is still decided only by `challenge_filter(VISITOR)`.

With words, "relevance" ranks like Meilisearch's `attribute` rule: a challenge with the words in its
title comes before one with them in its tags, then its summary, and so on (`RANK_FIELDS`), a word earlier in
the title before one later (counted in characters), then like its `exactness` rule (tags that are the query
itself first); ties, and searches without words, newest first. On SQLite where in the title a word stands is
read only for the matches that can still reach the page (`_title_positions`, from an index of the titles' text
beside their ids, migration 0015).

A search takes three statements. With words, the categories and agencies they name are looked up first.
Then one statement answers its numbers: the matching challenges are selected once (a materialised CTE
built by the ORM: the policy, the filters, the words and the rank), and the total, every facet's counts
and the page's ids are read from it with one UNION ALL. The last fetches the page.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Term, ValueWrapper
from pypika_tortoise.utils import format_alias_sql
from tortoise import connections, timezone
from tortoise.expressions import Q, RawSQL
from tortoise.functions import Coalesce
from tortoise.queryset import ValuesQuery

from models.challenges.models import Challenge, ChallengeStatus
from models.identity.orgs import OrgKind
from models.policy import VISITOR
from models.policy.challenges import challenge_filter
from search.backend import FACETS, ReadsTheDatabase, SearchQuery, SearchResult
from search.documents import RELATED, TEXT_FIELDS, challenge_document

TRIGRAM = 3  # the shortest term a trigram index can answer
TYPO_MIN = 5  # words this long may have a typo, as in Meilisearch's settings (search.documents)
TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}  # ァ..ヶ -> ぁ..ゖ
TO_KATAKANA = {code - 0x60: code for code in range(0x30A1, 0x30F7)}
TO_FULL_WIDTH = {code: code + 0xFEE0 for code in range(ord("!"), ord("~") + 1)}
TAG_SEPARATOR = "\x1f"  # never part of a tag; tags are matched whole between two of these
# The columns of the matching challenges (the CTE `hits`) -> the ORM fields they are read from.
HIT_COLUMNS = {"id": "id", "category_id": "category_id", "owner_id": "owner_id", "status": "status",
               "published_at": "published_at", "proposals_deadline": "proposals_deadline", "budget_order": "budget_order",
               "rank": "rank"}
ORDERINGS = {
    "relevance": "rank, published_at DESC, id DESC",
    "newest": "published_at DESC, id DESC",
    "deadline": "proposals_deadline, id",
    "budget": "budget_order DESC, published_at DESC, id DESC",
}
# Where a word is found, best first (as Meilisearch's searchable attributes); anywhere else (the
# category's or the agency's name) ranks after these.
RANK_FIELDS = ("title", "tags", "summary", "problem", "outcome", "situation")
# The rank's integer weights (integers: cheap to add up per row): a field further down, then each character
# further into the title, up to POSITIONS, then tags other than the query itself (`exactness`). SQLite's matches
# carry TITLED for each word found in the title instead of its position, which is read only for the few that can
# reach the page (see `_title_positions`); both stay under PLACE.
PLACE, POSITION, POSITIONS, INEXACT, TITLED = 1000, 2, 100, 1, 2
# SQLite: the title's text (both languages), lower-cased, as migration 0015 indexes it beside the id.
SQLITE_TITLE = ("lower(coalesce(json_extract(\"title\", '$.ja'), '') || ' ' || "
                "coalesce(json_extract(\"title\", '$.en'), '') || ' ')")
# PostgreSQL: the searchable fields, upper-cased, as migration 0013 stores and indexes them (trigram GIN index).
POSTGRES_TEXT = " || ' ' || ".join(f'"search_{name}"' for name in RANK_FIELDS)
# Each facet's filter and counts over the matching challenges; `{}`: the values chosen.
FACET_FILTERS = {
    "category": "category_id IN (SELECT id FROM category WHERE slug IN {})",
    "agency": "owner_id IN {}",
    "municipality_type": "owner_id IN (SELECT id FROM organisation WHERE municipality_type IN {})",
    "status": "status IN {}",
}
FACET_COUNTS = {
    "category": "SELECT 'category', slug, n FROM (SELECT category_id, COUNT(*) AS n FROM hits{where} "
                "GROUP BY category_id) counted JOIN category ON category.id = category_id",
    "agency": "SELECT 'agency', CAST(owner_id AS TEXT), COUNT(*) FROM hits{where} GROUP BY owner_id",
    "municipality_type": "SELECT 'municipality_type', municipality_type, SUM(n) FROM (SELECT owner_id, COUNT(*) AS n "
                         "FROM hits{where} GROUP BY owner_id) counted JOIN organisation ON organisation.id = owner_id "
                         "GROUP BY municipality_type",
    "status": "SELECT 'status', status, COUNT(*) FROM hits{where} GROUP BY status",
}


class Sql(Term):
    """Raw SQL with its values as parameters: each `{}` in `sql` becomes a placeholder of the query it is in."""

    def __init__(self, sql: str, *values: Any) -> None:
        super().__init__()
        self.sql = sql
        self.values = values

    def get_sql(self, ctx: SqlContext) -> str:
        if ctx.parameterizer is None:  # printing the query with its values inline
            sql = self.sql.format(*(ValueWrapper(value).get_sql(ctx) for value in self.values))
        else:
            sql = self.sql.format(*(ctx.parameterizer.create_param(value).get_sql(ctx) for value in self.values))
        return format_alias_sql(sql, self.alias, ctx) if ctx.with_alias else sql


def _field_texts(dialect: str, name: str) -> str:
    """SQL for one searchable field of the row: both languages (or the tags) as one text; no user input."""
    column = f'"challenge"."{name}"'
    if name == "tags":
        if dialect == "postgres":
            return f"coalesce({column}::text, '')"
        # SQLite keeps JSON as text with \u escapes, so values are read out with its JSON functions.
        return f"coalesce((SELECT group_concat(value, ' ') FROM json_each({column})), '')"
    if dialect == "postgres":
        return " || ' ' || ".join(f"coalesce({column}->>'{lang}', '')" for lang in ("ja", "en"))
    return " || ' ' || ".join(f"coalesce(json_extract({column}, '$.{lang}'), '')" for lang in ("ja", "en"))


def _columns(dialect: str) -> tuple[str, str]:
    """SQL for (the row's searchable text, its tags between separators); no user input goes in here.

    The text, both languages of each text field and the tags, is scanned only without the trigram index
    (`DatabaseBackend(trigram=False)`, the "before" of bench/db_search.py). The category's and the agency's
    names, which Meilisearch searches too, are matched separately (see `_named`).
    """
    column = '"challenge"."{}"'.format
    text = " || ' ' || ".join(_field_texts(dialect, name) for name in (*TEXT_FIELDS, "tags"))
    if dialect == "postgres":
        text = "(" + text + ")"
        tags = (f"chr(31) || coalesce((SELECT string_agg(value, chr(31)) FROM jsonb_array_elements_text("
                f"{column('tags')})), '') || chr(31)")
        return text, tags
    tags = (f"char(31) || coalesce((SELECT group_concat(value, char(31)) FROM json_each({column('tags')})), '')"
            " || char(31)")
    return text, tags


def _escaped(text: str) -> str:
    """The text in a LIKE pattern, its own % and _ taken literally (escape character \\)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(term: str) -> str:
    """A LIKE pattern finding the term anywhere."""
    return f"%{_escaped(term)}%"


@dataclass(frozen=True)
class Word:
    """One word the person typed, and how it may be found: as typed, in the other width or kana (`forms`, as
    Meilisearch finds them), and, when `typos`, also one edit away (a character wrong, missing, extra, or two
    swapped)."""

    typed: str
    typos: bool = False
    corrections: tuple[str, ...] = ()  # with `typos`: the texts' words one typo away (see _with_names)
    categories: tuple[int, ...] = ()  # named with the word (see _with_names)
    agencies: tuple[int, ...] = ()

    @property
    def forms(self) -> list[str]:
        """As typed, with full-width letters and digits made plain and plain ones made full-width (ＤＸ, DX), and
        each in the other kana (ゴミ, ごみ): the index keeps the text as written, so the query varies instead."""
        plain = unicodedata.normalize("NFKC", self.typed)
        widths = [self.typed, plain, plain.translate(TO_FULL_WIDTH)]
        forms = [form.translate(kana) for form in widths for kana in ({}, TO_HIRAGANA, TO_KATAKANA)]
        if self.corrections:  # they include every word holding the typed one in Latin letters
            forms = [form for form in forms if not form.isascii()]
        return list(dict.fromkeys([*forms, *self.corrections]))

    def patterns(self) -> list[str]:
        """LIKE patterns, each finding one way of writing the word."""
        patterns = [_like(form) for form in self.forms]
        if self.typos:
            letters = [_escaped(letter) for letter in self.typed]
            for i in range(len(letters) + 1):
                patterns.append("%" + "".join(letters[:i] + ["_"] + letters[i:]) + "%")  # one missing
                if i < len(letters):
                    patterns.append("%" + "".join(letters[:i] + ["_"] + letters[i + 1:]) + "%")  # one wrong
                    patterns.append("%" + "".join(letters[:i] + letters[i + 1:]) + "%")  # one extra
                if i + 1 < len(letters):
                    swapped = [*letters[:i], letters[i + 1], letters[i], *letters[i + 2:]]
                    patterns.append("%" + "".join(swapped) + "%")
        return list(dict.fromkeys(patterns))


def _words(query: SearchQuery, typos: bool = False) -> list[Word]:
    """The query's words; with `typos`, the ones long enough for Meilisearch to forgive a typo may have one."""
    return [Word(term, typos=typos and len(term) >= TYPO_MIN and term.isascii() and term.isalpha())
            for term in query.terms]


async def _with_names(words: list[Word], dialect: str) -> list[Word]:
    """The words with the categories and the agencies named with them (their challenges match them too), and the
    ones that may have a typo with the words of the texts one typo away from them (the vocabulary `search_word`
    of migration 0014; a typo inside a longer word is forgiven too), looked up in one statement: the search then
    names them, so the planner knows how few they are, and looks for the corrected words from the index."""
    if not words:
        return words
    param, selects = Params(dialect, []), []
    for number, word in enumerate(words):
        for kind, table in (("category", "category"), ("agency", "organisation")):
            # Ignoring case, each name folded once rather than once per pattern (a typo brings dozens).
            if dialect == "postgres":  # the patterns as one array, named twice
                among = "ARRAY[" + ", ".join(f"upper({param(pattern)})" for pattern in word.patterns()) + "]"
                named = f"upper(name_ja) LIKE ANY ({among}) OR upper(name_en) LIKE ANY ({among})"
            else:  # SQLite's LIKE ignores the case of ASCII letters, all its upper() would change
                named = " OR ".join(f"name_ja LIKE {param(pattern)} ESCAPE '\\' OR name_en LIKE {param(pattern)} "
                                    "ESCAPE '\\'" for pattern in word.patterns())
            agencies_only = f" AND kind = {param(OrgKind.AGENCY.value)}" if kind == "agency" else ""
            selects.append(f"SELECT {number}, '{kind}', CAST(id AS TEXT) FROM {table} WHERE ({named}){agencies_only}")
        if word.typos:
            upper = "UPPER({})" if dialect == "postgres" else "{} ESCAPE '\\'"  # SQLite's LIKE ignores case
            found = " OR ".join(f"word LIKE {upper.format(param(pattern))}" for pattern in word.patterns())
            selects.append(f"SELECT {number}, 'word', word FROM search_word WHERE {found}")
    _, rows = await connections.get("default").execute_query(" UNION ALL ".join(selects), param.values)
    found_with: dict[tuple[int, str], list[str]] = {}
    for number, kind, value in rows:
        found_with.setdefault((int(number), kind), []).append(value)
    return [replace(word, categories=tuple(int(i) for i in found_with.get((number, "category"), ())),
                    agencies=tuple(int(i) for i in found_with.get((number, "agency"), ())),
                    corrections=tuple(found_with.get((number, "word"), ())))
            for number, word in enumerate(words)]


def _named(word: Word, found: Q) -> Q:
    """The word found in the text, or naming the challenge's category or agency."""
    if word.categories:
        found |= Q(category_id__in=list(word.categories))
    if word.agencies:
        found |= Q(owner_id__in=list(word.agencies))
    return found


def _fts_query(terms: list[str]) -> tuple[str, list[str]]:
    """SQLite: SQL giving the FTS5 query that finds any of the terms in the trigram table (migration 0013), and
    its values: a phrase of 3+ characters; 2 characters as any of the trigrams they start, from its vocabulary."""
    parts, values = [], []
    for term in terms:
        phrase = '"' + term.replace('"', '""') + '"'
        if len(term) >= TRIGRAM:
            parts.append("{}")
            values.append(phrase)
        else:
            folded = term.lower()  # as the tokenizer folds case
            parts.append("(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), {}) "
                         "FROM challenge_search_terms WHERE term >= {} AND term < {} || char(1114111))")
            values.extend([phrase, folded, folded])
    return " || ' OR ' || ".join(parts), values


def _fts(word: Word, column: str | None = None) -> Sql:
    """SQLite: for `id IN`, the challenges (any status: the policy filters) with the word in their text, or in
    this column's; a single character has no trigram and is looked for in every text."""
    texts = " || ' ' || ".join(RANK_FIELDS)
    if len(word.typed) < TRIGRAM - 1:
        found = " OR ".join(f"instr(upper({texts}), upper({{}})) > 0" for _ in word.forms)
        return Sql(f"(SELECT rowid FROM challenge_search WHERE {found})", *word.forms)
    query, values = _fts_query(word.forms)
    if column:
        query = f"'{column} : (' || {query} || ')'"
    return Sql(f"(SELECT rowid FROM challenge_search WHERE challenge_search MATCH ({query}))", *values)


def _postgres_matches(word: Word) -> Sql:
    """PostgreSQL: for `id IN`, a subquery of its own, so the planner answers it from the trigram index, or for
    2 characters (no trigram) from the index of bigrams (migration 0014). A single character is looked for in each
    field of the row itself (a correlated subquery), so only in the rows the other words and filters leave."""
    if all(len(form) == TRIGRAM - 1 for form in word.forms):  # each form is one of the text's bigrams, or absent
        # OFFSET 0 keeps the subquery apart: merged into the search, PostgreSQL could check a longer word first
        # and then compute each found text's bigrams again (about 1 ms a row: 0.5-1.9 s for "申請 オンライン")
        forms = ", ".join("UPPER({})" for _ in word.forms)
        return Sql(f"(SELECT id FROM challenge WHERE search_bigrams({POSTGRES_TEXT}) && ARRAY[{forms}] OFFSET 0)",
                   *word.forms)
    if len(word.typed) < TRIGRAM:
        found = " OR ".join(f'strpos("challenge"."search_{name}", UPPER({{}})) > 0'
                            for name in RANK_FIELDS for _ in word.forms)
        return Sql(f'(SELECT "challenge"."id" WHERE {found})', *(form for _ in RANK_FIELDS for form in word.forms))
    patterns = [_like(form) for form in word.forms]
    found = " OR ".join(f"({POSTGRES_TEXT}) LIKE UPPER({{}})" for _ in patterns)
    return Sql(f"(SELECT id FROM challenge WHERE {found})", *patterns)


def _rank(dialect: str, words: list[Word]) -> Sql:
    """Lower ranks higher, as Meilisearch's `attribute` and `exactness` rules: the sum over the words of the best
    field each is found in (0 = the title), then tags that are the query itself come first. PostgreSQL also ranks
    by where in the title a word first stands (earlier is better, counted in characters as Japanese has no spaces;
    in the longer fields characters tell word positions apart too poorly). On SQLite that is read for the page only
    (`_title_positions`): here a word in the title adds TITLED, so those without one skip it."""
    cases, values = [], []
    for word in words:
        found_in = []
        for place, name in enumerate(RANK_FIELDS):
            if dialect == "postgres":
                found = " OR ".join(f'strpos("challenge"."search_{name}", UPPER({{}})) > 0' for _ in word.forms)
                values.extend(word.forms)
            elif len(word.typed) >= TRIGRAM - 1:
                column = _fts(Word(word.typed, corrections=word.corrections), name)
                found = f'"challenge"."id" IN {column.sql}'
                values.extend(column.values)
            else:
                continue
            position = f" + {TITLED}" if name == "title" and dialect == "sqlite" else ""
            if name == "title" and dialect == "postgres":
                at = ", ".join('nullif(strpos("challenge"."search_title", UPPER({})), 0)' for _ in word.forms)
                position = f" + {POSITION} * least({at}, {POSITIONS})"
                values.extend(word.forms)
            found_in.append(f"WHEN {found} THEN {place * PLACE}{position}")
        if found_in:
            cases.append(f"CASE {' '.join(found_in)} ELSE {len(RANK_FIELDS) * PLACE} END")
    query = " ".join(word.typed for word in words)
    if dialect == "postgres":
        cases.append(f'CASE WHEN "challenge"."search_tags" = UPPER({{}}) THEN 0 ELSE {INEXACT} END')
        values.append(json.dumps([query], ensure_ascii=False))  # as jsonb writes a list of one tag
    elif len(query) >= TRIGRAM:  # the few with the query in their tags, from the index (2 characters: too slow)
        tagged = _fts(Word(query), "tags")
        cases.append(f'CASE WHEN "challenge"."id" IN {tagged.sql[:-1]} AND lower(tags) = lower({{}})) THEN 0 '
                     f"ELSE {INEXACT} END")
        values.extend([*tagged.values, query + " "])  # as migration 0013 writes the tags: a space after
    return Sql("(" + " + ".join(cases) + ")", *values)


def _title_positions(words: list[Word]) -> Sql | None:
    """SQLite: for the matching challenge `hits.id`, how much its rank grows with where in its title each word
    first stands, as PostgreSQL ranks it in `_rank` (POSITION a character, up to POSITIONS); nothing for a word not
    in its title. Its title text is read by id from the index of migration 0015 (about 0.7 µs a row; from the FTS
    table's content 1.4, from the JSON 2.8), and only for the hits that can still reach the page (see `_numbers`).
    One flat expression: a form's `closeness` is POSITIONS + 1 less its position (at most POSITIONS), 0 where it is
    absent; a word's is its forms' best. The sum stays under a field's weight (PLACE), so it never moves a
    challenge past one found in a better field."""
    far = POSITIONS + 1
    bonuses: list[str] = []
    values: list[str] = []
    for word in words:
        if len(word.typed) < TRIGRAM - 1:  # as in _rank: not ranked
            continue
        # The index ignores the case of letters; SQLite's lower() folds only Latin ones, so only they are folded.
        forms = Word(word.typed, corrections=word.corrections).forms
        folded = dict.fromkeys("".join(c.lower() if c.isascii() else c for c in form) for form in forms)
        closeness = [f"({far} - min(instr({SQLITE_TITLE}, {{}}), {POSITIONS})) % {far}" for _ in folded]
        bonuses.append(f"({far} - max({', '.join(closeness)}, 0)) % {far}")
        values.extend(folded)
    if not bonuses:
        return None
    return Sql(f"(SELECT min({POSITION} * ({' + '.join(bonuses)}), {PLACE - INEXACT - 1}) "
               "FROM challenge INDEXED BY challenge_search_title WHERE id = hits.id)", *values)


class Params:
    """Placeholders for a raw statement, numbered after `values` (PostgreSQL's $n; SQLite's ?)."""

    def __init__(self, dialect: str, values: list[Any]) -> None:
        self.dialect = dialect
        self.values = list(values)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.dialect == "postgres" else "?"

    def among(self, values: tuple[Any, ...]) -> str:
        return "(" + ", ".join(self(value) for value in values) + ")"


class DatabaseBackend(ReadsTheDatabase):
    def __init__(self, trigram: bool = True) -> None:
        self.trigram = trigram  # False: every term scanned with LIKE (bench/db_search.py's "before")

    def _dialect(self) -> str:
        return "postgres" if connections.get("default").capabilities.dialect == "postgres" else "sqlite"

    def _hits(self, query: SearchQuery, words: list[Word]) -> ValuesQuery:
        """The challenges a visitor may see that match the words, tags and the other filters (not the
        facets'), with what the counts and the order need."""
        dialect = self._dialect()
        text, tags = _columns(dialect)
        hits = Challenge.filter(challenge_filter(VISITOR))  # what a visitor may list: the one rule, in models.policy
        if query.budget_min is not None:
            hits = hits.filter(budget_max_yen__gte=query.budget_min)
        if query.budget_max is not None:
            hits = hits.filter(budget_min_yen__lte=query.budget_max)
        if query.deadline_after is not None:
            hits = hits.filter(proposals_deadline__gte=query.deadline_after)
        if query.deadline_before is not None:
            hits = hits.filter(proposals_deadline__lt=query.deadline_before)
        if query.sort == "deadline":  # open ones only
            hits = hits.filter(status=ChallengeStatus.PUBLISHED.value, proposals_deadline__gt=query.now or timezone.now())
        for tag in query.tags:
            hits = hits.annotate(search_tags=RawSQL(tags)).filter(search_tags__icontains=f"{TAG_SEPARATOR}{tag}{TAG_SEPARATOR}")
        for word in words:
            if self.trigram:
                hits = hits.filter(_named(word, Q(id__in=_fts(word) if dialect == "sqlite" else _postgres_matches(word))))
            else:
                hits = hits.annotate(search_text=RawSQL(text)).filter(_named(word, Q(search_text__icontains=word.typed)))
        rank = _rank(dialect, words) if words and dialect == "sqlite" else RawSQL("0")  # PostgreSQL: see _numbers
        return hits.annotate(budget_order=Coalesce("budget_max_yen", -1), rank=rank).values(**HIT_COLUMNS)

    async def _numbers(self, query: SearchQuery, words: list[Word]) -> tuple[int, dict[str, dict[str, int]], list[int]]:
        """The total, every facet's counts and the page's ids, in one statement.

        Each facet's counts apply the other facets' filters but not its own, so they show what
        choosing another value would give (as the Meilisearch backend's do).
        """
        dialect = self._dialect()
        hits = self._hits(query, words)
        hits._choose_db_if_not_chosen()  # as tortoise.expressions.Subquery compiles a query
        hits._make_query()
        hits_sql, hits_values = hits.query.get_parameterized_sql()
        param = Params(dialect, hits_values)

        def where(ignoring: str | None = None) -> str:
            chosen = [FACET_FILTERS[facet].format(param.among(query.facet_values(facet)))
                      for facet in FACETS if facet != ignoring and query.facet_values(facet)]
            return " WHERE " + " AND ".join(chosen) if chosen else ""

        selects = [f"SELECT 'total', NULL, COUNT(*) FROM hits{where()}"]
        for facet, counted in FACET_COUNTS.items():
            selects.append(counted.format(where=where(facet)))
        order = ORDERINGS[query.sort]
        positions = _title_positions(words) if dialect == "sqlite" and query.sort == "relevance" else None
        if positions is not None:
            # Where in its title a word stands reorders challenges only among those whose words are found in the
            # same fields (one `rank / PLACE`), so it is read only for the hits no worse there than the last one
            # the page would show, and with a word in the title (TITLED); the others cannot reach the page or
            # keep their place. Their rank is then PostgreSQL's: the fields, exactness, and the positions.
            columns = ", ".join(column for column in HIT_COLUMNS if column != "rank")
            at = positions.sql.format(*map(param, positions.values))
            chosen = where()
            last = (f"(SELECT rank / {PLACE} FROM hits{where()} ORDER BY rank "
                    f"LIMIT 1 OFFSET {param(query.offset + query.per_page - 1)})")
            page_of = (f"(SELECT {columns}, rank / {PLACE} * {PLACE} + rank % {TITLED} + CASE WHEN rank % {PLACE} >= "
                       f"{TITLED} THEN {at} ELSE 0 END AS rank FROM hits{chosen}{' AND' if chosen else ' WHERE'} "
                       f"rank / {PLACE} <= coalesce({last}, rank / {PLACE})) ranked")
        elif dialect == "postgres" and words and query.sort == "relevance":
            # Ranked here, from the rows of the matches alone: in `hits` it would make PostgreSQL read every
            # challenge's row rather than the index holding everything else it needs.
            rank = _rank(dialect, words)
            columns = ", ".join(column for column in HIT_COLUMNS if column != "rank")
            page_of = (f"(SELECT {columns}, (SELECT {rank.sql.format(*map(param, rank.values))} FROM challenge "
                       f"WHERE challenge.id = hits.id) AS rank FROM hits{where()}) ranked")
        else:
            page_of = f"hits{where()}"
        selects.append(f"SELECT 'page', CAST(id AS TEXT), ROW_NUMBER() OVER (ORDER BY {order}) FROM (SELECT * FROM "
                       f"{page_of} ORDER BY {order} LIMIT {param(query.per_page)} OFFSET {param(query.offset)}) page")
        sql = f"WITH hits AS MATERIALIZED ({hits_sql}) " + " UNION ALL ".join(selects)
        _, rows = await connections.get("default").execute_query(sql, param.values)

        total, page = 0, []
        facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        for what, value, number in rows:
            if what == "total":
                total = int(number)
            elif what == "page":
                page.append((int(number), int(value)))
            elif value is not None:
                facets[what][value] = int(number)
        facets = {facet: dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
                  for facet, counts in facets.items()}
        return total, facets, [challenge_id for _, challenge_id in sorted(page)]

    async def search(self, query: SearchQuery) -> SearchResult:
        total, facets, ids = await self._numbers(query, await _with_names(_words(query), self._dialect()))
        if not total and any(word.typos for word in _words(query, typos=True)):  # nothing: forgive a typo
            words = await _with_names(_words(query, typos=True), self._dialect())
            total, facets, ids = await self._numbers(query, words)
        challenges = {c.id: c for c in await Challenge.filter(id__in=ids).select_related(*RELATED)} if ids else {}
        return SearchResult(
            hits=[challenge_document(challenges[challenge_id]) for challenge_id in ids],
            total=total,
            page=query.page,
            per_page=query.per_page,
            facets=facets,
            backend=self.name,
        )
