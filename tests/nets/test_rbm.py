"""The RBM against exact enumeration on machines small enough to enumerate."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch

from pipeline.nets.rbm import RBM, ContrastiveDivergence

V, H = 4, 3


def all_states(n: int, values: tuple[float, float]) -> torch.Tensor:
    return torch.tensor(list(itertools.product(values, repeat=n)), dtype=torch.float64)


def random_rbm(visible: str = "spin", seed: int = 0, scale: float = 0.8) -> RBM:
    torch.manual_seed(seed)
    rbm = RBM(V, H, visible).double()
    with torch.no_grad():
        rbm.W.normal_(0, scale)
        rbm.b.normal_(0, 0.5)
        rbm.c.normal_(0, 0.5)
    return rbm


def exact_probs(rbm: RBM) -> tuple[torch.Tensor, torch.Tensor]:
    """(all 2^V spin states, p(v)) by summing exp(-E) over every (v, h)."""
    vs, hs = all_states(rbm.n_visible, (-1.0, 1.0)), all_states(rbm.n_hidden, (0.0, 1.0))
    with torch.no_grad():
        e = torch.stack([rbm.energy(vs, h.expand(len(vs), -1)) for h in hs], dim=1)
    unnorm = torch.exp(-e).sum(1)
    return vs, unnorm / unnorm.sum()


def state_index(v: torch.Tensor) -> torch.Tensor:
    """Row index of spin vectors in all_states(V, (-1, 1)) (itertools.product order)."""
    bits = (v > 0).long()
    weights = 2 ** torch.arange(v.shape[1] - 1, -1, -1)
    return (bits * weights).sum(1)


def flat_grad(rbm: RBM, loss: torch.Tensor) -> torch.Tensor:
    grads = torch.autograd.grad(loss, list(rbm.parameters()))
    return torch.cat([g.flatten() for g in grads])


@pytest.mark.parametrize("visible", ["spin", "gaussian"])
def test_free_energy_matches_sum_over_hidden_states(visible):
    rbm = random_rbm(visible)
    v = torch.randn(7, V, dtype=torch.float64).clamp(-1, 1)
    hs = all_states(H, (0.0, 1.0))
    with torch.no_grad():
        e = torch.stack([rbm.energy(v, h.expand(len(v), -1)) for h in hs], dim=1)
        brute = -torch.logsumexp(-e, dim=1)
        assert torch.allclose(rbm.free_energy(v), brute, atol=1e-10)


def test_conditionals_match_enumeration():
    rbm = random_rbm()
    vs, p = exact_probs(rbm)
    hs = all_states(H, (0.0, 1.0))
    with torch.no_grad():
        joint = torch.exp(-torch.stack([rbm.energy(vs, h.expand(len(vs), -1)) for h in hs], dim=1))
        joint = joint / joint.sum()  # (2^V, 2^H)
        # p(h_j = 1 | v)
        p_h_given_v = (joint / joint.sum(1, keepdim=True)) @ hs
        assert torch.allclose(rbm.hidden_prob(vs), p_h_given_v, atol=1e-10)
        # E[v | h] is tanh(b + Wh) for spin units
        e_v_given_h = (joint / joint.sum(0, keepdim=True)).t() @ vs
        assert torch.allclose(rbm.visible_mean(hs), e_v_given_h, atol=1e-10)
        # the marginal from free energies equals the one from the joint
        f = torch.exp(-rbm.free_energy(vs))
        assert torch.allclose(f / f.sum(), p, atol=1e-12)


def exact_gradient(rbm: RBM, data: torch.Tensor) -> torch.Tensor:
    """Gradient of the mean negative log-likelihood: E_data dF - E_model dF."""
    vs, p = exact_probs(rbm)
    loss = rbm.free_energy(data).mean() - (p.detach() * rbm.free_energy(vs)).sum()
    return flat_grad(rbm, loss)


def cd_gradient(rbm: RBM, data: torch.Tensor, k: int, repeats: int) -> torch.Tensor:
    v_data = data.repeat(repeats, 1)
    with torch.no_grad():
        v_neg, _ = rbm.gibbs(v_data, k)
    return flat_grad(rbm, rbm.contrastive_loss(v_data, v_neg))


def test_cd_gradient_has_exact_expectation_for_long_chains():
    torch.manual_seed(1)
    rbm = random_rbm(seed=1)
    data = all_states(V, (-1.0, 1.0))[[0, 3, 5, 15]]
    exact = exact_gradient(rbm, data)
    estimate = cd_gradient(rbm, data, k=30, repeats=20_000)
    assert exact.abs().max() > 0.05  # not a trivial case
    assert torch.allclose(estimate, exact, atol=0.02), (estimate - exact).abs().max()


def test_cd1_gradient_points_the_way_of_the_exact_gradient():
    torch.manual_seed(2)
    rbm = random_rbm(seed=2)
    data = all_states(V, (-1.0, 1.0))[[1, 6, 9, 14]]
    exact = exact_gradient(rbm, data)
    estimate = cd_gradient(rbm, data, k=1, repeats=5_000)
    cosine = torch.dot(exact, estimate) / (exact.norm() * estimate.norm())
    assert cosine > 0.5
    # and a step along -estimate lowers the exact negative log-likelihood
    def nll(model: RBM) -> float:
        _, p = exact_probs(model)
        return -torch.log(p[state_index(data)]).mean().item()

    before = nll(rbm)
    with torch.no_grad():
        offset = 0
        for param in rbm.parameters():
            n = param.numel()
            param -= 0.05 * estimate[offset : offset + n].view_as(param)
            offset += n
    assert nll(rbm) < before


@pytest.mark.parametrize("persistent", [False, True])
def test_training_raises_likelihood_and_samples_match_exact_distribution(persistent):
    torch.manual_seed(3)
    states = all_states(V, (-1.0, 1.0))
    target = torch.zeros(len(states), dtype=torch.float64)
    target[[0, 5, 10, 15]] = torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64)
    rbm = RBM(V, 6).double()
    trainer = ContrastiveDivergence(rbm, k=1, persistent=persistent, lr=0.05, momentum=0.5)
    _, p0 = exact_probs(rbm)
    for _ in range(600):
        idx = torch.multinomial(target, 64, replacement=True)
        trainer.step(states[idx])
    _, p = exact_probs(rbm)
    nll_before = -(target * torch.log(p0)).sum()
    nll_after = -(target * torch.log(p)).sum()
    assert nll_after < nll_before - 0.5

    # block Gibbs samples of the trained machine vs its exact p(v)
    gen = torch.Generator().manual_seed(4)
    with torch.no_grad():
        v, _ = rbm.gibbs(rbm.random_visible(20_000, states, gen), 200, gen)
    empirical = torch.bincount(state_index(v), minlength=len(states)).double() / len(v)
    tv = 0.5 * (empirical - p).abs().sum()
    assert tv < 0.03  # sampling noise alone is ~0.01 for 16 states and 20k samples


def test_gaussian_visible_conditional_is_unit_variance_normal():
    rbm = random_rbm("gaussian")
    h = torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64).expand(50_000, -1)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        v, mean = rbm.sample_visible(h, gen)
        expected = rbm.b + rbm.W @ h[0]
    assert torch.allclose(mean[0], expected)
    assert torch.allclose(v.mean(0), expected, atol=0.03)
    assert torch.allclose(v.var(0), torch.ones(V, dtype=torch.float64), atol=0.03)


def test_sampling_with_a_generator_is_reproducible_and_leaves_global_rng_alone():
    rbm = random_rbm()
    like = torch.zeros(1, dtype=torch.float64)
    torch.manual_seed(9)
    before = torch.get_rng_state()
    a, a_mean = rbm.chain(rbm.random_visible(5, like, torch.Generator().manual_seed(1)), 4,
                          torch.Generator().manual_seed(2))
    b, b_mean = rbm.chain(rbm.random_visible(5, like, torch.Generator().manual_seed(1)), 4,
                          torch.Generator().manual_seed(2))
    assert a.shape == a_mean.shape == (4, 5, V)
    assert torch.equal(a, b) and torch.equal(a_mean, b_mean)
    assert set(a.unique().tolist()) <= {-1.0, 1.0}
    # the chain is the block Gibbs sampler: its last state equals gibbs() with the same draws
    last, last_mean = rbm.gibbs(rbm.random_visible(5, like, torch.Generator().manual_seed(1)), 4,
                                torch.Generator().manual_seed(2))
    assert torch.equal(last, a[-1]) and torch.equal(last_mean, a_mean[-1])
    assert torch.equal(torch.get_rng_state(), before)


def test_persistent_chains_carry_over_and_cd_chains_restart_at_the_data():
    torch.manual_seed(0)
    data = torch.where(torch.rand(8, V) < 0.5, 1.0, -1.0)
    pcd = ContrastiveDivergence(RBM(V, H), k=2, persistent=True, lr=0.05, momentum=0.5)
    first = pcd.step(data)
    assert torch.equal(pcd.chains, first.sample)
    before = copy.deepcopy(pcd.rbm)
    torch.manual_seed(5)
    second = pcd.step(data)
    torch.manual_seed(5)
    with torch.no_grad():
        expected, _ = before.gibbs(first.sample, 2)
    assert torch.equal(second.sample, expected)

    cd = ContrastiveDivergence(RBM(V, H), k=1, persistent=False, lr=0.05, momentum=0.5)
    before = copy.deepcopy(cd.rbm)
    torch.manual_seed(6)
    out = cd.step(data)
    torch.manual_seed(6)
    with torch.no_grad():
        expected, _ = before.gibbs(data, 1)
    assert torch.equal(out.sample, expected)
    assert cd.chains is None
