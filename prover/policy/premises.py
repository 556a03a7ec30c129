"""Candidate source ``premises`` (label tag ``prem``): library lemmas applied or rewritten by name.

Why: neither the menu's automation nor the hypothesis templates can name a library lemma
(``apply sqrt_sqrt``, ``rewrite ln_exp``, ``pose proof (Rabs_pos (x - 1))``), and a small model
rarely spells one right by generation. Premise selection (ReProver, Magnushammer) retrieves
the few relevant lemmas of the library at each goal; here each backend does it symbolically in
its ``premises`` module (``coq_env/premises.py``: the lemmas Coq lists for the problem's header,
matched against the goal's terms), and the policy's scorer orders the tactics with the rest.

Options (passed to the backend's ``candidates``): ``limit`` (tactics per node, default 64),
``header`` (the problem's header; the search sets it through ``begin(problem)`` for each problem), ``cache_dir`` (where lemma lists are cached on disk), ``extra_lemmas`` (``(name,
statement)`` pairs: the run's own proved lemmas, ranked with the library's), ``timeout``
(seconds for one header's lemma dump), ``min_score``.
"""
from __future__ import annotations

import functools

from prover.policy.backend_source import BackendSource


class PremiseSource(BackendSource):
    name, tag, module = "premises", "prem", "premises"
    limit_default = 64

    def begin(self, problem) -> None:
        """The search starts ``problem``: its header decides which library lemmas are loaded."""
        header = getattr(problem, "header", None)
        if header is not None:
            self.options["header"] = header

    def _make(self):
        make = super()._make()
        # the backend ranks by lemma, so it is told the cap (the shell only truncates)
        return None if make is None else functools.partial(make, limit=self.limit)
