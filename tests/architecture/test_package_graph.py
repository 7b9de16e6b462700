"""The package graph in docs/ is the code's, and has no cycle."""

from __future__ import annotations

from package_graph import GRAPH_DOC, package_edges, render


def test_the_documented_package_graph_is_the_codes() -> None:
    assert GRAPH_DOC.read_text(encoding="utf-8") == render(package_edges()), (
        "the package graph changed: run `make package-graph` and review docs/package-graph.md"
    )


def test_no_package_imports_one_that_imports_it() -> None:
    edges = package_edges()
    both_ways = sorted(
        (importer, imported)
        for importer, targets in edges.items()
        for imported in targets
        if importer < imported and importer in edges.get(imported, set())
    )
    assert both_ways == []
