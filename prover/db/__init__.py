"""The proof database (``store``: schema, writes and the pipeline's queries) and what renders
its contents for people (``render``: search trees, proof files)."""
from prover.db.store import SCHEMA_VERSION, TABLES, DBError, ProofDB, UnknownAttempt
from prover.labels import EVAL_LABELS, is_eval_label

__all__ = ["EVAL_LABELS", "is_eval_label", "SCHEMA_VERSION", "TABLES", "DBError", "ProofDB", "UnknownAttempt"]
