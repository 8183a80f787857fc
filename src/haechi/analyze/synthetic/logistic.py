"""A standardised logistic regression stored as plain JSON (``haechi-logistic-v1``): the
built-in detectors' models, readable and checkable by anyone, no pickle."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Logistic:
    name: str
    version: str
    threshold: float
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    training: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, m: dict[str, Any]) -> Logistic:
        return cls(
            str(m["name"]),
            str(m["version"]),
            float(m.get("threshold", 0.5)),
            np.asarray(m["mean"]),
            np.asarray(m["scale"]),
            np.asarray(m["coef"]),
            float(m["intercept"]),
            m.get("training", {}),
        )

    def parts(self, x: np.ndarray) -> np.ndarray:
        """Each feature's contribution to the log-odds."""
        return np.asarray((x - self.mean) / self.scale * self.coef)

    def probability(self, parts: np.ndarray) -> float:
        z = float(parts.sum() + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
