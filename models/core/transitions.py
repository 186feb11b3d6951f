"""The next states a person may move a record to: what a 409 names (DESIGN.md).

Each lifecycle keeps a table `{state: {next state: who}}` ("who" is a role: "owner", "operator",
"company", "reviewer", "system"); its `allowed_transitions(actor, record)` finds the actor's roles on the
record (the policy) and asks `next_states`, then removes the moves whose other conditions fail.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import Enum
from typing import TypeVar

State = TypeVar("State", bound=Enum)


def next_states(table: Mapping[State, Mapping[State, str]], state: State, roles: Collection[str]) -> list[str]:
    """The states one holding `roles` may move a record in `state` to, in the table's order."""
    return [str(target.value) for target, who in table.get(state, {}).items() if who in roles]
