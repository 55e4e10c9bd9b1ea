"""The memory of MemoryGAN's discriminative memory network (Kim et al. 2018, Sec. 3.1).

State (buffers, so they follow ``.to(device)`` and ``state_dict``):

- keys ``K`` (N, d): mean directions of a vMF mixture; unit norm once written,
  initialised to 0 [code] (an unwritten slot has similarity 0 to every query);
- values ``v`` (N,): 1 real / 0 fake; the first half starts real [code];
- ages ``a`` (N,): updates since the slot was last touched; start at 0;
- histogram ``h`` (N,): effective number of queries per slot; starts flat at
  1e-5 [code].

Reading (queries ``q`` are unit vectors):

- Eq. 1: p(i | q) ∝ p(q | i) p(i) with p(q | i) ∝ exp(κ K_i·q) and
  p(i) = (h_i + β) / Σ_j (h_j + β).
- Eq. 2: D(x) = Σ_i p(i | q) v_i over every slot (``read_all``). Then D(x) is a sigmoid of
  log Σ_{v_i=1} p(i | q) - log Σ_{v_i=0} p(i | q), strictly inside (0, 1) while both
  labels hold histogram mass, and its gradient reaches every query.
- Eq. 3: otherwise only the top-k slots by p(i | q) are kept and the posterior is
  renormalised over them (the paper's approximation for large N [paper, code]). A query whose read slots all carry one label then gets
  D(x) exactly 0 or 1 and, after the clip, no gradient at all.
- Eq. 4: D(x) = Σ_{i read} p(i | q) v_i. Gradients flow into q only;
  keys, histogram and the top-k choice are constants.

Writing one training increment with queries q_b and labels y_b (Sec. 3.1.2):

1. Query b is *replaced* (LRU) when none of its ``correct_in_top`` nearest
   slots by Eq. 1 (labels ignored) has value y_b [code: ``correct_in_top`` = 1].
2. Otherwise its slots S_b are the top-k by the conditional posterior
   p(i | q, v_i = y_b), and the incremental EM runs for T iterations:
   ĥ_i = α h_i; E-step γ_bi = softmax over S_b of (ĥ_i + β) exp(κ q_b·K_i);
   M-step ĥ_i += γ_bi - γ'_bi and K_i <- normalise(K_i + (γ_bi - γ'_bi) / ĥ_i (q_b - K_i))
   (Eq. 5, γ' the previous iteration's γ, 0 at the start). The official code
   instead adds Σ_j (γ_bj - γ'_bj) to ĥ_i of every slot in S_b (``em_form="code"``).
   The -EM ablation replaces this step by the life-long memory update of
   Kaiser et al. (2017): the nearest same-label slot gets K <- normalise(K + q_b)
   and the histogram is left as it is.
3. A replaced query is written into the oldest slot: K = q_b, v = y_b,
   h = mean(h) [code], age 0.
4. Every age grows by 1; touched slots (updated or replaced) get age 0.

Batch semantics (ours; the paper describes one query at a time, and the
official code computes every query's result from the same pre-batch memory and
scatters them, so that one of the writes to a shared slot wins in an unspecified
order): a batch is one increment. Every query computes its own result from the
memory as it was before the batch (Eq. 5 with its own ĥ = α h and its own copy
of the keys, for T iterations); a slot selected by several queries takes the
*mean* of their results, h_i = mean_b ĥ_bi and K_i = normalise(mean_b K_bi),
the expectation of the code's "one write wins" rule. A single query gives
Eq. 5 exactly, and h stays on the scale of one query (h <= 1/(1 - α) once
written) whatever the batch size. The -EM rule averages likewise. Replaced
queries take distinct slots: the oldest slots not touched by this batch's
updates (ties to the lowest index), in batch order; only when fewer untouched
slots exist than replacements does a replacement overwrite a just-updated
slot. Ages count batches. Nothing here synchronises with the device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NEG = -1e4  # added to log-joints of slots to exclude: exp(NEG) is exactly 0 in float32
INIT_HIST = 1e-5  # [code] flat initial histogram


def _scatter_sum(n: int, index: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
    """Rows of ``src`` summed into ``n`` rows by ``index``; index ``n`` is a discarded dummy row."""
    out = src.new_zeros((n + 1, *src.shape[1:]))
    return out.index_add_(0, index, src)[:n]


def _mark(n: int, index: torch.Tensor) -> torch.Tensor:
    """Boolean (n,) mask of the entries of ``index`` (index ``n`` = none)."""
    return torch.zeros(n + 1, dtype=torch.bool, device=index.device).index_fill_(0, index, True)[:n]


class Memory(nn.Module):
    """Slots of the DMN memory; see the module docstring for the equations."""

    keys: torch.Tensor
    values: torch.Tensor
    ages: torch.Tensor
    hist: torch.Tensor

    def __init__(
        self,
        size: int,
        key_dim: int,
        top_k: int,
        *,
        kappa: float = 1.0,
        alpha: float = 0.5,
        beta: float = 1e-8,
        em_iters: int = 1,
        em_form: str = "paper",
        rule: str = "em",
        correct_in_top: int = 1,
        read_all: bool = False,
    ):
        super().__init__()
        if not 1 <= correct_in_top <= top_k <= size:
            raise ValueError(
                f"need 1 <= correct_in_top <= top_k <= size, got {correct_in_top}, {top_k}, {size}"
            )
        self.read_all = read_all
        if em_form not in ("paper", "code") or rule not in ("em", "lifelong"):
            raise ValueError(f"unknown em_form {em_form!r} or rule {rule!r}")
        self.size, self.key_dim, self.top_k = size, key_dim, top_k
        self.kappa, self.alpha, self.beta = kappa, alpha, beta
        self.em_iters, self.em_form, self.rule, self.correct_in_top = (
            em_iters,
            em_form,
            rule,
            correct_in_top,
        )
        values = torch.zeros(size)
        values[: size // 2] = 1.0
        self.register_buffer("keys", torch.zeros(size, key_dim))
        self.register_buffer("values", values)
        self.register_buffer("ages", torch.zeros(size))
        self.register_buffer("hist", torch.full((size,), INIT_HIST))

    # ------------------------------------------------------------------------------ reading

    def log_joint(self, q: torch.Tensor) -> torch.Tensor:
        """(B, N) log of the unnormalised Eq. 1: log(h_i + β) + κ K_i·q."""
        return torch.log(self.hist + self.beta) + self.kappa * (q @ self.keys.t())

    def prior(self) -> torch.Tensor:
        """p(i) = (h_i + β) / Σ_j (h_j + β)."""
        h = self.hist + self.beta
        return h / h.sum()

    def posterior_topk(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 3: indices (B, k) of the top-k slots by p(i | q) and the posterior
        renormalised over them (differentiable in ``q``)."""
        with torch.no_grad():
            idx = self.log_joint(q).topk(self.top_k, dim=1).indices
        logits = torch.log(self.hist[idx] + self.beta) + self.kappa * (
            q[:, None, :] * self.keys[idx]
        ).sum(-1)
        return idx, torch.softmax(logits, dim=1)

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        """Eq. 4: D(x) = Σ_{i read} p(i | q) v_i, shape (B,); over every slot (Eq. 2) with
        ``read_all``, over the top-k slots (Eq. 3) otherwise."""
        if self.read_all:
            return (torch.softmax(self.log_joint(q), dim=1) * self.values).sum(1)
        idx, post = self.posterior_topk(q)
        return (post * self.values[idx]).sum(1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Slot indices c ~ h_c v_c (Sec. 3.2: real slots by their histogram). If no slot
        is real, every slot is equally likely (a tiny floor keeps the weights valid)."""
        weights = self.hist * self.values + 1e-30
        if generator is not None:
            return torch.multinomial(weights.cpu(), n, replacement=True, generator=generator).to(
                self.keys.device
            )
        return torch.multinomial(weights, n, replacement=True)

    # ------------------------------------------------------------------------------ writing

    @torch.no_grad()
    def update(self, q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One training increment with unit queries ``q`` (B, d) and labels ``y`` (B,)
        in {0, 1}; returns the fraction of queries that were written by replacement."""
        q, y = q.detach(), y.to(q.dtype)
        n = self.size
        h_mean = self.hist.mean()
        log_joint = self.log_joint(q)
        nearest = log_joint.topk(self.correct_in_top, dim=1).indices
        replace = (self.values[nearest] != y[:, None]).all(1)
        wrong = self.values[None, :] != y[:, None]
        sel = log_joint.masked_fill(wrong, NEG).topk(self.top_k, dim=1).indices
        valid = ~replace[:, None] & (self.values[sel] == y[:, None])
        if self.rule == "em":
            flat = torch.where(valid, sel, n).flatten()
            touched = _mark(n, flat)
            self._em(q, sel, valid, flat, touched)
        else:  # Kaiser et al.: only the nearest same-label slot moves towards q
            flat = torch.where(valid[:, 0], sel[:, 0], n)
            touched = _mark(n, flat)
            moved = F.normalize(self.keys[sel[:, 0]] + q, dim=1)
            mean_k = F.normalize(_scatter_sum(n, flat, moved), dim=1)
            self.keys.copy_(torch.where(touched[:, None], mean_k, self.keys))
        replaced = self._replace(q, y, replace, touched, h_mean)
        self.ages.copy_(torch.where(touched | replaced, 0.0, self.ages + 1))
        return replace.to(q.dtype).mean()

    def _em(
        self,
        q: torch.Tensor,
        sel: torch.Tensor,
        valid: torch.Tensor,
        flat: torch.Tensor,
        touched: torch.Tensor,
    ) -> None:
        """Eq. 5 for every non-replaced query on its same-label top-k slots, each from the
        pre-batch memory; slots shared by several queries take the mean of their results."""
        n, d = self.keys.shape
        keys = self.keys[sel]  # (B, k, d): each query's own copy
        h_hat = self.alpha * self.hist[sel]
        prev = torch.zeros_like(h_hat)
        for _ in range(self.em_iters):
            logits = torch.log(h_hat + self.beta) + self.kappa * (q[:, None, :] * keys).sum(-1)
            gamma = torch.where(valid, torch.softmax(logits.masked_fill(~valid, NEG), dim=1), 0.0)
            delta = gamma - prev
            h_hat = h_hat + (delta if self.em_form == "paper" else delta.sum(1, keepdim=True))
            keys = F.normalize(keys + (delta / h_hat)[..., None] * (q[:, None, :] - keys), dim=-1)
            prev = gamma
        count = _scatter_sum(n, flat, torch.ones_like(flat, dtype=q.dtype)).clamp_min(1)
        mean_h = _scatter_sum(n, flat, h_hat.flatten()) / count
        mean_k = F.normalize(_scatter_sum(n, flat, keys.reshape(-1, d)), dim=1)
        self.hist.copy_(torch.where(touched, mean_h, self.hist))
        self.keys.copy_(torch.where(touched[:, None], mean_k, self.keys))

    def _replace(
        self,
        q: torch.Tensor,
        y: torch.Tensor,
        replace: torch.Tensor,
        touched: torch.Tensor,
        h_mean: torch.Tensor,
    ) -> torch.Tensor:
        """Write each replaced query into its own oldest untouched slot; returns written slots."""
        n = self.size
        order = torch.argsort(self.ages.masked_fill(touched, -1.0), descending=True, stable=True)
        rank = (replace.long().cumsum(0) - 1).clamp(0, n - 1)
        target = torch.where(replace, order[rank], n)
        for buf, new in ((self.keys, q), (self.values, y), (self.hist, h_mean.expand_as(y))):
            padded = torch.cat([buf, buf.new_zeros((1, *buf.shape[1:]))])
            buf.copy_(padded.index_copy_(0, target, new.to(buf.dtype))[:n])
        return _mark(n, target)
