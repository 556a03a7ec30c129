"""Trace the installed Coq sources into (goal state, tactic) pairs: the tactic model's corpus.

This is LeanDojo's tracing, done for Coq with the same coqtop driver the search uses:
each source file is replayed sentence by sentence in a fresh ``coqtop``; inside a proof,
before each tactic, the goals are read with ``Show.`` and ``Show k.`` (exactly as
:class:`coq_env.env.CoqEnv` builds a state) and stored as ``prover.env.goals_text``,
beside the tactic as :func:`coq_env.cheat.normalise` spells it.

Rules of the replay:
  * bullets and braces are sent to Coq but give no pair (the search works on the goal
    list without them); a pair remembers whether it was under one (``under_bullet``:
    then its goals are the focused ones only);
  * only tactics that pass :func:`coq_env.cheat.check_tactic` become pairs (the others
    are counted by reason), and only proofs that end with Qed/Defined/Save keep their
    pairs (Admitted, aborted and failed proofs are counted, their pairs dropped);
  * a failing sentence inside a proof fails that proof: it is closed with ``Admitted.``
    in the tracing session (so later proofs can still use the lemma) and the source is
    skipped to the proof's terminator; a failing statement skips its proof; a hang kills
    coqtop, which is restarted and given back the accepted sentences;
  * every file has a time budget, so one pathological file cannot stall the corpus;
  * the toplevel module is named like the file (``-top``), so its own qualified names
    resolve; stdlib Init files run with ``-noinit``, packages under user-contrib with
    ``-R`` over their directory (they name each other unqualified).

Output (``trace_corpus``): ``files/<sha>.jsonl`` + ``files/<sha>.json`` (the done marker)
per source file, so a re-run resumes; ``train.jsonl``/``heldout.jsonl`` merged from all
done files (split by file: sha1 of the relative path mod 20 == 0 is held out), and
``summary.json``.
"""
from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prover.corpus import split_of, write_corpus, write_summary
from prover.env import Goal, goals_text

from . import goals as G
from .cheat import CheatError, check_tactic
from .coqtop import CoqDied, CoqHang, CoqMissing, Coqtop
from .env import SETTINGS, coq_error
from .sentences import Sentence, SentenceError, split_sentences, strip_comments

_TERMINATOR = re.compile(r"^(Qed|Defined|Save|Admitted|Abort)\b")
_PROOF_HEAD = re.compile(r"^Proof\b")
_LOWER_HEAD = re.compile(r"^(?:\d+\s*:\s*|all\s*:\s*)?\(?\s*[a-z_]")
_STRING = re.compile(r'"(?:[^"]|"")*"')
_ELLIPSIS_END = re.compile(r"\.\.\.(?=\s)")
_BULLET_LEAD = re.compile(r"\s*(?:(?:\d+\s*:\s*)?\{(?!\|)|\}|-+(?!>)|\++|\*+)")
_GLUED_BULLET = re.compile(r"(?:-+(?![->\s])|\++(?![+\s])|\*+(?![*\s]))")
_NO_FOCUS = re.compile(r"^(No more goals|This subproof is complete)", re.M)


# -- corpus files --------------------------------------------------------------------

@dataclass(frozen=True)
class SourceFile:
    path: str                     # absolute path
    rel: str                      # stable name: root label / path inside the root
    args: tuple[str, ...] = ()    # extra coqtop arguments (-noinit, -R ...)

    @property
    def split(self) -> str:
        return split_of(self.rel)


def coq_lib_dir() -> Path:
    try:
        out = subprocess.run(["coqc", "-where"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return Path("/usr/lib/ocaml/coq")


def default_roots() -> list[tuple[str, Path]]:
    """(label, directory) of every installed Coq source tree: the stdlib, user-contrib
    packages (Coquelicot, mathcomp, Ltac2...) and example sources shipped in /usr/share/doc."""
    lib = coq_lib_dir()
    roots = [("theories", lib / "theories"), ("user-contrib", lib / "user-contrib")]
    for d in sorted(glob.glob("/usr/share/doc/libcoq-*")):
        if any(Path(d).rglob("*.v")):
            roots.append((Path(d).name, Path(d)))
    return [(label, p) for label, p in roots if p.is_dir()]


def _coqproject_args(root: Path) -> tuple[str, ...]:
    """-R/-Q lines of a _CoqProject at the root of an extra source tree."""
    proj = root / "_CoqProject"
    if not proj.is_file():
        return ()
    args: list[str] = []
    for line in proj.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("-R", "-Q"):
            args += [parts[0], str((root / parts[1]).resolve()), parts[2]]
    return tuple(args)


def _file_args(label: str, root: Path, rel_in_root: str, root_args: tuple[str, ...]) -> tuple[str, ...]:
    # the stdlib's Init files are compiled without the prelude they define
    if label == "theories" and rel_in_root.startswith("Init/"):
        return ("-noinit",) + root_args
    # a package is compiled with -R over its directory: its files name each other unqualified
    if label == "user-contrib" and "/" in rel_in_root:
        pkg = rel_in_root.split("/", 1)[0]
        return ("-R", str(root / pkg), pkg) + root_args
    return root_args


def _top_args(path: Path) -> tuple[str, ...]:
    """Name the toplevel module like the file, so that the file's own qualified names
    (``QArith_base.Qnum`` in QArith_base.v) resolve as they do when it is compiled."""
    return ("-top", path.stem) if re.fullmatch(r"[A-Za-z_][\w']*", path.stem) else ()


def discover(roots: list[tuple[str, Path]] | None = None, extra_roots: list[str] | None = None) -> list[SourceFile]:
    """All .v files under the roots, sorted by relative name."""
    roots = list(default_roots() if roots is None else roots)
    for r in extra_roots or []:
        p = Path(r).resolve()
        roots.append((p.name, p))
    seen, out = set(), []
    for label, root in roots:
        root = Path(root)
        args = _coqproject_args(root) if label not in ("theories", "user-contrib") else ()
        for p in sorted(root.rglob("*.v")):
            real = p.resolve()
            if real in seen or not p.is_file():
                continue
            seen.add(real)
            inner = p.relative_to(root).as_posix()
            out.append(SourceFile(str(real), f"{label}/{inner}",
                                  _file_args(label, root, inner, args) + _top_args(p)))
    return sorted(out, key=lambda f: f.rel)


def select(files: list[SourceFile], patterns: list[str] | None) -> list[SourceFile]:
    """Files matching any pattern: an existing file (traced as given, named by its file
    name unless it lies under a root), a directory (its .v files) or a glob on ``rel``."""
    if not patterns:
        return files
    by_path = {f.path: f for f in files}
    chosen: dict[str, SourceFile] = {}
    for pat in patterns:
        p = Path(pat)
        if p.is_file():
            real = str(p.resolve())
            f = by_path.get(real) or SourceFile(real, p.name, _top_args(p))
            chosen[f.rel] = f
        elif p.is_dir():
            for q in sorted(p.rglob("*.v")):
                real = str(q.resolve())
                f = by_path.get(real) or SourceFile(real, f"{p.resolve().name}/{q.relative_to(p).as_posix()}",
                                                    _top_args(q))
                chosen[f.rel] = f
        else:
            for f in files:
                if fnmatch.fnmatch(f.rel, pat):
                    chosen[f.rel] = f
    return sorted(chosen.values(), key=lambda f: f.rel)


# -- one file ------------------------------------------------------------------------

@dataclass
class TraceConfig:
    timeout: float = 20.0          # seconds per sentence (tactics run under Coq's Timeout)
    command_timeout: float = 60.0  # seconds per top-level command (Require, Definition...)
    file_budget: float = 300.0     # seconds per file, replays included
    mem_limit_mb: int = 4096
    max_top_failures: int = 25     # failing top-level commands before the file is given up
    grace: float = 10.0            # wall-clock slack over Coq's own Timeout


@dataclass
class FileStats:
    file: str
    split: str
    status: str = "traced"                 # traced | partial | skipped
    reason: str = ""
    sentences: int = 0
    proofs_replayed: int = 0
    proofs_failed: int = 0
    proofs_admitted: int = 0
    proofs_aborted: int = 0
    pairs: int = 0
    coqtop_starts: int = 0
    seconds: float = 0.0
    rejected: dict = field(default_factory=dict)    # tactic refused by the cheat filter, by reason
    dropped: dict = field(default_factory=dict)     # pairs of proofs that did not end in Qed/Defined
    failures: dict = field(default_factory=dict)    # failing sentences, by reason


def failure_reason(err: str) -> str:
    """A short, low-cardinality form of a Coq error message (names and terms removed)."""
    e = " ".join(err.split())
    e = re.sub(r"^\(in proof [^)]*\):\s*", "", e)
    e = re.sub(r'"[^"]*"', '"_"', e)
    e = re.sub(r"\b(The (?:reference|variable|constant|term|relation)|[Rr]eference|[Vv]ariable|Cannot find (?:a )?\w*) \S+",
               r"\1 _", e)
    if e.startswith("In environment"):
        m = re.search(r"\b(The term|The type|Unable to|Cannot|Illegal|Impossible|Found)\b", e)
        e = "In environment, " + (e[m.start():] if m else "")
    e = re.sub(r"\b(The term|The type|has type|to have type|Unable to unify) \S.*", r"\1 _", e)
    e = re.split(r"(?<=[.:])\s", e, maxsplit=1)[0]
    return e[:90]


@dataclass
class _Proof:
    """The proof being replayed: its name, the next step, its pairs so far, and per brace
    level whether a bullet has been used there (then the goals shown are focused ones)."""
    theorem: str = ""
    step: int = 0
    pending: list = field(default_factory=list)
    bullets: list = field(default_factory=lambda: [False])

    def focus(self, token: str) -> None:
        if token == "}":
            if len(self.bullets) > 1:
                self.bullets.pop()
        elif token.endswith("{"):
            self.bullets.append(False)
        else:
            self.bullets[-1] = True

    @property
    def under_bullet(self) -> bool:
        return any(self.bullets) or len(self.bullets) > 1


def _sendable(text: str) -> str:
    """A sentence as sent to coqtop: comments removed (they may hold periods and newlines)."""
    try:
        return strip_comments(text)
    except SentenceError:
        return text


def _opens_proof_body(text: str) -> bool:
    return bool(_PROOF_HEAD.match(text) or _LOWER_HEAD.match(text) or _structural(text))


class _Abandon(Exception):
    """The rest of the file cannot be replayed."""


class FileTracer:
    """Replays one source file in its own coqtop and collects the pairs."""

    def __init__(self, src: SourceFile, cfg: TraceConfig):
        self.src, self.cfg = src, cfg
        self.stats = FileStats(src.rel, src.split)
        self.coq: Coqtop | None = None
        self.log: list[str] = []          # accepted sentences, to rebuild coqtop after a kill
        self.pairs: list[dict] = []
        self.t0 = 0.0

    # -- coqtop -------------------------------------------------------------------
    def _left(self) -> float:
        return self.cfg.file_budget - (time.monotonic() - self.t0)

    def _start(self) -> None:
        self.coq = Coqtop(mem_limit_mb=self.cfg.mem_limit_mb, args=self.src.args)
        self.stats.coqtop_starts += 1
        for s in SETTINGS:
            self.coq.send(s)

    def _restart(self) -> None:
        if self.coq is not None:
            self.coq.kill()
        try:
            self._start()
            for s in self.log:
                out, _, _ = self.coq.send(s, timeout=max(self._left(), 1.0))
                if coq_error(out):
                    raise _Abandon(f"restart: replay failed: {failure_reason(coq_error(out))}")
        except (CoqDied, CoqHang) as e:
            raise _Abandon(f"restart: replay failed: {e}") from None

    def _send(self, text: str, timeout: float) -> tuple[str | None, str]:
        """Send; return (error or None, output). A hang or crash restarts coqtop."""
        timeout = min(timeout, max(self._left(), 1.0))
        try:
            out, _, _ = self.coq.send(text, timeout=timeout)
        except CoqHang:
            self._restart()
            return f"no answer within {timeout:.0f}s (coqtop restarted)", ""
        except CoqDied as e:
            self._restart()
            return f"coqtop died: {str(e)[:60]} (restarted)", ""
        err = coq_error(out)
        if err is None:
            self.log.append(text)
        return err, out

    # -- goals --------------------------------------------------------------------
    def goals(self) -> list[Goal] | None:
        """The focused goals as the search would read them; None when there are none."""
        out, _, _ = self.coq.send("Show.", timeout=self.cfg.timeout)
        if coq_error(out) or _NO_FOCUS.search(out):
            return None
        count = G.shown_goal_count(out)
        if not count:
            return None
        goals = [G.parse_goal(G.first_goal_block(out))]
        if count > 1:
            for a, _, _ in self.coq.send_many([f"Show {k}." for k in range(2, count + 1)],
                                              timeout=self.cfg.timeout):
                goals.append(G.parse_goal(a))
        return goals

    def _goals_or_reason(self) -> list[Goal] | None:
        try:
            goals = self.goals()
        except ValueError:
            self._count(self.stats.rejected, "unparsable goal display")
            return None
        except (CoqHang, CoqDied):
            self._count(self.stats.rejected, "Show failed")
            self._restart()
            return None
        if not goals:
            self._count(self.stats.rejected, "no focused goal")
        return goals

    # -- the replay ---------------------------------------------------------------
    def run(self) -> tuple[list[dict], FileStats]:
        self.t0 = time.monotonic()
        try:
            text = Path(self.src.path).read_text(encoding="utf-8", errors="replace")
            sentences = [p for s in split_sentences(text, bullets=True) for p in resplit(s)]
        except (OSError, SentenceError) as e:
            return self._skip(f"cannot split into sentences: {e}")
        try:
            self._start()
        except (CoqDied, CoqHang, CoqMissing) as e:
            return self._skip(f"coqtop does not start: {e}")
        try:
            self._replay(sentences)
        except _Abandon as e:
            self.stats.status, self.stats.reason = "partial", str(e)
        except (CoqDied, CoqHang) as e:
            self.stats.status, self.stats.reason = "partial", f"coqtop lost: {e}"
        finally:
            if self.coq is not None:
                self.coq.close()
            self.stats.seconds = round(time.monotonic() - self.t0, 2)
        self.stats.pairs = len(self.pairs)
        return self.pairs, self.stats

    def _skip(self, reason: str) -> tuple[list[dict], FileStats]:
        self.stats.status, self.stats.reason = "skipped", reason
        self.stats.seconds = round(time.monotonic() - self.t0, 2)
        return [], self.stats

    def _count(self, table: dict, key: str, n: int = 1) -> None:
        table[key] = table.get(key, 0) + n

    def _replay(self, sentences: list[Sentence]) -> None:
        st, cfg = self.stats, self.cfg
        proof = _Proof()
        skip_to_end = False     # skipping the rest of a failed proof in the source
        top_failures = 0
        for i, s in enumerate(sentences):
            if self._left() <= 0:
                raise _Abandon(f"file budget of {cfg.file_budget:.0f}s exceeded")
            if skip_to_end:
                skip_to_end = not _TERMINATOR.match(s.text)
                continue
            st.sentences += 1
            in_proof = self.coq.proof not in ("", "Coq")
            sent, pair = self._prepare(s, proof) if in_proof else (_sendable(s.text), None)
            timeout = cfg.timeout + cfg.grace if in_proof else max(cfg.timeout, cfg.command_timeout)
            err, _ = self._send(sent, timeout)
            if err is not None:
                reason = failure_reason(err)
                self._count(st.failures, reason)
                if in_proof:
                    st.proofs_failed += 1
                    self._count(st.dropped, "proof failed", len(proof.pending))
                    if self.coq.proof not in ("", "Coq"):
                        self._close_failed()
                    skip_to_end = not _TERMINATOR.match(s.text)
                    proof = _Proof()
                    continue
                top_failures += 1
                if top_failures > cfg.max_top_failures:
                    raise _Abandon(f"more than {cfg.max_top_failures} failing commands (last: {reason})")
                if i + 1 < len(sentences) and _opens_proof_body(sentences[i + 1].text):
                    st.proofs_failed += 1   # the statement failed: skip its proof
                    skip_to_end = True
                continue
            if pair is not None:
                proof.pending.append(pair)
            now = self.coq.proof
            if now not in ("", "Coq") and now != proof.theorem:
                proof = _Proof(theorem=now)
            elif in_proof and now in ("", "Coq"):
                self._end_proof(s.text, proof)
                proof = _Proof()

    def _prepare(self, s: Sentence, proof: "_Proof") -> tuple[str, dict | None]:
        """In a proof: the text to send for ``s`` and its pair (None for no pair);
        bullets and braces update the focus, tactics get Coq's Timeout."""
        head, sent = s.text, _sendable(s.text)
        timed = f"Timeout {max(1, math.ceil(self.cfg.timeout))} {sent}"
        if s.is_structural:
            proof.focus(head)
            return sent, None
        if _TERMINATOR.match(head):
            return (timed if head.startswith(("Qed", "Defined")) else sent), None
        if _PROOF_HEAD.match(head):
            return sent, None
        step = proof.step
        proof.step += 1
        try:
            if sent.rstrip().endswith("..."):
                raise CheatError("`tac...` runs the `Proof with` tactic: not a tactic alone")
            tactic = check_tactic(head)
        except CheatError as e:
            self._count(self.stats.rejected, str(e).split(":", 1)[0] if str(e).startswith("malformed") else str(e))
            return sent, None
        goals = self._goals_or_reason()
        if not goals:
            return timed, None
        return timed, {"goals": goals_text(goals), "tactic": tactic, "file": self.src.rel,
                       "theorem": proof.theorem, "step": step, "under_bullet": proof.under_bullet,
                       "split": self.src.split}

    def _end_proof(self, head: str, proof: "_Proof") -> None:
        """The proof closed: keep its pairs if it was proved, else count them as dropped."""
        word = _TERMINATOR.match(head)
        kind = word.group(1) if word else ""
        if kind == "Admitted":
            self.stats.proofs_admitted += 1
            self._count(self.stats.dropped, "proof admitted", len(proof.pending))
        elif kind == "Abort":
            self.stats.proofs_aborted += 1
            self._count(self.stats.dropped, "proof aborted", len(proof.pending))
        else:
            self.stats.proofs_replayed += 1
            self.pairs.extend(proof.pending)

    def _close_failed(self) -> None:
        """Leave a failed proof so that the lemma still exists for the rest of the file."""
        for cmd in ("Admitted.", "Abort."):
            err, _ = self._send(cmd, self.cfg.timeout + self.cfg.grace)
            if err is None and self.coq.proof in ("", "Coq"):
                return
        raise _Abandon("cannot leave a failed proof")


def resplit(s: Sentence) -> list[Sentence]:
    """Where ``split_sentences`` and Coq disagree, split as Coq does. Coq ends a sentence
    at ``...`` + blank too (a tactic run with the ``Proof with`` tactic), and reads a
    bullet glued to its tactic (``+apply H.``) as a bullet; sending either as one
    sentence would make coqtop answer twice. Comments are removed from split sentences."""
    try:
        text = strip_comments(s.text)
    except SentenceError:
        return [s]
    masked = _STRING.sub(lambda m: "x" * len(m.group()), text)
    cuts = [m.end() for m in _ELLIPSIS_END.finditer(masked)]
    cuts = [c for c in cuts if text[c:].strip()]
    if not cuts and not _GLUED_BULLET.match(text):
        return [s]
    out, start = [], 0
    for cut in cuts + [len(text)]:
        part = text[start:cut]
        start = cut
        while True:
            m = _BULLET_LEAD.match(part)
            if not m or not part[:m.end()].strip():
                break
            out.append(Sentence(part[:m.end()].strip(), s.start, s.end))
            part = part[m.end():]
        if part.strip():
            out.append(Sentence(part.strip(), s.start, s.end))
    return out


def _structural(text: str) -> bool:
    return Sentence(text, 0, 0).is_structural


def trace_file(path: str | Path, rel: str | None = None, args: tuple[str, ...] = (),
               **config) -> tuple[list[dict], FileStats]:
    """Trace one file; ``rel`` names it in the records (default: its file name);
    ``config`` sets :class:`TraceConfig` fields (timeout, file_budget...)."""
    p = Path(path).resolve()
    src = SourceFile(str(p), rel or p.name, tuple(args) or _top_args(p))
    return FileTracer(src, TraceConfig(**config)).run()


# -- the corpus ----------------------------------------------------------------------

def _marker(out: Path, rel: str) -> Path:
    """The done marker (stats) of a file; its pairs sit beside it as ``.jsonl``."""
    return out / "files" / f"{hashlib.sha1(rel.encode()).hexdigest()[:16]}.json"


def _trace_job(cfg_and_out: tuple[TraceConfig, str], src: SourceFile) -> dict:
    """Worker job: trace one file, write its pairs and then its done marker."""
    cfg, out = cfg_and_out[0], Path(cfg_and_out[1])
    pairs, stats = FileTracer(src, cfg).run()
    marker = _marker(out, src.rel)
    data = marker.with_suffix(".jsonl")
    tmp = data.with_suffix(".jsonl.tmp")
    with open(tmp, "w") as f:
        for p in pairs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    os.replace(tmp, data)
    record = asdict(stats)
    tmp = marker.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1))
    os.replace(tmp, marker)
    return record


def _worker_init(cfg: TraceConfig, out: str):
    return (cfg, out)


def _merge(out: Path) -> dict:
    """Concatenate the pairs of every done file into train/heldout JSONL; total the stats."""
    markers = sorted((out / "files").glob("*.json"))
    records = []
    for m in markers:
        try:
            records.append(json.loads(m.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    records.sort(key=lambda r: r["file"])

    def pairs():
        for r in records:
            data = _marker(out, r["file"]).with_suffix(".jsonl")
            if not data.is_file():
                continue
            with open(data, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield {**json.loads(line), "split": r["split"]}

    counts = write_corpus(pairs(), out)

    def total(key):
        return sum(r[key] for r in records)

    def table(key, top=None):
        c = Counter()
        for r in records:
            c.update(r[key])
        return dict(c.most_common(top))

    status = Counter(r["status"] for r in records)
    return {
        "backend": "coq",
        "files": {
            "done": len(records), "traced": status["traced"], "partial": status["partial"],
            "skipped": status["skipped"],
            "skip_reasons": dict(Counter(failure_reason(r["reason"]) for r in records
                                         if r["status"] != "traced").most_common()),
            "not_traced": {r["file"]: r["reason"] for r in records if r["status"] != "traced"},
            "heldout_files": sum(r["split"] == "heldout" for r in records),
        },
        "proofs": {
            "replayed": total("proofs_replayed"), "failed": total("proofs_failed"),
            "admitted": total("proofs_admitted"), "aborted": total("proofs_aborted"),
            "failure_reasons": table("failures", 40),
        },
        "pairs": {"train": counts["train"], "heldout": counts["heldout"],
                  "rejected_tactics": table("rejected", 40), "dropped": table("dropped")},
        "sentences": total("sentences"),
        "coqtop_starts": total("coqtop_starts"),
        "seconds": {"coq_total": round(total("seconds"), 1),
                    "slowest_files": {r["file"]: r["seconds"] for r in
                                      sorted(records, key=lambda r: -r["seconds"])[:10]}},
    }


def trace_corpus(out_dir: str | Path, files: list[str] | str | None = None, workers: int = 2,
                 timeout: float = 20.0, limit_files: int | None = None, progress: bool = True,
                 roots: list[str] | None = None, file_budget: float = 300.0,
                 engine: str = "local") -> dict:
    """Trace the installed Coq sources (or ``files``: paths, directories or globs on the
    relative names) into ``out_dir``; files already done there are skipped. Returns the
    summary written to ``summary.json``."""
    t0 = time.time()
    out = Path(out_dir)
    (out / "files").mkdir(parents=True, exist_ok=True)
    if isinstance(files, str):
        files = [files]
    chosen = select(discover(extra_roots=roots), files)
    if limit_files is not None:
        chosen = chosen[:limit_files]
    todo = [f for f in chosen if not _marker(out, f.rel).is_file()]
    # biggest first: the slowest files should not start last
    todo.sort(key=lambda f: -os.path.getsize(f.path))
    cfg = TraceConfig(timeout=timeout, file_budget=file_budget)
    errors: dict[str, str] = {}
    pairs_now = 0
    bar = None
    if progress and todo:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc="trace", unit="file", file=sys.stderr)
    from prover.engines import make_pool
    pool = make_pool(engine, min(workers, max(1, len(todo))), _worker_init, (cfg, str(out)))
    for src, res in pool.imap(_trace_job, todo):
        if "error" in res:
            errors[src.rel] = res["error"]
        else:
            pairs_now += res["pairs"]
        if bar is not None:
            bar.update(1)
            bar.set_postfix(pairs=pairs_now, refresh=False)
    if bar is not None:
        bar.close()
    summary = _merge(out)
    summary["this_run"] = {
        "selected": len(chosen), "traced": len(todo) - len(errors), "resumed": len(chosen) - len(todo),
        "worker_errors": errors, "pairs": pairs_now, "workers": workers, "timeout": timeout,
        "file_budget": file_budget, "wall_seconds": round(time.time() - t0, 1),
    }
    write_summary(out, summary)
    return summary
