"""Independent verdict for Coq proofs: a fresh ``coqc`` and ``Print Assumptions``.

Step 1 compiles the candidate file as a library of its own with a fresh ``coqc``.
Step 2 runs a second, separate ``coqc`` on a two-line file that loads the compiled library
(after the real standard-library modules that hold the allowed axioms, so a file cannot
pass off an axiom of its own under an allowed name) and prints the theorem's assumptions.
Output the candidate file prints while compiling never reaches step 2, so it cannot forge
the verdict. Accepted only if the theorem exists and every assumption is on the allow-list:
the axioms the standard Reals library itself rests on. Anything declared in the file
(``Axiom``, ``Admitted``, ``Parameter``...) or an unsafe flag (``Unset Guard Checking``,
type-in-type) shows up in ``Print Assumptions`` and is rejected.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from prover.check import Verdict, check_text
from prover.process import run_group

from . import automation
from .cheat import CheatError, check_tactic
from .env import LEGACY_PRELUDES, PRELUDE
from .sentences import STRUCTURAL, SentenceError, split_sentences

# What Coq 8.16's Reals rest on (Print Assumptions over Reals' main theorems).
ALLOWED_AXIOMS = frozenset({
    "ClassicalDedekindReals.sig_forall_dec",
    "ClassicalDedekindReals.sig_not_dec",
    "FunctionalExtensionality.functional_extensionality_dep",
    "Classical_Prop.classic",
})
# What Interval (libcoq-interval) rests on besides: the specifications of the kernel's primitive
# 63-bit integers and floats (Coq's own Uint63 and FloatAxioms modules) and the primitives
# themselves, which its reflexive floating-point computations use. A name qualifies only under
# these module paths; the verification step loads the real modules first.
ALLOWED_PREFIXES = ("PrimInt63.", "PrimFloat.", "Uint63.", "FloatAxioms.")
_AXIOM_HOMES = ("Require Coq.Reals.ClassicalDedekindReals Coq.Logic.FunctionalExtensionality "
                "Coq.Logic.Classical_Prop Coq.Numbers.Cyclic.Int63.Uint63 Coq.Floats.FloatAxioms.")
NO_HAMMER = "`hammer` calls external provers: a proof stores the reconstruction CoqHammer reports"
_THEOREM = re.compile(r"^\s*(?:Theorem|Lemma|Example|Corollary|Proposition|Fact|Remark)\s+([\w']+)", re.M)
_HEADERS = {"Axioms:", "Section Variables:", "Opaque constants:", "Transparent constants:"}


def render_proof(problem, proof) -> str:
    """The complete file for ``problem`` proved by ``proof`` (tactics), as ``prover check`` reads it."""
    body = "\n".join("  " + t.strip() for t in proof)
    parts = [problem.header.strip(), PRELUDE, *automation.check_imports(proof), "",
             problem.statement.strip(), "Proof.", body, "Qed.", ""]
    return "\n".join(p for p in parts if p is not None)


def _theorem_name(text: str, stem: str) -> str | None:
    names = _THEOREM.findall(text)
    if stem in names:
        return stem
    return names[-1] if names else None


def parse_assumptions(output: str) -> list[str]:
    """Top-level entries of ``Print Assumptions`` (names, or whole lines for notices)."""
    if "Closed under the global context" in output:
        return []
    entries = []
    for line in output.splitlines():
        if not line.strip() or line[0].isspace() or line.strip() in _HEADERS:
            continue
        entries.append(line.split(" : ")[0].strip())
    return entries


def _first_error(out: str) -> str:
    m = re.search(r"^Error:?\s*(.*)", out, re.M | re.S)
    text = m.group(1) if m else out
    return " ".join(text.split())[:300] or "coqc failed"


def _norm(s: str) -> str:
    return " ".join(s.split())


def check_shape(text: str, problem) -> str | None:
    """With a known problem, the file must be exactly: the problem's header, optionally the
    tactic prelude, the problem's statement, ``Proof.``, tactics (bullets allowed),
    ``Qed.`` and nothing after. Returns why not, or None."""
    try:
        sents = [_norm(s.text) for s in split_sentences(text)]
    except SentenceError as e:
        return f"malformed file: {e}"
    header = [_norm(s.text) for s in split_sentences(problem.header, bullets=False)]
    stmt = _norm(problem.statement)
    if sents[:len(header)] != header:
        return "the file does not start with the problem's header"
    rest = sents[len(header):]
    if rest and rest[0] in {_norm(p) for p in (PRELUDE, *LEGACY_PRELUDES)}:
        rest = rest[1:]
    for imp in automation.CHECK_IMPORTS:  # CoqHammer's reconstruction, Interval: each optional, in order
        if rest and rest[0] == imp:
            rest = rest[1:]
    if not rest or rest[0] != stmt:
        return f"the statement differs from problem {problem.name}'s"
    rest = rest[1:]
    if rest and re.fullmatch(r"Proof(?: using [^.]*)?\.", rest[0]):
        rest = rest[1:]
    if not rest or rest[-1] not in ("Qed.", "Defined."):
        return "the proof must end with Qed. and nothing may follow it"
    for s in rest[:-1]:
        if STRUCTURAL.fullmatch(s):
            continue
        try:
            check_tactic(s)
        except CheatError as e:
            return f"refused sentence {s[:60]!r}: {e}"
        if automation.uses_hammer(s):
            return f"refused sentence {s[:60]!r}: {NO_HAMMER}"
    return None


ALLOWED_QUALIFIED = frozenset({
    "Coq.Reals.ClassicalDedekindReals.sig_forall_dec", "Coq.Reals.ClassicalDedekindReals.sig_not_dec",
    "Coq.Logic.FunctionalExtensionality.functional_extensionality_dep", "Coq.Logic.Classical_Prop.classic",
})
_COQCHK_SECTIONS = ("Constants/Inductives relying on type-in-type", "Constants/Inductives relying on unsafe",
                    "Inductives whose positivity is assumed")


def coqchk_verdict(output: str, returncode: int) -> Verdict:
    """The verdict of ``coqchk -o``'s context summary: it re-checks the compiled file and every
    library it loads with the kernel alone; every axiom of that context must be on the
    allow-list (fully qualified; Interval's primitive specifications under Coq's own modules),
    and nothing may rely on type-in-type, unsafe fixpoints or assumed positivity."""
    if returncode != 0:
        return Verdict(False, f"coqchk rejects the compiled file: {_first_error(output)}")
    if "CONTEXT SUMMARY" not in output:
        return Verdict(False, "coqchk printed no context summary")
    summary = output[output.index("CONTEXT SUMMARY"):]
    axioms, section = [], None
    for line in summary.splitlines():
        if line.startswith("* "):
            section = line[2:].rstrip(": ").strip()
            rest = line.split(":", 1)[1].strip() if ":" in line else ""
            if section.startswith(_COQCHK_SECTIONS) and rest and rest != "<none>":
                return Verdict(False, f"coqchk: {line[2:].strip()}")
            continue
        item = line.strip()
        if not item or item == "<none>":
            continue
        if section == "Axioms":
            axioms.append(item.split(" ")[0])
        elif section and section.startswith(_COQCHK_SECTIONS):
            return Verdict(False, f"coqchk: {section}: {item}")
    primitive = tuple("Coq." + x for x in ("Numbers.Cyclic.Int63.", "Floats.")) + ALLOWED_PREFIXES
    bad = [a for a in axioms if a not in ALLOWED_QUALIFIED and not a.startswith(primitive)]
    if bad:
        return Verdict(False, "coqchk: axioms outside the allow-list: " + "; ".join(bad), tuple(axioms))
    return Verdict(True, "", tuple(axioms))


def check_file(path, theorem: str | None = None, timeout: float = 300.0, problem=None,
               second_opinion: bool = False) -> Verdict:
    """Compile ``path`` with a fresh coqc and check the axioms of ``theorem`` (default: the
    theorem named like the file, else the last one). With ``problem``, the file must also
    state exactly that problem (see ``check_shape``). With ``second_opinion``, ``coqchk``
    re-checks the compiled file independently of coqc (``coqchk_verdict``; it re-checks
    every library the file loads, so it takes about 40 s for a file that loads Reals)."""
    path = Path(path)
    if not shutil.which("coqc"):
        return Verdict(False, "coqc not found: install Coq (apt-get install coq libcoq-coquelicot)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return Verdict(False, f"cannot read {path}: {e}")
    if problem is not None:
        why = check_shape(text, problem)
        if why:
            return Verdict(False, why)
        theorem = theorem or problem.name
    name = theorem or _theorem_name(text, path.stem)
    if not name:
        return Verdict(False, f"no theorem found in {path}")
    with tempfile.TemporaryDirectory(prefix="prover-check-") as tmp:
        lib = Path(tmp) / "Cand.v"
        lib.write_text(text, encoding="utf-8")
        try:
            r = run_group(["coqc", "-q", "-Q", tmp, "PCheck", str(lib)], cwd=tmp, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Verdict(False, f"coqc did not finish within {timeout:.0f}s")
        if r.returncode != 0:
            return Verdict(False, f"does not compile: {_first_error(r.stdout + r.stderr)}")
        verify = Path(tmp) / "verify" / "Verify.v"
        verify.parent.mkdir()
        verify.write_text(f"{_AXIOM_HOMES}\nRequire PCheck.Cand.\nPrint Assumptions PCheck.Cand.{name}.\n")
        try:
            r = run_group(["coqc", "-q", "-Q", tmp, "PCheck", str(verify)], cwd=verify.parent,
                          timeout=timeout)
        except subprocess.TimeoutExpired:
            return Verdict(False, f"Print Assumptions did not finish within {timeout:.0f}s")
        if r.returncode != 0:
            return Verdict(False, f"theorem {name} not found: {_first_error(r.stdout + r.stderr)}")
        second = None
        if second_opinion:
            if not shutil.which("coqchk"):
                return Verdict(False, "coqchk not found (it comes with the coq package)")
            try:
                c = run_group(["coqchk", "-silent", "-o", "-Q", tmp, "PCheck", "PCheck.Cand"], cwd=tmp,
                              timeout=timeout)
            except subprocess.TimeoutExpired:
                return Verdict(False, f"coqchk did not finish within {timeout:.0f}s")
            second = coqchk_verdict(c.stdout + c.stderr, c.returncode)
    if second is not None and not second.accepted:
        return second
    entries = parse_assumptions(r.stdout)
    bad = [e for e in entries if e not in ALLOWED_AXIOMS and not e.startswith(ALLOWED_PREFIXES)]
    if bad:
        return Verdict(False, "relies on assumptions outside the allow-list: " + "; ".join(bad),
                       tuple(entries))
    return Verdict(True, "", tuple(entries))


def check_proof(problem, proof, timeout: float = 300.0) -> Verdict:
    """Check ``proof`` (a list of tactics) for ``problem`` in a freshly written file."""
    try:
        tactics = [check_tactic(t) for t in proof]
    except CheatError as e:
        return Verdict(False, f"refused tactic: {e}")
    if any(automation.uses_hammer(t) for t in tactics):
        return Verdict(False, f"refused tactic: {NO_HAMMER}")
    return check_text(render_proof(problem, tactics), f"{problem.name}.v", check_file,
                      theorem=problem.name, timeout=timeout, problem=problem)
