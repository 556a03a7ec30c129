"""A proof the search finds but the independent checker rejects (issue #16.6): the attempt ends
with ``accepted = 0``, and the proof stays out of every training set, the retrieval index and
the proof counts. The checker here is a test double (this tests the pipeline's handling of a
rejection; the rejections themselves are tested against real coqc in test_coq_cheats.py)."""
from __future__ import annotations

from coq_env.problems import parse_file
from prover.check import Verdict
from prover.db import ProofDB
from prover.loop.training import build_training_set
from prover.policy import PolicySpec
from prover.search import SearchConfig
from prover.search import runner
from tests.conftest import write



def test_rejected_proof_is_recorded_but_never_counted_or_trained(coq_available, tmp_path, monkeypatch):
    from prover import backends
    from prover.policy.retrieval import RetrievalSource
    from prover.selfplay import hindsight
    p = parse_file(write(tmp_path / "p" / "addz.v", """
        Theorem addz (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """))
    monkeypatch.setattr(runner, "check_proof", lambda problem, proof: Verdict(False, "rejected by the test's checker"))
    db = ProofDB(tmp_path / "proofs.db")
    s = runner.run_search([p], db, backend="coq", spec=PolicySpec(sources=("menu",)),
                          cfg=SearchConfig(max_expansions=2, tactic_timeout=5), workers=1, progress=False)
    attempt = db.query("select * from attempts")[0]
    assert attempt["outcome"] == "proved"          # the search's own view ...
    rows = db.proofs(p.key, accepted_only=False)
    assert len(rows) == 1 and rows[0]["accepted"] == 0 and "rejected by the test's checker" in rows[0]["verdict"]
    assert s.proved == 0 and db.accepted_problems() == set()      # ... never counts
    assert db.best_proofs() == {} and db.training_proofs() == []
    assert build_training_set(db, {p.key}, set(), per_problem=3) == []
    assert hindsight.pairs(db, set()) == []
    src = RetrievalSource(backends.get("coq"), db=str(db.path))
    src.refresh()
    assert len(src.index) == 0                      # not retrievable either
    db.close()
