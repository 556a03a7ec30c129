"""The Lean 4 backend: the Lean REPL's protocol (``protocol``), a driver for its process
(``repl``), the replay of proof states in a fresh process (``replay``), goal parsing
(``goals``), the search environment (``env``), the tactic cheat filter (``cheat``), the
miniF2F-lean4 loader (``problems``) and the independent file checker (``check``).

Nothing here imports Lean bindings: Lean is reached only through subprocesses, so every
module imports (and the pure parts run) on machines without a Lean toolchain.
"""
