"""The layers point one way and the domain has no import cycles (DESIGN.md, docs/architecture.md).

import-linter's contracts (pyproject.toml) are checked by `make test` before pytest; this test adds what they
cannot say: no two modules of `models` import each other, directly or through others, even inside a function.
"""

from __future__ import annotations

import grimp
import networkx


def test_the_domain_has_no_import_cycles():
    graph = grimp.build_graph("models")
    imports = networkx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            imports.add_edge(module, imported)
    cycles = [sorted(component) for component in networkx.strongly_connected_components(imports) if len(component) > 1]
    assert cycles == []
