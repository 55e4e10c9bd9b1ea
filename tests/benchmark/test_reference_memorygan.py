"""bench/reference/memorygan.py computes what pipeline/models/memorygan.py computes.

Tiny memories where every slot is read (top_k = memory_size), so that D(x) is not
clipped at eps in most steps and the adversarial gradients are exercised (with top_k 4
of 32 slots the incremental EM gives the fake slots a far larger histogram than the
freshly written real ones and D(x) sits at eps: only the MI term trains the nets).
The full MCGN cases drop the query layer's batch norm: fakes of an untrained G are
near-identical, some channels before the query layer then have the same LeakyReLU
sign pattern in every fake and the query batch norm cancels their BN-shift gradient
exactly; the rounding noise left there is amplified by Adam to lr-sized steps that
differ between fused and loop Adam (the -EM / -MCGN cases keep the batch norm).
``full-read-all`` is the smoke profile's read: a top-4 EM, D(x) over every slot (Eq. 2).

The memory's discrete decisions (nearest slot, top-k, slot draws) are compared
exactly and must lie far from ties; its floats have tolerances of their own
(tests/memory_parity_support.py): the suite passes on AVX2 and AVX-512 hosts alike."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from memory_parity_support import (
    MEMORY_TOL,
    MemoryLog,
    assert_same_decisions,
    assert_same_queries,
    record_memory,
    top_k_decision,
)
from reference_support import affine, assert_reference_matches, images

from pipeline.nets.memory import Memory

TINY = {"d_channels": [4, 8], "g_channels": [8, 4], "pointwise": False, "key_dim": 6, "memory_size": 16,
        "top_k": 16, "prior_snapshot_every": 2}


def images_16():
    return images((1, 16, 16))


CASES = {
    "full": (affine, {**TINY, "query_batchnorm": False}, 8, 4),
    "-EM": (affine, {**TINY, "memory_update": "lifelong"}, 8, 4),
    "full-read-all": (affine, {**TINY, "query_batchnorm": False, "top_k": 4, "read": "all", "kappa": 5.0}, 8, 4),
    "-MCGN": (affine, {**TINY, "generator": "plain"}, 8, 4),
    "-Memory": (affine, {**TINY, "generator": "plain", "discriminator": "plain"}, 8, 4),
    "full-augment-decay-g-update-mse": (
        images_16, {**TINY, "query_batchnorm": False, "augment": True, "lr_decay_steps": 4, "update_in_g_step": True,
                    "mi_form": "mse", "em_iters": 2, "em_form": "code", "g_loss": "non_saturating",
                    "mi_weight": 0.1}, 8, 3),
    "-Memory-tanh-augment": (
        images_16, {**TINY, "generator": "plain", "discriminator": "plain", "output": "tanh", "augment": True,
                    "g_loss": "non_saturating", "lr_decay_steps": 5}, 8, 3),
}


def check_parity(case: str, logs: dict[int, MemoryLog]) -> None:
    """Decisions first (a different decision explains any float mismatch), then floats."""
    make_data, overrides, batch, steps = CASES[case]
    try:
        assert_reference_matches("memorygan", make_data, overrides, batch, steps=steps,
                                 tolerances={"M": MEMORY_TOL})
    finally:
        assert_same_decisions(logs)
    assert_same_queries(logs)


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case, monkeypatch):
    check_parity(case, record_memory(monkeypatch))


@pytest.mark.parametrize("case", ["-EM", "-MCGN"])
def test_parity_holds_when_another_cpu_rounds_the_queries_differently(case, monkeypatch):
    """Another CPU's kernels change the networks' last bits, magnified in the unit queries
    (here the last step's queries differ by 1e-5 between the two implementations); emulated
    by perturbing the reference's queries of the last step by twice that."""
    logs = record_memory(monkeypatch)
    update, users, calls = Memory.update, [], [0]
    last = CASES[case][3] - 1  # one memory update per step in these cases
    noise = torch.Generator().manual_seed(0)

    def perturbed(self: Memory, q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if id(self) not in users:
            users.append(id(self))
        if users.index(id(self)) == 1:  # the reference's memory (the pipeline's is used first)
            if calls[0] == last:
                q = F.normalize(q + 2e-5 * torch.randn(q.shape, generator=noise), dim=1)
            calls[0] += 1
        return update(self, q, y)

    monkeypatch.setattr(Memory, "update", perturbed)
    check_parity(case, logs)
    assert calls[0] == last + 1


def test_a_near_tie_is_refused_as_a_fixture():
    memory = Memory(4, 2, 2)
    memory.keys.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]))
    q = F.normalize(torch.tensor([[1.0, 1.0 + 1e-6]]), dim=1)  # slots 0 and 1 almost equally near
    decision = top_k_decision("nearest slot", memory.log_joint(q), 1)
    assert decision.chosen == ((1,),) and 0 < decision.margin < 1e-5
    same = {1: MemoryLog([decision]), 2: MemoryLog([decision])}
    with pytest.raises(AssertionError, match="near-tie"):
        assert_same_decisions(same)
