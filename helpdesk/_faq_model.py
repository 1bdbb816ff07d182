"""A multiclass averaged perceptron over the FAQ matcher's terms (R40): learnt at index build
time from the KB phrasings and the labelled examples, it re-ranks the best BM25 entries where
neighbouring entries share most of their words (window dates vs paying after the window)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Passes over the training set; examples are shuffled with a fixed seed (reproducible).
EPOCHS = 8
SEED = 40


def _unit(bag: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in bag.values())) or 1.0
    return {t: v / norm for t, v in bag.items()}


@dataclass(frozen=True)
class Perceptron:
    """Averaged weights: term -> class -> weight."""

    weights: dict[str, dict[str, float]]

    @classmethod
    def train(cls, samples: Sequence[tuple[Mapping[str, float], str]]) -> Perceptron:
        """Learns from (term bag, class) pairs."""
        data = [(_unit(bag), label) for bag, label in samples if bag]
        order = list(range(len(data)))
        rng = random.Random(SEED)
        w: dict[str, dict[str, float]] = {}
        # Sum of each weight's updates times the step they were made at (averaging trick).
        u: dict[str, dict[str, float]] = {}
        step = 1
        for _ in range(EPOCHS):
            rng.shuffle(order)
            for i in order:
                bag, label = data[i]
                scores: dict[str, float] = {}
                for t, v in bag.items():
                    for c, x in w.get(t, {}).items():
                        scores[c] = scores.get(c, 0.0) + v * x
                pred = max(scores.items(), key=lambda kv: (kv[1], kv[0]))[0] if scores else None
                if pred != label:
                    for t, v in bag.items():
                        wt = w.setdefault(t, {})
                        ut = u.setdefault(t, {})
                        wt[label] = wt.get(label, 0.0) + v
                        ut[label] = ut.get(label, 0.0) + step * v
                        if pred is not None:
                            wt[pred] = wt.get(pred, 0.0) - v
                            ut[pred] = ut.get(pred, 0.0) - step * v
                step += 1
        averaged = {
            t: {c: x - u[t][c] / step for c, x in cw.items() if x - u[t][c] / step}
            for t, cw in w.items()
        }
        return cls({t: cw for t, cw in averaged.items() if cw})

    def scores(self, bag: Mapping[str, float]) -> dict[str, float]:
        """Class scores of a term bag (unit length, as in training)."""
        out: dict[str, float] = {}
        for t, v in _unit(bag).items():
            for c, x in self.weights.get(t, {}).items():
                out[c] = out.get(c, 0.0) + v * x
        return out
