"""Pydantic schemas that validate forms and JSON alike and feed the OpenAPI document."""
