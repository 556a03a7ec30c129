"""The proof database (``store``: schema, writes and the pipeline's queries) and what renders
its contents for people (``render``: search trees, proof files)."""
from prover.db.store import SCHEMA_VERSION, TABLES, DBError, ProofDB, UnknownAttempt

__all__ = ["SCHEMA_VERSION", "TABLES", "DBError", "ProofDB", "UnknownAttempt"]
