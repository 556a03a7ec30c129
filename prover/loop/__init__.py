"""The expert-iteration loop: ``iterate`` (rounds of search, checking, retraining and
evaluation, the orchestration), with one module per concern beside it: ``config`` (the
preset), ``training`` (a round's training set, behind the firewall), ``learners`` (ranker and
value), ``selfplay_steps``, ``selection`` (where each round spends its search budget),
``report`` (rounds.csv, progress.png) and ``compare`` (runs side by side)."""
