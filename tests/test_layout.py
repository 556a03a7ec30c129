"""The layout's two rules that code review alone would let slip (issue #38).

1. The import graph of ``prover/`` has no cycle. A circle of imports is a seam that never got
   cut; it works only as long as one side imports lazily, and it makes a module impossible to
   understand or test without the other. Every import counts, at module level or inside a
   function, and those under ``TYPE_CHECKING`` too: the graph is read from the source with
   ``ast``, nothing is imported.
2. SQL lives in ``prover/db/`` only, so a schema change touches that package alone: no string
   outside it (docstrings aside) holds a SQL statement."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "prover"


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The module of ``prover`` that a dotted name lives in (a name in a module: that module)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in MODULES:
            return ".".join(parts[:i])
    return None


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {_resolve(a.name) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            found |= {_resolve(f"{base}.{a.name}") or _resolve(base) for a in node.names}
    return {m for m in found if m and m != module}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_prover_has_no_import_cycle():
    graph = {m: imports_of(m) for m in MODULES}
    assert "prover.search.best_first" in graph["prover.search.runner"]  # the reader sees imports at all
    assert cycles(graph) == []


SQL = re.compile(r"\b(?:select\s[\s\S]*?\sfrom\s+\w+|insert\s+(?:or\s+\w+\s+)?into\s+\w+|update\s+\w+\s+set\s|"
                 r"delete\s+from\s+\w+|create\s+(?:table|index)\s|drop\s+table\s)", re.I)


def sql_strings(path: Path) -> list[str]:
    """The string constants of a file that hold a SQL statement (docstrings are prose)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(n.value) for n in ast.walk(tree)
                  if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr):  # an f-string: its literal parts joined
            text = "".join(v.value for v in n.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
            text = n.value
        else:
            continue
        if SQL.search(text):
            out.append(f"{path.relative_to(ROOT)}:{n.lineno}: {text[:60]!r}")
    return out


def test_the_sql_reader_sees_sql():
    assert sql_strings(ROOT / "prover" / "db" / "queries.py")
    assert SQL.search("select a.id from attempts a") and SQL.search("INSERT OR REPLACE INTO failures (key)")
    assert not SQL.search("select the barely provable ones") and not SQL.search("update the model")


def test_sql_lives_in_prover_db_only():
    files = [p for d in ("prover", "coq_env", "lean_env") for p in (ROOT / d).rglob("*.py")
             if (ROOT / "prover" / "db") not in p.parents]
    assert len(files) > 50
    assert [s for p in files for s in sql_strings(p)] == []
