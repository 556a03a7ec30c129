"""``prover rank``: train the learned ranker (``prover.policy.ranker``) on every edge of a proof
database's training trees, for ``--ranker FILE`` with ``--tries N``."""
from __future__ import annotations

from prover.cli.common import die


def cmd_rank(args) -> int:
    import time
    from pathlib import Path

    from prover import backends
    from prover.db import DBError, ProofDB
    from prover.policy.ranker import examples, train
    t0 = time.time()
    try:
        with ProofDB(args.db, create=False) as db:
            deny = db.split_keys(args.deny_split) if args.deny_split else set()
            if args.deny_names:
                names = set(Path(args.deny_names).read_text().split())
                deny |= {k for k in db.problem_keys() if k.rsplit("/", 1)[-1] in names}
            groups = examples(db, deny, backends.get(args.backend).goal_style)
    except (DBError, OSError) as e:
        return die(str(e))
    try:
        ranker = train(groups, rounds=args.rounds)
    except ValueError as e:
        return die(f"{args.db}: {e}")
    ranker.meta["train_seconds"] = round(time.time() - t0, 1)
    ranker.save(args.out)
    m = ranker.meta
    held = m.get("heldout", {})
    fixed = m.get("heldout_fixed", {})
    print(f"ranker trained on {m['examples']} tried candidates at {m['groups']} nodes in {m['train_seconds']} s "
          f"-> {args.out}")
    if held:
        print("held-out recall of a proof-path candidate (ranker / sources' order): " + ", ".join(
            f"{k} {held[k]:.3f}/{fixed.get(k, 0):.3f}" for k in held if k.startswith("recall")) +
            f" over {held['nodes']} nodes")
    return 0


def register(sub) -> None:
    from prover import backends
    p = sub.add_parser("rank", help="train the candidate ranker on a proof database's search trees")
    p.add_argument("action", choices=["train"])
    p.add_argument("--db", required=True, help="proof database whose tried candidates are the examples")
    p.add_argument("--out", required=True, help="ranker file (.json)")
    p.add_argument("--deny-split", default="test", help="never read trees of this split (default: test; '' none)")
    p.add_argument("--deny-names", default=None, metavar="FILE",
                   help="also never read trees of the problems named in FILE (one name per line): held-out problems")
    p.add_argument("--backend", default=backends.DEFAULT, choices=backends.names())
    p.add_argument("--rounds", type=int, default=200, help="boosting rounds")
    p.set_defaults(func=cmd_rank)
