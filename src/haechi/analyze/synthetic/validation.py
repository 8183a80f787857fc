"""A detector's measured false-positive rate on real photos it was not trained on.

A pixel detector's score may headline a verdict ("detector suggests synthetic") only at an
operating point whose false-positive rate was **measured on real photos the detector was
not trained on** and is at most 1 %, on enough photos to resolve 1 % (at least 300: with
none flagged, the one-sided 95 % upper bound is then 1 %). The measurement travels with
every score (the ``synthetic`` signal's ``validation``) and is stated beside the label, with
its sample size and a 95 % Clopper–Pearson interval. Any other score is an inconclusive
detail.

Where a measurement comes from:

- the built-in baseline: ``baseline_validation.json`` next to its model, written by
  ``python -m haechi.analyze.synthetic.validate`` (which checks that no validation picture is
  one of the baseline's training photos) and valid only for the model file whose SHA-256 it
  names;
- an agency's ONNX detector: a ``[validation]`` table in its description, filled in from the
  agency's laboratory or from the same command run with ``--detector``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

MAX_FPR = 0.01  # a headline needs a measured false-positive rate of at most 1 %
MIN_REAL = 300  # ... on at least this many real photos not used in training
CONFIDENCE = 0.95


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact two-sided interval of a binomial proportion k/n."""
    from scipy.stats import beta

    if n <= 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


@dataclass(frozen=True)
class Validation:
    real_images: int
    false_positives: int
    threshold: float  # the operating point measured
    dataset: str  # what the real photos were
    disjoint_from_training: bool  # none of them was used to train the detector
    measured_at: str = ""
    model_sha256: str = ""  # the model measured (empty: not recorded)

    @property
    def fpr(self) -> float:
        return self.false_positives / self.real_images if self.real_images else 1.0

    def interval(self) -> tuple[float, float]:
        return clopper_pearson(self.false_positives, self.real_images)

    def supports_label(self, threshold: float | None) -> tuple[bool, str]:
        """Whether a score at ``threshold`` may headline a verdict, and why not."""
        if not self.disjoint_from_training:
            return False, "not_disjoint"
        if threshold is None or not math.isclose(self.threshold, threshold, abs_tol=1e-6):
            return False, "other_threshold"
        if self.real_images < MIN_REAL:
            return False, "too_few"
        if self.fpr > MAX_FPR:
            return False, "fpr_too_high"
        return True, "ok"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        lo, hi = self.interval()
        out["fpr"], out["fpr_ci95"] = round(self.fpr, 6), [round(lo, 6), round(hi, 6)]
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> Validation | None:
        """A measurement as recorded in a signal or a description; None when absent or
        malformed (a malformed record can never make a label)."""
        if not isinstance(raw, dict):
            return None
        try:
            n, k = int(raw["real_images"]), int(raw["false_positives"])
            thr = float(raw["threshold"])
        except (KeyError, TypeError, ValueError):
            return None
        if n <= 0 or not 0 <= k <= n:
            return None
        return cls(
            n,
            k,
            thr,
            str(raw.get("dataset", "")),
            raw.get("disjoint_from_training") is True,
            str(raw.get("measured_at", "")),
            str(raw.get("model_sha256", "")),
        )


def check_table(raw: Any, threshold: float) -> Validation:
    """A description's ``[validation]`` table, or ValueError with one sentence."""
    if not isinstance(raw, dict):
        raise ValueError("[validation] must be a table")
    unknown = set(raw) - {
        "real_images",
        "false_positives",
        "threshold",
        "dataset",
        "disjoint_from_training",
        "measured_at",
    }
    if unknown:
        raise ValueError(f"[validation] has unknown keys {sorted(unknown)}")
    n, k = raw.get("real_images"), raw.get("false_positives")
    if not (isinstance(n, int) and isinstance(k, int) and n > 0 and 0 <= k <= n):
        raise ValueError("[validation] needs real_images > 0 and 0 <= false_positives <= it")
    if not isinstance(raw.get("dataset"), str) or not raw["dataset"].strip():
        raise ValueError("[validation] must say what the real photos were (dataset)")
    if not isinstance(raw.get("disjoint_from_training"), bool):
        raise ValueError("[validation] must say disjoint_from_training = true or false")
    measured = raw.get("threshold", threshold)
    if not isinstance(measured, int | float) or not math.isclose(measured, threshold):
        raise ValueError(
            f"[validation] was measured at threshold {measured}, the detector uses {threshold}"
        )
    return Validation(
        n,
        k,
        float(threshold),
        raw["dataset"].strip(),
        raw["disjoint_from_training"],
        str(raw.get("measured_at", "")),
    )
