"""AAN: the RBM between D's visible layer and G, the noise-fed control, the figures' numbers."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from pipeline.data.sources import DataSpec, TensorSource
from pipeline.hparams import build
from pipeline.hparams.aan import AANHParams
from pipeline.models.aan import AAN, balance_summary

SMALL = {"arch": "mlp", "d_hidden": [32], "g_hidden": [32], "c_hidden": [8], "visible": 6, "hidden": 5,
         "sample_steps": 5, "chain_steps": 4, "chain_rows": 3, "chain_probe": 20, "lr": 0.001}


@pytest.fixture(scope="module")
def digits() -> TensorSource:
    """Toy 'images': 8x8 bars, as a finite in-memory dataset."""
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(300, 1, 8, 8)
    cls = torch.randint(0, 4, (300,), generator=g)
    for i, k in enumerate(cls.tolist()):
        x[i, 0, 2 * k : 2 * k + 2, :] = 1.0
    x = (x + 0.1 * torch.rand(x.shape, generator=g)).clamp(0, 1)
    spec = DataSpec("bars", "test", (1, 8, 8), 4, 200)
    return TensorSource(spec, x[:200], cls[:200], x[200:], cls[200:])


def model(data, **overrides) -> AAN:
    torch.manual_seed(0)
    return AAN(build(AANHParams, {**SMALL, **overrides}, "hp"), data, torch.device("cpu"))


def run_steps(m: AAN, data, steps: int, start: int = 0) -> list[dict[str, torch.Tensor]]:
    return [m.train_step(*data.batch(s, 16, 0), s) for s in range(start, start + steps)]


def test_defaults_are_the_paper_design():
    hp = AANHParams()
    assert (hp.prior, hp.arch, hp.visible_units, hp.rbm_learning, hp.g_input) == (
        "rbm", "dcgan", "spin", "cd", "sample")
    assert len(hp.d_channels) == 4 and hp.chain_steps == 10


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_rbm_prior_builds_f_c_g_and_an_rbm_of_the_visible_size(digits, arch):
    m = model(digits, arch=arch, d_channels=[4, 8])
    assert set(m.nets) == {"F", "C", "G", "RBM"}
    assert (m.nets["RBM"].n_visible, m.nets["RBM"].n_hidden) == (6, 5)
    f, logit = m.discriminate(digits.heldout()[0][:7] * 2 - 1)
    assert f.shape == (7, 6) and f.abs().max() < 1 and logit.shape == (7,)
    assert set(m.optimizers) == {"D", "G", "RBM"}
    assert isinstance(m.optimizers["RBM"], torch.optim.SGD) and isinstance(m.optimizers["D"], torch.optim.Adam)
    assert m.parameter_count()["D"] == m.parameter_count()["F"] + m.parameter_count()["C"]


def test_noise_control_shares_the_nets_without_an_rbm(digits):
    aan, control = model(digits), model(digits, prior="noise")
    assert set(control.nets) == {"F", "C", "G"}
    for name in ("F", "C", "G"):
        shapes = [p.shape for p in aan.nets[name].parameters()]
        assert shapes == [p.shape for p in control.nets[name].parameters()]


def capture_g_inputs(m: AAN) -> list[torch.Tensor]:
    seen: list[torch.Tensor] = []
    m.nets["G"].register_forward_pre_hook(lambda _mod, args: seen.append(args[0].detach().clone()))
    return seen


@pytest.mark.parametrize("g_input, prior", [("sample", "rbm"), ("mean", "rbm"), ("sample", "noise")])
def test_g_is_fed_rbm_negative_samples_or_noise(digits, g_input, prior):
    m = model(digits, g_input=g_input, prior=prior)
    seen = capture_g_inputs(m)
    run_steps(m, digits, 2)
    f = seen[-1]
    assert f.shape == (16, 6)
    if prior == "noise":
        assert f.abs().max() <= 1 and len(f.unique()) == f.numel()  # continuous U(-1, 1)
    elif g_input == "sample":
        assert set(f.unique().tolist()) <= {-1.0, 1.0}  # spin states of the Gibbs chain
    else:
        assert f.abs().max() < 1 and len(f.unique()) > 2  # E[v | h] = tanh(b + Wh)


def test_train_step_updates_every_net_and_logs_both_terms_of_d_objective(digits):
    m = model(digits)
    before = {k: copy.deepcopy(v.state_dict()) for k, v in m.nets.items()}
    logs = run_steps(m, digits, 3)[-1]
    for k, net in m.nets.items():
        changed = any(not torch.equal(before[k][n], t) for n, t in net.state_dict().items())
        assert changed, k
    assert {"loss_d", "loss_g", "log_d_real", "log_1m_d_fake", "rbm_free_energy_gap"} <= set(logs)
    for v in logs.values():
        assert v.ndim == 0 and not v.requires_grad and torch.isfinite(v)
    assert logs["log_d_real"] < 0 and logs["log_1m_d_fake"] < 0
    assert torch.allclose(logs["loss_d"], -(logs["log_d_real"] + logs["log_1m_d_fake"]))


def test_rbm_trains_on_f_of_the_real_batch_and_sends_no_gradient_into_f(digits):
    m = model(digits)
    x = digits.batch(0, 16, 0)[0]
    with torch.no_grad():
        expected = m.nets["F"](x * 2 - 1)
    seen = []
    step = m.cd.step
    m.cd.step = lambda v: seen.append(v.detach().clone()) or step(v)
    m.train_step(x, None, 0)
    assert len(seen) == 1 and torch.allclose(seen[0], expected)
    # the third term of the objective is maximised over the RBM only
    m.nets["F"].zero_grad(set_to_none=True)
    step(m.nets["F"](x * 2 - 1))
    assert all(p.grad is None for p in m.nets["F"].parameters())
    assert all(p.grad is not None for p in m.nets["RBM"].parameters())


def test_balance_summary_is_the_ratio_of_the_two_terms_over_the_second_half():
    history = torch.tensor([[-5.0, -0.1], [-5.0, -0.1], [-0.6, -0.8], [-0.9, -0.6]])
    out = balance_summary(history)
    assert out["balance_ratio"] == pytest.approx((0.75 + 1.5) / 2)
    assert out["balance_gap"] == pytest.approx((0.25 + 0.5) / 2)
    assert balance_summary(torch.empty(0, 2)) == {}
    # D certain about fakes (log(1 - D) = 0) keeps the ratio finite and the gap huge
    assert np.isfinite(balance_summary(torch.tensor([[-1.0, 0.0]]))["balance_gap"])


def test_generate_is_reproducible_in_range_and_leaves_training_rng_alone(digits):
    m = model(digits)
    run_steps(m, digits, 2)
    torch.manual_seed(3)
    state = torch.get_rng_state()
    a = m.generate(7, torch.Generator().manual_seed(1))["G"]
    b = m.generate(7, torch.Generator().manual_seed(1))["G"]
    assert torch.equal(torch.get_rng_state(), state)
    assert a.shape == (7, 1, 8, 8) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    assert m.nets["G"].training  # back in training mode


def test_evaluate_gives_the_gibbs_figure_and_chain_change(digits):
    m = model(digits)
    run_steps(m, digits, 4)
    ev = m.evaluate(digits, torch.Generator().manual_seed(0))
    fig = ev.arrays["gibbs_chain"]
    assert fig.shape == (3, 5, 1, 8, 8) and fig.dtype == np.uint8  # held-out image + 4 steps
    held = digits.heldout()[0][:3]
    assert np.array_equal(fig[:, 0], (held * 255).round().to(torch.uint8).numpy())
    assert ev.arrays["chain_change"].shape == (3,) and ev.arrays["chain_drift"].shape == (4,)
    assert ev.arrays["chain_drift"][0] == 0
    assert ev.metrics["chain_change_per_step"] == pytest.approx(float(ev.arrays["chain_change"].mean()))
    assert {"balance_ratio", "balance_gap", "chain_feature_change_per_step"} <= set(ev.metrics)


def test_chain_change_is_zero_for_a_frozen_chain_and_positive_for_a_free_one(digits):
    m = model(digits)
    rbm = m.nets["RBM"]
    with torch.no_grad():
        rbm.W.zero_()
        rbm.b.fill_(20.0)  # every visible unit +1 with certainty: the chain never moves
    frozen = m.evaluate(digits, torch.Generator().manual_seed(0)).metrics
    assert frozen["chain_change_per_step"] == 0 and frozen["chain_feature_change_per_step"] == 0
    with torch.no_grad():
        rbm.b.zero_()  # independent fair spins every step
    free = m.evaluate(digits, torch.Generator().manual_seed(0)).metrics
    assert free["chain_feature_change_per_step"] == pytest.approx(1.0, abs=0.15)  # E|v' - v| = 2 * 1/2
    assert free["chain_change_per_step"] > 0


def test_noise_control_reports_balance_only(digits):
    m = model(digits, prior="noise")
    run_steps(m, digits, 2)
    ev = m.evaluate(digits, torch.Generator().manual_seed(0))
    assert set(ev.metrics) == {"balance_ratio", "balance_gap"} and ev.arrays == {}


@pytest.mark.parametrize("learning", ["cd", "pcd"])
def test_resume_from_state_continues_exactly(digits, learning):
    m = model(digits, rbm_learning=learning)
    run_steps(m, digits, 3)
    state = copy.deepcopy(m.state_dict())
    rng = torch.get_rng_state()
    run_steps(m, digits, 2, start=3)
    resumed = model(digits, rbm_learning=learning)
    resumed.load_state_dict(state)
    torch.set_rng_state(rng)
    run_steps(resumed, digits, 2, start=3)
    for k in m.nets:
        for (n, a), b in zip(m.nets[k].state_dict().items(), resumed.nets[k].state_dict().values()):
            assert torch.equal(a, b), (k, n)
    assert torch.equal(torch.stack(m._balance), torch.stack(resumed._balance))
    if learning == "pcd":
        assert torch.equal(m.cd.chains, resumed.cd.chains)


def test_gaussian_visible_units_train_and_sample(digits):
    m = model(digits, visible_units="gaussian", rbm_learning="pcd")
    assert isinstance(m.nets["F"][-1], torch.nn.LeakyReLU)  # F's visible layer is not squashed
    seen = capture_g_inputs(m)
    logs = run_steps(m, digits, 3)[-1]
    assert all(torch.isfinite(v) for v in logs.values())
    assert len(seen[-1].unique()) == seen[-1].numel()  # real-valued samples of N(b + Wh, I)
    x = m.generate(5, torch.Generator().manual_seed(0))["G"]
    assert x.shape == (5, 1, 8, 8) and torch.isfinite(x).all()
