"""Discovery: one interface, two backends (Meilisearch, and the database as default and fallback)."""
