"""Policies as data: a :class:`PolicySpec` says what proposes tactics and how they are ordered,
and :func:`build_policy` is the one place that turns a spec into a policy object.

A spec has three parts:
  * ``generator``: what writes tactics of its own: ``None`` or ``"model"`` (the trained
    model, ``k`` tactics per state by beam search or sampling, ``decode``);
  * ``sources``: candidate sources offered at every state, in order (``"menu"``,
    ``"templates"``...; the registry is ``prover.policy.sources``);
  * ``scorer``: how candidates are ordered: ``"fixed"`` (source order, fixed decreasing
    scores) or ``"model"`` (the model's log-probability of each tactic for the state).

``options`` gives a source its options by name (``{"retrieval": {"corpus": ..., "db": ...,
"deny": [...]}}``). ``k`` is the one number of candidates: with a generator, how many tactics it proposes per
state (the sources' come on top); without one, a cap on the candidates per state (None:
all). ``label`` is the policy's name in the database (``menu``, ``menu+hyps``, ``model``,
``model+menu+hyps``...); it is derived from the spec and never parsed back.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

GENERATORS = (None, "model")
SCORERS = ("fixed", "model")
DECODE_KEYS = ("mode", "temperature", "top_p", "oversample", "max_new_tokens", "batch_size", "seed",
               "fixed_weight", "repair", "novel", "engine", "vllm_memory")


@dataclass(frozen=True)
class PolicySpec:
    sources: tuple[str, ...] = ("menu",)
    generator: str | None = None
    scorer: str = "fixed"
    k: int | None = None
    model: str | None = None
    decode: dict = field(default_factory=dict)
    options: dict | None = None   # per-source options, by source name
    ranker: str | None = None     # order of the candidates: None/"fixed", "random" or a ranker file (prover.policy.ranker)

    def __post_init__(self):
        from prover.policy.sources import SOURCES
        object.__setattr__(self, "sources", tuple(self.sources))
        if self.generator not in GENERATORS:
            raise ValueError(f"unknown generator {self.generator!r} (expected none or model)")
        if self.scorer not in SCORERS:
            raise ValueError(f"unknown scorer {self.scorer!r} (expected {' or '.join(SCORERS)})")
        unknown = [s for s in self.sources if s not in SOURCES]
        if unknown:
            raise ValueError(f"unknown candidate source {unknown[0]!r} (expected one of {', '.join(sorted(SOURCES))})")
        bad = sorted(set(self.decode) - set(DECODE_KEYS))
        if bad:
            raise ValueError(f"unknown decode options {', '.join(bad)} (expected {', '.join(DECODE_KEYS)})")
        from prover.policy.vllm_decoder import ENGINES
        if self.decode.get("engine", "auto") not in ENGINES:
            raise ValueError(f"unknown decoding engine {self.decode['engine']!r} (expected one of {', '.join(ENGINES)})")
        if self.generator is None and self.scorer == "fixed" and not self.sources:
            raise ValueError("a policy needs a generator or at least one candidate source")
        stray = sorted(set(self.options or {}) - set(self.sources))
        if stray:
            raise ValueError(f"options for {', '.join(stray)}, which is not among the sources")

    def with_options(self, name: str, **opts) -> "PolicySpec":
        """The same spec with ``opts`` added to source ``name``'s options (when it is a source)."""
        if name not in self.sources:
            return self
        options = dict(self.options or {})
        options[name] = {**options.get(name, {}), **opts}
        return replace(self, options=options)

    @property
    def needs_model(self) -> bool:
        return self.generator == "model" or self.scorer == "model"

    @property
    def label(self) -> str:
        from prover.policy.sources import source_class
        tags = [source_class(s).tag for s in self.sources]
        head = ["model"] if self.needs_model else []
        return "+".join(head + tags)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["sources"] = list(self.sources)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "PolicySpec":
        known = {"sources", "generator", "scorer", "k", "model", "decode", "options", "ranker"}
        bad = sorted(set(d) - known)
        if bad:
            raise ValueError(f"unknown policy keys {', '.join(bad)} (expected {', '.join(sorted(known))})")
        return cls(**d)

    @classmethod
    def named(cls, name: str, **kw) -> "PolicySpec":
        """One of the named policies of the command line (``NAMED``), with overrides."""
        if name not in NAMED:
            raise ValueError(f"unknown policy {name!r} (expected {', '.join(NAMED)})")
        return cls(**{**NAMED[name], **kw})


# The command line's named policies: --policy NAME (the model's sources come from
# --with-menu / --with-hyps, or a preset's ``"decode": {"sources": [...]}``).
NAMED: dict[str, dict] = {
    "menu": {"sources": ("menu",)},
    "menu+hyps": {"sources": ("menu", "templates")},
    "model": {"sources": (), "generator": "model", "scorer": "model", "k": 8},
}


def model_spec(model: str | None, decode: dict | None = None) -> PolicySpec:
    """The model policy of a preset's ``decode`` section: ``k``, the decode options, and
    its sources as ``"sources": [...]`` (or the shorthands ``"menu": true``,
    ``"templates": true``)."""
    d = dict(decode or {})
    sources = list(d.pop("sources", []))
    for flag, name in (("menu", "menu"), ("templates", "templates")):
        if d.pop(flag, False) and name not in sources:
            sources.append(name)
    k = d.pop("k", 8)
    generate = d.pop("generate", True)
    options = d.pop("source_options", None)
    return PolicySpec(sources=tuple(sources), generator="model" if generate else None, scorer="model",
                      k=k, model=model, decode=d, options=options)


def build_policy(spec: PolicySpec, backend, threads: int | None = None, device: str | None = None):
    """The policy object of ``spec`` for ``backend``. A model policy raises
    :class:`prover.model.ModelError` (one line) for a missing or bad model directory."""
    from prover import backends
    from prover.policy.fixed import FixedPolicy
    from prover.policy.sources import make_source
    b = backends.get(backend)
    options = getattr(spec, "options", None) or {}
    sources = [make_source(name, b, **options.get(name, {})) for name in spec.sources]
    policy = _inner_policy(spec, b, sources, threads, device) if spec.needs_model else FixedPolicy(sources, k=spec.k)
    if spec.ranker and spec.ranker != "fixed":
        from prover.policy.ranker import load_ranked
        return load_ranked(policy, spec.ranker, seed=int(spec.decode.get("seed", 0)))
    return policy


def _inner_policy(spec: PolicySpec, b, sources, threads, device):
    from prover.model import ModelError
    if not spec.model:
        raise ModelError(f"the {spec.label} policy needs a model (--model DIR, a trained model directory)")
    from prover.policy.model import load_policy
    k = spec.k if spec.generator == "model" else 0
    return load_policy(spec.model, k=8 if k is None else k, threads=threads, device=device, sources=sources,
                       backend=b.name, **spec.decode)
