"""A learned value for the frontier: how likely a proof state is to be proved, from the search
trees of the training pool (HTPS's critic, InternLM-StepProver's value), small enough to
train and run on 2 CPU cores.

Labels come from the trees in the proof database: a PROVED node is 1, a FAILED node is 0
(every way out of it died); OPEN nodes are not labelled (their fate is unknown). Trees of
the evaluation split are never read (``deny``, and attempts under evaluation labels).

Model: logistic regression over hashed features of the state text (words of the first goal
with local names masked, word pairs, the number of goals and of hypotheses), trained with
full-batch gradient descent in numpy, class-balanced. It is saved as one ``.npz`` file; the
node scorer ``value`` (``prover.search.scorers``) loads it once per worker and gives each new
node ``log p(proved)``, so ``value_weight`` 1 adds a log-probability to a log-probability.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from prover.db import queries
from prover.env import State, parse_goals_text
from prover.labels import is_eval_label
from prover.policy.retrieval import _TOKEN, PLACEHOLDER, tokens

DIM = 1 << 15


def features(goals_text: str, style: str = "coq") -> dict[int, float]:
    """Hashed feature counts of one state (its goals text)."""
    try:
        goals = parse_goals_text(goals_text, style)
    except ValueError:
        goals = ()
    feats: dict[int, float] = {}

    def add(name: str, v: float = 1.0) -> None:
        h = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little") % DIM
        feats[h] = feats.get(h, 0.0) + v

    add("bias")
    add("goals", float(len(goals)))
    if goals:
        g = goals[0]
        add("hyps", float(len(g.hyps)) / 4)
        words = tokens(g)
        for w in words:
            add("w:" + w)
        for a, b in zip(words, words[1:]):
            add(f"p:{a} {b}")
        local = {n for h in g.hyps for n in h.names}
        for w in _TOKEN.findall(g.conclusion):  # the conclusion's words, apart
            add("c:" + (PLACEHOLDER if w in local else w))
    return feats


def _matrix(rows: list[dict[int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO pieces (row index, column, value) of a batch of feature dicts, each row scaled to
    unit length (long states do not get larger logits for being long)."""
    r, c, v = [], [], []
    for i, f in enumerate(rows):
        norm = sum(x * x for x in f.values()) ** 0.5 or 1.0
        for k, x in f.items():
            r.append(i)
            c.append(k)
            v.append(x / norm)
    return np.array(r, dtype=np.int64), np.array(c, dtype=np.int64), np.array(v, dtype=np.float64)


class ValueModel:
    def __init__(self, w: np.ndarray | None = None, style: str = "coq", meta: dict | None = None):
        self.w = np.zeros(DIM) if w is None else w
        self.style, self.meta = style, meta or {}

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        r, c, v = _matrix([features(t, self.style) for t in texts])
        out = np.zeros(len(texts))
        np.add.at(out, r, v * self.w[c])
        return out

    def log_proved(self, texts: Sequence[str]) -> list[float]:
        """log p(proved) of each state text."""
        z = self.logits(texts)
        return list(-np.logaddexp(0.0, -z))

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, w=self.w.astype(np.float32), style=self.style, meta=json.dumps(self.meta))
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "ValueModel":
        try:
            with np.load(path) as z:
                return cls(z["w"].astype(np.float64), str(z["style"]), json.loads(str(z["meta"])))
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"{path}: not a value model ({e})") from None


def labelled_nodes(db, deny: set[str], open_unsolved: bool = False) -> tuple[list[str], list[int]]:
    """(state text, 1 proved / 0 failed) of every labelled node of every tree in ``db`` that
    is not of a denied problem nor under an evaluation label; each distinct state once (its
    label: proved if it was ever proved).

    ``open_unsolved``: also label 0 the OPEN nodes of trees that found no proof (the search
    reached them and the budget ran out first). Noisy (some were provable), but it is where
    most of a run's states are: a failed node needs every way out of it to die."""
    label: dict[str, int] = {}
    for a in db.attempts_of():
        if a["problem"] in deny or is_eval_label(a["policy"]):
            continue
        for n in queries.node_labels(db, a["id"], open_too=open_unsolved and a["outcome"] != "proved"):
            y = 1 if n["status"] == "proved" else 0
            label[n["goals"]] = max(label.get(n["goals"], 0), y)
    texts = sorted(label)
    return texts, [label[t] for t in texts]


def train_value(texts: Sequence[str], labels: Sequence[int], style: str = "coq", steps: int = 300,
                lr: float = 2.0, l2: float = 1e-3) -> ValueModel:
    """Class-balanced logistic regression by full-batch gradient descent."""
    y = np.asarray(labels, dtype=np.float64)
    if len(y) == 0 or y.min() == y.max():
        raise ValueError("a value needs both proved and failed nodes to learn from")
    r, c, v = _matrix([features(t, style) for t in texts])
    pos = y.mean()
    weight = np.where(y > 0, 0.5 / pos, 0.5 / (1 - pos)) / len(y)
    w = np.zeros(DIM)
    for _ in range(steps):
        z = np.zeros(len(y))
        np.add.at(z, r, v * w[c])
        p = np.exp(-np.logaddexp(0.0, -z))  # the logistic function, without overflow
        g_rows = (p - y) * weight
        grad = np.zeros(DIM)
        np.add.at(grad, c, v * g_rows[r])
        w -= lr * (grad + l2 * w)
    z = np.zeros(len(y))
    np.add.at(z, r, v * w[c])
    acc = float(((z > 0) == (y > 0)).mean())
    return ValueModel(w, style, {"examples": len(y), "proved": int(y.sum()), "train_accuracy": round(acc, 4)})


class LearnedValue:
    """Node scorer ``value``: ``log p(proved)`` from a :class:`ValueModel` file."""

    name = "value"

    def __init__(self, path: str | None = None):
        if not path:
            raise ValueError("the value scorer needs node_scorer_path: a value model file (prover value train)")
        self.model = ValueModel.load(path)

    def values(self, states: Sequence[State]) -> list[float]:
        return self.model.log_proved([s.text() for s in states])
