"""A long-lived ``coqtop -emacs`` process: send one sentence, read until the next prompt.

Why coqtop and not coqidetop: coqtop in emacs mode answers each sentence with its output
followed by ``<prompt>NAME < N |...| D < </prompt>``, where N is Coq's state number, and
``BackTo N.`` returns to any earlier state in well under a millisecond. That is all the
environment needs (``make bench`` measures it), with a much smaller protocol surface than
the XML one. stdout and stderr are read as one stream, in order.

The process runs under an address-space limit; a hang past the caller's deadline kills
it (:class:`CoqHang`), a dead process raises :class:`CoqDied`. Restarting is the
caller's job (``coq_env.env`` rebuilds the state). Once coqtop has answered, any helper
process still running under it (micromega's ``csdpcert`` after a ``Timeout``) is killed: it
works for a tactic that was given up, and would otherwise take a core from the next ones.
"""
from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import tempfile
import time

from prover.process import kill_group, kill_helpers, popen, rss_mb

_PROMPT = re.compile(rb"<prompt>(\S*) < (\d+) \|([^|]*)\| (\d+) < </prompt>")
_TAGS = re.compile(r"</?(?:infomsg|warning|prompt)>")


class CoqDied(RuntimeError):
    pass


class CoqHang(RuntimeError):
    pass


class CoqMissing(RuntimeError):
    pass


def find_coqtop() -> str:
    exe = os.environ.get("PROVER_COQTOP") or shutil.which("coqtop")
    if not exe:
        raise CoqMissing("coqtop not found: install Coq (apt-get install coq libcoq-coquelicot) or run `make setup`")
    return exe


class Coqtop:
    """One coqtop process. ``send`` returns ``(output, state_number, proof_name)``."""

    def __init__(self, mem_limit_mb: int = 4096, args: tuple[str, ...] = ()):
        self.exe = find_coqtop()
        self.mem_limit_mb = mem_limit_mb
        # micromega (lia, nra...) writes cache files into the working directory: keep them out of the way
        self._cwd = tempfile.TemporaryDirectory(prefix="prover-coqtop-")
        self.proc = popen([self.exe, "-emacs", "-quiet", *args], mem_limit_mb=mem_limit_mb, cwd=self._cwd.name,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        self._buf = b""
        self.state = 0
        self.proof = ""
        self.sent = 0
        self.helpers_killed = 0   # helper processes left running by an interrupted tactic
        self._read_prompt(timeout=60.0)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def send(self, sentence: str, timeout: float = 60.0) -> tuple[str, int, str]:
        """Send one sentence (must be a single line) and wait for Coq's next prompt."""
        if "\n" in sentence:
            sentence = " ".join(sentence.split("\n"))
        try:
            self.proc.stdin.write(sentence.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise CoqDied(f"coqtop is gone: {e}") from None
        self.sent += 1
        answer = self._read_prompt(timeout)
        self.helpers_killed += kill_helpers(self.proc.pid)
        return answer

    def send_many(self, sentences: list[str], timeout: float = 60.0) -> list[tuple[str, int, str]]:
        """Pipeline several sentences in one write; one answer each."""
        data = b"".join(" ".join(s.split("\n")).encode() + b"\n" for s in sentences)
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise CoqDied(f"coqtop is gone: {e}") from None
        answers = [self._read_prompt(timeout) for _ in sentences]
        self.helpers_killed += kill_helpers(self.proc.pid)
        return answers

    def _read_prompt(self, timeout: float) -> tuple[str, int, str]:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            m = _PROMPT.search(self._buf)
            if m:
                out = self._buf[:m.start()].decode(errors="replace")
                self._buf = self._buf[m.end():]
                self.state = int(m.group(2))
                self.proof = m.group(1).decode()
                return _TAGS.sub("", out), self.state, self.proof
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise CoqHang(f"coqtop gave no answer within {timeout:.1f}s")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    code = self.proc.wait()
                    tail = self._buf.decode(errors="replace")[-300:]
                    raise CoqDied(f"coqtop exited with code {code}: {tail.strip()}")
                self._buf += chunk

    def kill(self) -> None:
        kill_group(self.proc)
        self._cwd.cleanup()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
            except Exception:
                pass
        self.kill()
