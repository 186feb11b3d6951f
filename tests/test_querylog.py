"""The query log counts what a test asserts about: one statement per query, none for cached work."""

from models.identity.orgs import Organisation


async def test_the_query_log_counts_each_statement_once(app, queries):
    with queries() as log:
        await Organisation.filter(kind="agency").count()
        await Organisation.filter(municipality_code="131041").first()
    assert log.count == 2, str(log)
    with queries() as log:
        pass
    assert log.count == 0
