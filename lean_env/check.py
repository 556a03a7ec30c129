"""The independent Lean verdict: a fresh ``lake env lean --json FILE`` must accept the file,
and ``#print axioms NAME`` must list only ``propext``, ``Classical.choice``, ``Quot.sound``.

How the axiom report is made unspoofable:
  * the candidate text is scanned on Lean tokens first and refused if it could run code
    or change what a command means: any ``#command`` of its own (``#print``, ``#eval``,
    ``#exit``...), ``macro``/``syntax``/``elab``/``notation`` (a macro could redefine
    ``#print axioms``), ``axiom``, ``namespace``/``section`` (``NAME`` would resolve to
    another declaration), ``set_option`` outside a short allow-list (``debug.*`` turns
    the kernel off), compiler trust (``implemented_by``, ``native_decide``...), and an
    unterminated comment or string (it would swallow the appended command);
  * the checker appends ``#print axioms NAME`` itself, on a line ``L`` it computes, and
    reads Lean's ``--json`` messages: exactly one message may sit on line ``L``, it must
    be the axiom report for ``NAME``, and no message may come after it;
  * any error, any "declaration uses 'sorry'" warning, a non-zero exit code, or output
    that is not a JSON message rejects.
"""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

from prover.check import Verdict, check_text
from prover.process import run_group

from . import cheat, paths

ALLOWED_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
SAFE_OPTIONS = frozenset({"maxHeartbeats", "maxRecDepth", "synthInstance.maxHeartbeats",
                          "synthInstance.maxSize", "linter.unusedVariables", "linter.style.longLine"})
FILE_FORBIDDEN = (cheat.CLOSERS | cheat.COMPILER_TRUST | cheat.META
                  | {"axiom", "axioms", "namespace", "section", "end", "mutual", "local", "scoped",
                     "attribute", "omit", "include", "variable", "universe", "export",
                     "initialize", "builtin_initialize", "opaque", "partial"})
_DEPENDS = re.compile(r"^'(?P<name>[^']+)' depends on axioms: \[(?P<axioms>.*)\]\s*$", re.S)
_NO_AXIOMS = re.compile(r"^'(?P<name>[^']+)' does not depend on any axioms\s*$")


def scan_file(text: str) -> str | None:
    """Why ``text`` may not be checked (a reason), or None when it is clean."""
    try:
        toks = cheat.tokenize(text)
    except cheat.CheatError as e:
        return str(e)
    for k, t in enumerate(toks):
        if t.kind == "hashcmd":
            return f"the file runs a command of its own: {t.text}"
        if t.kind == "doccomment":
            continue
        if t.kind == "symbol" and t.text == "`(":
            return "syntax quotation in the file"
        if t.kind != "ident":
            continue
        if t.text == "set_option":
            opt = toks[k + 1].text if k + 1 < len(toks) else ""
            if opt not in SAFE_OPTIONS:
                return f"set_option {opt} is not allowed"
            continue
        for part in cheat._components(t.text):
            if part in FILE_FORBIDDEN:
                return f"forbidden word {part!r} in the file"
    return None


def declared_theorems(text: str) -> list[str]:
    toks = cheat.tokenize(text)
    return [toks[k + 1].text for k, t in enumerate(toks[:-1])
            if t.kind == "ident" and t.col == 0 and t.text in ("theorem", "lemma")
            and toks[k + 1].kind == "ident"]


def parse_axioms(data: str, name: str) -> tuple[str, ...] | None:
    """The axioms in Lean's report for ``name``; None when ``data`` is not that report."""
    data = data.strip()
    if (m := _NO_AXIOMS.match(data)) and m.group("name") == name:
        return ()
    if (m := _DEPENDS.match(data)) and m.group("name") == name:
        return tuple(a.strip() for a in m.group("axioms").replace("\n", " ").split(",") if a.strip())
    return None


def check_shape(text: str, problem) -> str | None:
    """With a known problem, the file must be exactly: the problem's header, its statement
    (token for token: comments and layout aside), ``:=`` and the proof, with no command after
    it (nothing at column 0 once the proof began). Returns why not, or None."""
    try:
        toks, head, stmt = (cheat.tokenize(t) for t in (text, problem.header, problem.statement))
    except cheat.CheatError as e:
        return f"malformed file: {e}"

    def sig(ts):
        return [(t.kind, t.text) for t in ts]

    n, m = len(head), len(stmt)
    if sig(toks[:n]) != sig(head) or sig(toks[n:n + 1]) != sig(stmt[:1]):
        return "the file does not start with the problem's header"
    rest = toks[n + m:]
    if sig(toks[n:n + m]) != sig(stmt) or not rest or rest[0].text != ":=":
        return f"the statement differs from problem {problem.name}'s (it must be followed by := and its proof)"
    if any(t.col == 0 for t in rest[1:]):
        return "nothing may follow the proof (a new command at column 0)"
    return None


def judge_output(stdout: str, returncode: int, name: str, line: int) -> Verdict:
    """Verdict from ``lean --json`` output, the axiom command being on 1-based ``line``."""
    messages = []
    for raw in stdout.splitlines():
        if not raw.strip():
            continue
        try:
            msg = json.loads(raw)
        except json.JSONDecodeError:
            return Verdict(False, f"unexpected output from lean: {raw[:200]}")
        if not isinstance(msg, dict) or "data" not in msg:
            return Verdict(False, f"unexpected output from lean: {raw[:200]}")
        messages.append(msg)

    def where(m) -> int:
        return int((m.get("pos") or {}).get("line", 0))

    for m in messages:
        if m.get("severity") == "error":
            return Verdict(False, f"error at line {where(m)}: {str(m['data']).strip()[:500]}")
    for m in messages:
        if "sorry" in str(m.get("data", "")) and "declaration uses" in str(m.get("data", "")):
            return Verdict(False, f"uses sorry (line {where(m)})")
    at_line = [m for m in messages if where(m) == line]
    if any(where(m) > line for m in messages):
        return Verdict(False, "messages after the axiom report")
    if len(at_line) != 1:
        return Verdict(False, f"expected one axiom report on line {line}, found {len(at_line)}")
    report = at_line[0]
    if report.get("severity") not in ("information", "info"):
        return Verdict(False, f"axiom report has severity {report.get('severity')}")
    axioms = parse_axioms(str(report["data"]), name)
    if axioms is None:
        return Verdict(False, f"not an axiom report for {name}: {str(report['data'])[:200]}")
    if returncode != 0:
        return Verdict(False, f"lean exited with code {returncode}")
    bad = sorted(set(axioms) - ALLOWED_AXIOMS)
    if bad:
        return Verdict(False, f"uses axioms outside the allow-list: {', '.join(bad)}", axioms)
    return Verdict(True, "", axioms)


def with_axiom_command(text: str, name: str) -> tuple[str, int]:
    """``text`` plus ``#print axioms name`` on its own line; returns (text, 1-based line)."""
    body = text.rstrip() + "\n\n"
    return body + f"#print axioms {name}\n", body.count("\n") + 1


def check_file(path, theorem: str | None = None, timeout: float = 300.0, problem=None,
               second_opinion: bool = False) -> Verdict:
    """Check ``path`` with a fresh Lean and the axioms of ``theorem`` (default: ``problem``'s
    name when a problem is given, else the last theorem of the file). With ``problem``, the
    file must also state exactly that problem (``check_shape``), before any Lean runs."""
    if second_opinion:
        raise ValueError("the lean backend has no second-opinion checker here (lean4checker is not set up)")
    path = Path(path)
    if theorem is None and problem is not None:
        theorem = problem.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return Verdict(False, f"cannot read {path}: {e}")
    reason = scan_file(text) or (check_shape(text, problem) if problem is not None else None)
    if reason:
        return Verdict(False, reason)
    names = declared_theorems(text)
    if theorem is None:
        if not names:
            return Verdict(False, f"{path.name}: no theorem to check")
        theorem = names[-1]
    elif theorem not in names:
        return Verdict(False, f"{path.name}: no theorem named {theorem}")
    lake = paths.lake()
    if lake is None:
        return Verdict(False, paths.NOT_INSTALLED)
    project = paths.lean_project()
    if not project.is_dir():
        return Verdict(False, f"lean project {project} not found: run `make lean-setup`")
    full, line = with_axiom_command(text, theorem)
    with tempfile.TemporaryDirectory(prefix="lean_check_") as tmp:
        target = Path(tmp) / "Candidate.lean"
        target.write_text(full, encoding="utf-8")
        try:
            # in a process group of its own, killed whole: lake runs lean as its child, and a
            # timeout that killed lake alone would leave lean running
            proc = run_group([lake, "env", "lean", "--json", str(target)], cwd=project, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Verdict(False, f"lean did not finish within {timeout:g}s")
        except OSError as e:
            return Verdict(False, f"{paths.NOT_INSTALLED} ({e})")
    verdict = judge_output(proc.stdout, proc.returncode, theorem, line)
    if not verdict.accepted and proc.returncode != 0 and not proc.stdout.strip():
        return Verdict(False, f"lean failed: {proc.stderr.strip()[-300:]}")
    return verdict


def render_proof(problem, proof) -> str:
    """The file for ``problem`` proved by the tactic list ``proof`` (each tactic filtered)."""
    lines = []
    for k, tac in enumerate(proof, start=1):
        try:
            tac = cheat.check_tactic(tac)
        except cheat.CheatError as e:
            raise cheat.CheatError(f"tactic {k} refused: {e}") from None
        lines.extend("  " + ln if ln.strip() else "" for ln in tac.split("\n"))
    return f"{problem.header.rstrip()}\n\n{problem.statement.rstrip()} := by\n" + "\n".join(lines) + "\n"


def check_proof(problem, proof, timeout: float = 300.0) -> Verdict:
    proof = list(proof)
    if not proof:
        return Verdict(False, "empty proof")
    try:
        text = render_proof(problem, proof)
    except cheat.CheatError as e:
        return Verdict(False, str(e))
    return check_text(text, f"{problem.name}.lean", check_file, theorem=problem.name, timeout=timeout)
