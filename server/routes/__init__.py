"""One module per area; pages and API side by side."""
