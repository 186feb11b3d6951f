"""Authentication for pages (server-side sessions) and the API (bearer tokens), CSRF and headers."""
