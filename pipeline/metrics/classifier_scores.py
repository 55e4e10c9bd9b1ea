"""Scores from a classifier's predictive distribution p(y|x) on generated images.

- Inception Score (Salimans et al. 2016, Sec. 4):
  IS = exp(E_x KL(p(y|x) || p(y))), with p(y) = E_x p(y|x) estimated on the same
  samples; the samples are shuffled (fixed seed) and cut into ``splits`` parts,
  IS is computed per part and reported as mean and std over parts. Computed by
  torch-fidelity (``isc_features_to_metric``) on the classifier's logits.
- EBGAN's modified score (Zhao et al. 2017, Sec. 4.1 and App. C):
  I' = E_x KL(p(y) || p(y|x)) = E_x sum_y p(y) [log p(y) - log p(y|x)]:
  the KL order swapped and no exp. Because log p(y|x) of an unlikely class is
  unbounded below, p(y|x) is clipped below at ``clip`` (the paper gives no
  value; ours 1e-6, ``scoring.is_mod_clip``), which bounds I' by -log(clip).
  The same splits as IS; p(y) is each split's marginal of the unclipped p(y|x).

Both take logits (N, C); p(y|x) = softmax(logits). Computed in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_fidelity.metric_isc import (
    KEY_METRIC_ISC_MEAN,
    KEY_METRIC_ISC_STD,
    isc_features_to_metric,
)


def _split_bounds(n: int, splits: int) -> list[tuple[int, int]]:
    """torch-fidelity's split rule: part i is [i N / splits, (i + 1) N / splits)."""
    if not 1 <= splits <= n:
        raise ValueError(f"need 1 <= splits <= number of samples, got splits={splits}, n={n}")
    return [(i * n // splits, (i + 1) * n // splits) for i in range(splits)]


def _shuffled(logits: torch.Tensor, shuffle: bool, seed: int) -> torch.Tensor:
    if not shuffle:
        return logits
    return logits[np.random.RandomState(seed).permutation(len(logits))]


def inception_score(logits: torch.Tensor, splits: int = 10, shuffle: bool = True,
                    seed: int = 2020) -> tuple[float, float]:
    """(mean, std) over splits of exp(E_x KL(p(y|x) || p(y)))."""
    logits = torch.as_tensor(logits).detach().cpu()
    _split_bounds(len(logits), splits)
    out = isc_features_to_metric(logits.double(), splits=splits, shuffle=shuffle, rng_seed=seed)
    return out[KEY_METRIC_ISC_MEAN], out[KEY_METRIC_ISC_STD]


def modified_inception_score(logits: torch.Tensor, splits: int = 10, clip: float = 1e-6, shuffle: bool = True,
                             seed: int = 2020) -> tuple[float, float]:
    """(mean, std) over splits of I' = E_x KL(p(y) || max(p(y|x), clip))."""
    logits = _shuffled(torch.as_tensor(logits).detach().cpu().double(), shuffle, seed)
    log_p = logits.log_softmax(dim=1)
    scores = []
    for lo, hi in _split_bounds(len(logits), splits):
        part = log_p[lo:hi]
        marginal = part.exp().mean(dim=0)
        log_q = part.clamp(min=float(np.log(clip)))
        # sum_y p(y) log p(y), with 0 log 0 = 0
        neg_entropy = torch.xlogy(marginal, marginal).sum()
        cross = (marginal[None, :] * log_q).sum(dim=1)
        scores.append((neg_entropy - cross).mean().item())
    return float(np.mean(scores)), float(np.std(scores))
