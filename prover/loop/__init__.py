"""The expert-iteration loop: ``iterate`` (rounds of search, checking, retraining and
evaluation) and ``selection`` (where each round spends its search budget)."""
