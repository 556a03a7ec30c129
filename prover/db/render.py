"""Rendering what a proof database holds: a search tree as indented text (``prover db tree``)
and an accepted proof as the file its backend checks (``prover db proofs``). Reads through
:class:`prover.db.ProofDB`; writes nothing."""
from __future__ import annotations

from prover.db.store import ProofDB, _one_line

MESSAGE_WIDTH = 80  # error messages in tree_text are cut to this many characters


def tree_text(db: ProofDB, attempt_id: int) -> str:
    """The attempt's search tree as indented text: one line per edge, children indented
    under the edge that first reached them, ``*`` marking the proved path. Raises
    UnknownAttempt for an id the database does not have."""
    return _render_tree(*db.tree_rows(attempt_id))


def proof_file(problem: dict | None, proof: dict) -> str:
    """A proof row as the text of a file its backend can check: header, statement, tactics.
    ``problem`` is the problem's row (None when the database does not have it)."""
    from prover import backends
    tactics = [tactic for _, tactic in proof["steps"]] if proof["steps"] else proof["proof"].split("\n")
    backend = backends.get((problem or {}).get("backend") or backends.DEFAULT)
    about = (f"{proof['problem']}  attempt {proof['attempt_id']}  round {proof['round']}  "
             f"length {proof['length']}  {proof['verdict']}")
    if problem is None:
        return (backend.comment(about) + "\n" + backend.comment("problem not in the database") + "\n"
                + "\n".join(tactics) + "\n")
    from prover.problems import Problem
    p = Problem(name=problem["name"], split=problem.get("split") or "", backend=backend.name,
                header=problem.get("header") or "", statement=problem.get("statement") or "")
    try:
        return backend.comment(about) + "\n" + backend.render_proof(p, tactics)
    except ValueError as e:  # a rejected proof the backend will not even render (a refused tactic)
        return (backend.comment(about) + "\n" + backend.comment(f"not renderable: {_one_line(e)}") + "\n"
                + "\n".join(tactics) + "\n")


def _goal_summary(goals: str | None, width: int = 70) -> str:
    """The first goal's conclusion, plus how many other goals there are."""
    if not goals:
        return "?"
    if goals == "no goals":
        return goals
    parts = goals.split("\n\n")
    conclusion = next((line for line in parts[0].splitlines() if line.startswith("⊢")),
                      parts[0].splitlines()[-1] if parts[0].strip() else "")
    text = _one_line(conclusion)
    if len(text) > width:
        text = text[: width - 1] + "…"
    if len(parts) > 1:
        text += f"  (+{len(parts) - 1} goals)"
    return text


def _proved_path(root: str | None, nodes: dict, by_src: dict) -> set[int]:
    """Edge ids on the proved path: from the root, follow edges that close the proof or
    lead to a proved node."""
    path, current, seen = set(), root, set()
    while current is not None and current not in seen:
        seen.add(current)
        step = next((e for e in by_src.get(current, ()) if e["outcome"] == "proved"), None)
        if step is None:
            step = next((e for e in by_src.get(current, ())
                         if e["dst"] in nodes and nodes[e["dst"]]["status"] == "proved"
                         and e["dst"] not in seen), None)
        if step is None:
            break
        path.add(step["id"])
        current = step["dst"] if step["outcome"] != "proved" else None
    return path


def _edge_text(edge: dict, nodes: dict) -> str:
    logprob = "?" if edge["logprob"] is None else f"{edge['logprob']:.3f}"
    text = f"{edge['tactic']}  [{logprob}]  {edge['outcome']}"
    if edge["outcome"] in ("error", "refused") and edge["message"]:
        message = _one_line(edge["message"])
        if len(message) > MESSAGE_WIDTH:
            message = message[: MESSAGE_WIDTH - 1] + "…"
        text += f": {message}"
    elif edge["outcome"] == "timeout":
        text += f" after {edge['seconds']:.1f}s"
    elif edge["dst"] is not None:
        dst = nodes.get(edge["dst"])
        status = dst["status"] if dst else "?"
        text += f" -> {edge['dst']} {status}  {_goal_summary(dst['goals'] if dst else None)}"
    return text


def _render_tree(attempt: dict, nodes: dict, edges: list[dict]) -> str:
    root = next((n["id"] for n in nodes.values() if n["parent"] is None), None)
    if root is None and nodes:
        root = min(nodes.values(), key=lambda n: n["depth"])["id"]
    by_src: dict[str, list[dict]] = {}
    for edge in edges:
        by_src.setdefault(edge["src"], []).append(edge)
    on_path = _proved_path(root, nodes, by_src)
    lines = [f"attempt {attempt['id']}  {attempt['problem']}  round {attempt['round']}  "
             f"policy {attempt['policy']}  outcome {attempt['outcome']}  "
             f"expansions {attempt['expansions']}  {attempt['seconds']:.1f}s"]
    if attempt.get("error"):
        lines.append(f"error: {_one_line(attempt['error'])}")
    if root is None:
        lines.append("(no nodes recorded)")
        return "\n".join(lines) + "\n"
    lines.append(f"root {root} {nodes[root]['status']}  {_goal_summary(nodes[root]['goals'])}")
    # Depth-first, iteratively (trees can be deep); a NEW edge owns its destination subtree.
    stack: list[tuple[dict, int]] = [(e, 1) for e in reversed(by_src.get(root, []))]
    expanded = {root}
    while stack:
        edge, depth = stack.pop()
        mark = "* " if edge["id"] in on_path else "  "
        lines.append("  " * depth + mark + _edge_text(edge, nodes))
        dst = edge["dst"]
        if edge["outcome"] == "new" and dst is not None and dst not in expanded:
            expanded.add(dst)
            stack.extend((e, depth + 1) for e in reversed(by_src.get(dst, [])))
    return "\n".join(lines) + "\n"
