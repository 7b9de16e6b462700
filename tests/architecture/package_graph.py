"""The project's package graph, read from the code's imports (grimp, the graph import-linter checks), as a
Mermaid flowchart: ``make package-graph`` writes it into docs/package-graph.md; a test keeps it current."""

from __future__ import annotations

import graphlib
from pathlib import Path

import grimp

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GRAPH_DOC = PROJECT_ROOT / "docs" / "package-graph.md"
ROOTS = ("cli", "pipelines", "components", "contracts")
# Modules directly under components/ (errors live in contracts): shared by every step, drawn as one node.
SHARED = "components (shared modules)"

HEADER = """# Package graph

Generated from the code's imports by `make package-graph` (`tests/architecture/package_graph.py`); a test
fails when the code and this picture differ. An arrow points from the importer to what it imports. The
packages are listed so that every arrow points to a package further down the list: the graph has no cycle,
which `make lint` also checks (import-linter's `acyclic_siblings` and layer contracts in pyproject.toml).

"""


def package_of(module: str) -> str:
    """The node a module is drawn in: a root package, or a subpackage of components."""
    parts = module.split(".")
    if parts[0] != "components":
        return parts[0]
    if len(parts) == 1:
        return SHARED
    return f"components.{parts[1]}" if (PROJECT_ROOT / "components" / parts[1]).is_dir() else SHARED


def package_edges() -> dict[str, set[str]]:
    """Each package's imports of other packages of the project."""
    graph = grimp.build_graph(*ROOTS, exclude_type_checking_imports=True)
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        importer = package_of(module)
        edges.setdefault(importer, set())
        for imported in graph.find_modules_directly_imported_by(module):
            target = package_of(imported)
            if target != importer:
                edges[importer].add(target)
    return edges


def render(edges: dict[str, set[str]]) -> str:
    """The Markdown page: a Mermaid flowchart in topological order (raises ``graphlib.CycleError``)."""
    graphlib.TopologicalSorter(edges).prepare()  # raises CycleError on a cycle
    order = sorted(edges, key=lambda name: (-_height(name, edges), name))
    ids = {name: f"n{index}" for index, name in enumerate(order)}
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'    {ids[name]}["{name}"]' for name in order]
    lines += [
        f"    {ids[importer]} --> {ids[imported]}"
        for importer in order
        for imported in sorted(edges[importer], key=order.index)
    ]
    lines.append("```")
    listing = [f"{index}. `{name}`" for index, name in enumerate(order, start=1)]
    return HEADER + "\n".join(lines) + "\n\nTop to bottom:\n\n" + "\n".join(listing) + "\n"


def _height(name: str, edges: dict[str, set[str]]) -> int:
    # The longest chain of imports below a package: every arrow points to a lower height.
    return max((_height(target, edges) + 1 for target in edges.get(name, ())), default=0)


if __name__ == "__main__":
    GRAPH_DOC.write_text(render(package_edges()), encoding="utf-8")
    print(f"wrote {GRAPH_DOC.relative_to(PROJECT_ROOT)}")
