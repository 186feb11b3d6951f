"""The domain: Tortoise models, lifecycles, policy and pure algorithms.

Nothing here knows about HTTP, Jinja2 or arq.
"""
