"""Mutation testing of the modules that hold the rules (issue #19 point 5). Not part of CI: it is slow.

    nice -n 19 .venv/bin/python bench/mutate.py --target tally            # one target
    nice -n 19 .venv/bin/python bench/mutate.py --target all --list       # what would be mutated
    nice -n 19 .venv/bin/python bench/mutate.py --target policy --workers 2   # the walk on two workers

Each target names a module, the functions in it that hold a rule, and the tests that cover them. The
script copies the working tree (without .venv) to a temporary directory once, then for every mutation
point in those functions writes the module with that one mutation and runs the target's tests there
(`pytest -x`, SQLite only through PDZ_REQUIRE_POSTGRES unset): a failing run kills the mutant. The checkout
you work in is never touched. The last line printed is a JSON object: per target, mutants, killed, score
and the survivors (line and mutation), which docs/testing.md lists with their explanation.

Mutations (one at a time, the classic operators): comparison flipped (< <=, > >=, == !=, in / not in,
is / is not), and / or swapped, `not` removed, an integer constant +1, True / False swapped, a `return`
of a boolean expression negated, + / -, * / //, a call of `max`/`min` swapped, `sorted`'s `sort_keys`
and similar keyword booleans flipped.

Why not mutmut (BSD-3-Clause, installable: 3.8.1) or cosmic-ray (MIT)? Both work, but mutmut 3 first runs
the whole suite (18 minutes here) to map tests to functions and builds the test databases again for every
mutant in the same checkout; this script mutates only the functions named below, in a copy, and runs only
their tests, which makes a full pass fit in an hour on two cores.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Target:
    module: str  # path from the repository root
    functions: tuple[str, ...]  # names of functions (or Class.method) to mutate; empty: every function
    tests: tuple[str, ...]  # pytest node ids or files
    strings: bool = False  # also mutate string constants (where a character is the rule: separators)


TARGETS = {
    "policy": Target(
        "platform/pdz/policy.py",
        (),
        (
            "tests/test_permissions_walk.py",
            "tests/rules/test_approval_roles.py",
            "tests/rules/test_named_delegate.py",
            # the walk's sample comment is nobody's among the roles: "own" comments are exercised here
            "tests/comments/test_comments_http.py::test_edit_keeps_history_and_only_the_author_edits",
            "tests/test_app_basics.py::test_error_pages_are_in_italian_without_stack_traces",  # guard's 404
        ),
    ),
    "quorum": Target(
        "platform/pdz/meetings/attendance.py",
        ("QuorumState.reached", "quorum", "seat_weight", "population_weight"),
        ("tests/rules/test_vote_rules.py",),
    ),
    "tally": Target(
        "platform/pdz/approvals/services.py",
        ("tally",),
        ("tests/rules/test_vote_rules.py",),
    ),
    "fingerprint": Target(
        "platform/pdz/approvals/document.py",
        ("canonical_bytes", "fingerprint_bytes", "fingerprint"),
        ("tests/rules/test_frozen_documents.py",),
        strings=True,
    ),
    "verification": Target(
        "platform/pdz/approvals/services.py",
        ("intact",),
        ("tests/rules/test_frozen_documents.py",),
    ),
    "verify_view": Target(
        "platform/pdz/approvals/views.py",
        ("_match",),
        ("tests/rules/test_frozen_documents.py",),
    ),
    "merge": Target(
        "platform/pdz/merge.py",
        (),
        (
            "tests/rules/test_merge_rules.py",
            "tests/cards/test_cards_saves.py::test_concurrent_edits_of_different_rows_never_conflict",
        ),
    ),
    "catch_up": Target(
        "platform/pdz/realtime.py",
        ("events_since", "last_event_id"),
        ("tests/rules/test_replay_limit.py", "tests/test_sockets_foundation.py"),
    ),
}

FLIP_COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
FLIP_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult}


def _describe(node: ast.AST) -> str:
    return ast.unparse(node)[:80]


def mutation_points(tree: ast.Module, target: Target) -> list[tuple[int, str]]:
    """(index, description) of every mutation, in a stable order."""
    return [(n, what) for n, (_node, what) in enumerate(_sites(tree, target))]


def _targets(tree: ast.Module, functions: tuple[str, ...]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not functions or node.name in functions:
                found.append(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and (
                    not functions or f"{node.name}.{item.name}" in functions
                ):
                    found.append(item)
    return found


def _sites(tree: ast.Module, target: Target) -> list[tuple[ast.AST, str]]:
    sites: list[tuple[ast.AST, str]] = []
    for function in _targets(tree, target.functions):
        body = function.body[1:] if ast.get_docstring(function) else function.body
        for statement in body:
            for node in ast.walk(statement):
                sites.extend(_node_sites(node))
                if target.strings and isinstance(node, ast.Constant) and isinstance(node.value, str):
                    sites.append((node, f"L{node.lineno} string {node.value!r}->{node.value + ' '!r}"))
    return sites


def _node_sites(node: ast.AST) -> list[tuple[ast.AST, str]]:
    line = getattr(node, "lineno", 0)
    out: list[tuple[ast.AST, str]] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in FLIP_COMPARE:
                out.append(
                    (
                        node,
                        f"L{line} compare#{i} {type(op).__name__}->{FLIP_COMPARE[type(op)].__name__}: {_describe(node)}",
                    )
                )
    elif isinstance(node, ast.BoolOp):
        out.append((node, f"L{line} {type(node.op).__name__} swapped: {_describe(node)}"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append((node, f"L{line} not removed: {_describe(node)}"))
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        out.append((node, f"L{line} {node.value}->{not node.value}"))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        out.append((node, f"L{line} {node.value}->{node.value + 1}"))
    elif isinstance(node, ast.BinOp) and type(node.op) in FLIP_BINOP:
        out.append(
            (
                node,
                f"L{line} {type(node.op).__name__}->{FLIP_BINOP[type(node.op)].__name__}: {_describe(node)}",
            )
        )
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
        out.append((node, f"L{line} {node.func.id} swapped: {_describe(node)}"))
    elif isinstance(node, ast.Return) and node.value is not None and _looks_boolean(node.value):
        out.append((node, f"L{line} return negated: {_describe(node)}"))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "limit":
        out.append((node, f"L{line} .limit() removed: {_describe(node)}"))
    return out


def _looks_boolean(value: ast.AST) -> bool:
    return (
        isinstance(value, ast.Compare | ast.BoolOp)
        or (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not))
        or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "bool")
    )


class _Apply(ast.NodeTransformer):
    def __init__(self, site: ast.AST, description: str) -> None:
        self.site, self.description = site, description

    def visit(self, node: ast.AST) -> ast.AST:  # type: ignore[override]
        if node is not self.site:
            return super().visit(node)
        d = self.description
        if isinstance(node, ast.Compare):
            index = int(d.split("compare#", 1)[1].split(" ", 1)[0])
            node.ops[index] = FLIP_COMPARE[type(node.ops[index])]()
        elif isinstance(node, ast.BoolOp):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif isinstance(node, ast.UnaryOp):
            return node.operand
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            node.value = not node.value
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = node.value + " "
        elif isinstance(node, ast.Constant) and isinstance(node.value, int):
            node.value = node.value + 1
        elif isinstance(node, ast.BinOp):
            node.op = FLIP_BINOP[type(node.op)]()
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            node.func = ast.Name(id="min" if node.func.id == "max" else "max", ctx=ast.Load())
        elif isinstance(node, ast.Return) and node.value is not None:
            node.value = ast.UnaryOp(op=ast.Not(), operand=node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return node.func.value
        return node


def mutated_source(source: str, target: Target, index: int) -> tuple[str, str]:
    tree = ast.parse(source)
    site, description = _sites(tree, target)[index]
    mutated = _Apply(site, description).visit(tree)
    ast.fix_missing_locations(mutated)
    return ast.unparse(mutated), description


def _copy_tree(into: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "instance", "__pycache__", "*.pyc", "mutants", "node_modules"
    )
    shutil.copytree(ROOT, into, ignore=ignore, dirs_exist_ok=True)


WORKERS = "0"  # pytest-xdist workers per test run (--workers): 0 runs in one process


def _run_tests(workdir: Path, tests: tuple[str, ...], timeout: float) -> tuple[bool, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDZ_REQUIRE")}
    env["PDZ_TEST_POSTGRES_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # SQLite only
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-n", WORKERS, *tests],
            cwd=workdir,
            env=env,
            capture_output=True,
            timeout=timeout,
        )
        passed = result.returncode == 0
    except subprocess.TimeoutExpired:
        passed = False  # a mutant that hangs the tests is killed by the timeout
    return passed, time.monotonic() - started


def run_target(
    name: str, target: Target, workdir: Path, timeout: float, every: int = 1, start: int = 0
) -> dict[str, object]:
    path = workdir / target.module
    original = (ROOT / target.module).read_text(encoding="utf-8")
    points = mutation_points(ast.parse(original), target)[::every][start:]
    clean, seconds = _run_tests(workdir, target.tests, timeout)
    if not clean:
        print(f"{name}: the tests fail without any mutation; fix that first", flush=True)
        return {"module": target.module, "error": "the tests fail without any mutation"}
    survivors, killed = [], 0
    for index, _what in points:
        source, description = mutated_source(original, target, index)
        path.write_text(source, encoding="utf-8")
        passed, _took = _run_tests(workdir, target.tests, max(timeout, seconds * 3))
        if passed:
            survivors.append(description)
        else:
            killed += 1
        print(
            f"{name} {index + 1}/{len(points) + start} {'SURVIVED' if passed else 'killed'}: {description}",
            flush=True,
        )
    path.write_text(original, encoding="utf-8")
    total = len(points)
    return {
        "module": target.module,
        "functions": list(target.functions) or ["(all)"],
        "tests": list(target.tests),
        "mutants": total,
        "sample": (f"every {every}th mutation point" if every > 1 else "all")
        + (f", from mutant {start + 1}" if start else ""),
        "killed": killed,
        "score": round(killed / total, 3) if total else None,
        "survivors": survivors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--target", default="all", help=f"one or more of {', '.join(TARGETS)}, comma-separated, or all"
    )
    parser.add_argument("--list", action="store_true", help="list the mutations without running anything")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per test run at most")
    parser.add_argument("--every", type=int, default=1, help="run only every Nth mutation point (a sample)")
    parser.add_argument(
        "--start",
        type=int,
        default=0,
        help="skip the first N mutants (to go on with a pass that was stopped)",
    )
    parser.add_argument(
        "--workers",
        default="0",
        help="pytest-xdist workers for each test run (0: one process; 'auto' helps the long permission walk)",
    )
    args = parser.parse_args()
    global WORKERS
    WORKERS = str(args.workers)
    names = list(TARGETS) if args.target == "all" else args.target.split(",")
    if args.list:
        for name in names:
            target = TARGETS[name]
            source = (ROOT / target.module).read_text(encoding="utf-8")
            for index, what in mutation_points(ast.parse(source), target):
                print(f"{name} {index}: {what}")
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="pdz-mutate-") as tmp:
        workdir = Path(tmp)
        _copy_tree(workdir)
        for name in names:
            results[name] = run_target(name, TARGETS[name], workdir, args.timeout, args.every, args.start)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
