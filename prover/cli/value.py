"""``prover value``: train the frontier's value (``prover.search.value``) on the search trees
of a proof database, for ``--node-scorer value --value-model FILE``."""
from __future__ import annotations

from prover.cli.common import die


def cmd_value(args) -> int:
    from prover import backends
    from prover.db import DBError, ProofDB
    from prover.search.value import labelled_nodes, train_value
    try:
        with ProofDB(args.db, create=False) as db:
            deny = db.split_keys(args.deny_split)
            texts, labels = labelled_nodes(db, deny, open_unsolved=args.open_unsolved)
    except DBError as e:
        return die(str(e))
    try:
        model = train_value(texts, labels, backends.get(args.backend).goal_style, steps=args.steps)
    except ValueError as e:
        return die(f"{args.db}: {e}")
    model.save(args.out)
    print(f"value trained on {model.meta['examples']} states ({model.meta['proved']} proved), train accuracy "
          f"{model.meta['train_accuracy']:.3f} -> {args.out}")
    return 0


def register(sub) -> None:
    from prover import backends
    p = sub.add_parser("value", help="train the frontier's value on a proof database's search trees")
    p.add_argument("--db", required=True, help="proof database whose trees label states (proved / failed)")
    p.add_argument("--out", required=True, help="value model file (.npz)")
    p.add_argument("--deny-split", default="test", help="never read trees of this split (default: test)")
    p.add_argument("--backend", default=backends.DEFAULT, choices=backends.names())
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--open-unsolved", action="store_true",
                   help="also label as failed the open nodes of trees that found no proof")
    p.set_defaults(func=cmd_value)
