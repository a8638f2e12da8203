"""Domains without cycles (issue #18 point 6): the packages under platform/pdz import one another in layers.

The graph is read from the source with `ast`: every `import` of a `pdz.<domain>` module, at module level or
inside a function, is an edge from the importing domain to the imported one. Imports under
`if TYPE_CHECKING:` are left out: they exist for the type checker only, for model relationships declared by
name (`Mapped["Card"]`), and never run. A lower domain that must let a higher one act sends a signal
(`pdz/signals.py`) instead of importing it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PDZ = Path(__file__).resolve().parents[1] / "platform" / "pdz"
DOMAINS = sorted(p.name for p in PDZ.iterdir() if (p / "__init__.py").exists() and p.name != "translations")
# Shared infrastructure every domain may use: it imports no domain at all.
INFRASTRUCTURE = [
    "audit",
    "config",
    "db",
    "errors",
    "extensions",
    "formatting",
    "idempotency",
    "inputs",
    "labels",
    "mail",
    "merge",
    "money",
    "realtime",
    "security",
    "signals",
    "text",
    "webutil",
]

Site = tuple[str, int]  # (file relative to platform/pdz, line)


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith("TYPE_CHECKING")


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that runs (module level or in a function), not those under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _targets(node: ast.Import | ast.ImportFrom, package: list[str]) -> list[list[str]]:
    """The dotted `pdz...` names an import statement reaches, as lists of parts."""
    if isinstance(node, ast.Import):
        return [a.name.split(".") for a in node.names if a.name.split(".")[0] == "pdz"]
    if node.level:
        base = package[: len(package) - (node.level - 1)]
        module = base + (node.module.split(".") if node.module else [])
    else:
        module = (node.module or "").split(".")
    if module[0] != "pdz":
        return []
    if len(module) == 1:  # `from . import cards` at the top of the package: each name is a module
        return [module + [a.name] for a in node.names]
    return [module]


def _module_parts(path: Path) -> tuple[list[str], list[str]]:
    parts = ["pdz", *path.relative_to(PDZ).with_suffix("").parts]
    if parts[-1] == "__init__":
        return parts[:-1], parts[:-1]
    return parts, parts[:-1]


def import_graph() -> tuple[dict[str, dict[str, list[Site]]], dict[str, dict[str, list[Site]]]]:
    """(domain -> imported domain -> sites, infrastructure module -> imported domain -> sites)."""
    domains: dict[str, dict[str, list[Site]]] = defaultdict(lambda: defaultdict(list))
    infrastructure: dict[str, dict[str, list[Site]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PDZ.rglob("*.py")):
        module, package = _module_parts(path)
        source = module[1] if len(module) > 1 else ""
        if source in DOMAINS:
            graph = domains
        elif source in INFRASTRUCTURE:
            graph = infrastructure
        else:
            continue  # the app's wiring (create_app, policy, labels, cli, demo...) may import any domain
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, package):
                if len(target) > 1 and target[1] in DOMAINS and target[1] != source:
                    graph[source][target[1]].append((str(path.relative_to(PDZ)), node.lineno))
    return domains, infrastructure


def _strongly_connected(graph: dict[str, dict[str, list[Site]]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _shortest_cycle(graph: dict[str, dict[str, list[Site]]], component: list[str]) -> list[str]:
    start, inside = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph.get(node, {})):
            if other == start:
                return [*paths[node], start]
            if other in inside and other not in paths:
                paths[other] = [*paths[node], other]
                queue.append(other)
    return component


def _describe(graph: dict[str, dict[str, list[Site]]], cycle: list[str]) -> str:
    lines = [" -> ".join(cycle)]
    for source, target in zip(cycle, cycle[1:], strict=False):
        sites = ", ".join(f"{file}:{line}" for file, line in graph[source][target][:5])
        lines.append(f"  {source} -> {target}: {sites}")
    return "\n".join(lines)


def test_the_graph_sees_the_imports() -> None:
    """The reader finds the edges every layer has (so an empty graph cannot pass the cycle test)."""
    domains, _infrastructure = import_graph()
    assert (
        "cards" in domains["approvals"] and "tavoli" in domains["cards"] and "accounts" in domains["tavoli"]
    )


def test_domains_import_one_another_without_cycles() -> None:
    domains, _infrastructure = import_graph()
    cycles = []
    for component in _strongly_connected(domains):
        cycles.append("domains in one cycle: " + ", ".join(component))
        seen: set[tuple[str, ...]] = set()
        for node in component:  # one shortest cycle through each of them
            cycle = _shortest_cycle(domains, [node, *(c for c in component if c != node)])
            key = tuple(sorted(cycle[:-1]))
            if key not in seen:
                seen.add(key)
                cycles.append(_describe(domains, cycle))
    assert not cycles, "import cycles between domains (send a signal from pdz/signals.py instead):\n" + (
        "\n".join(cycles)
    )


def test_infrastructure_imports_no_domain() -> None:
    _domains, infrastructure = import_graph()
    found = [
        f"{module} -> {domain}: {', '.join(f'{f}:{n}' for f, n in sites)}"
        for module, targets in sorted(infrastructure.items())
        for domain, sites in sorted(targets.items())
    ]
    assert not found, "\n".join(found)
