"""Ladder network: combinator, corrupted and clean paths, population statistics."""

from __future__ import annotations

import pytest
import torch

from pipeline.nets.ladder import Combinator, Ladder, normalise


def test_normalise_gives_zero_mean_unit_variance_columns():
    z, mean, var = normalise(torch.randn(50, 4) * 3 + 2)
    assert torch.allclose(z.mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(z.var(0, unbiased=False), torch.ones(4), atol=1e-4)
    assert mean.shape == var.shape == (4,)


def test_combinator_is_the_vanilla_g_of_rasmus_et_al():
    g = Combinator(3)
    z, u = torch.randn(5, 3), torch.randn(5, 3)
    assert torch.equal(g(z, u), torch.zeros(5, 3))  # initial a: mu = 0, v = 0
    with torch.no_grad():
        g.a.copy_(torch.arange(1.0, 11.0)[:, None].repeat(1, 3) / 10)
    a = torch.arange(1.0, 11.0) / 10
    mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
    v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
    assert torch.allclose(g(z, u), (z - mu) * v + mu)


def test_shapes_and_batchnorm_without_learned_scale_below_the_top():
    net = Ladder([12, 8, 6, 3])
    logits, recon = net.corrupted(torch.rand(10, 1, 3, 4))
    assert logits.shape == (10, 3) and recon.shape == (10, 12)
    assert [b.shape[0] for b in net.beta] == [8, 6, 3] and net.gamma.shape == (3,)


def test_bottom_cost_reaches_every_decoder_layer_and_the_encoder():
    torch.manual_seed(0)
    net = Ladder([12, 8, 6, 3])
    with torch.no_grad():
        for c in net.combinators:
            c.a.normal_()
    x = torch.rand(10, 12)
    _, recon = net.corrupted(x)
    (recon - x).pow(2).sum().backward()
    assert net.W[0].weight.grad.abs().sum() > 0 and net.V[-1].weight.grad.abs().sum() > 0


def test_noise_makes_the_corrupted_path_random_and_the_clean_path_deterministic():
    net = Ladder([12, 8, 3], noise_std=0.3)
    x = torch.rand(16, 12)
    torch.manual_seed(0)
    a = net.corrupted(x)[0]
    torch.manual_seed(1)
    b = net.corrupted(x)[0]
    assert not torch.equal(a, b)
    assert torch.equal(net.clean_logits(x), net.clean_logits(x))
    quiet = Ladder([12, 8, 3], noise_std=0.0)
    quiet.load_state_dict(net.state_dict())
    assert torch.allclose(quiet.corrupted(x)[0], quiet.clean_logits(x, population=False), atol=1e-5)


def test_population_statistics_equal_the_batch_statistics_of_the_whole_set():
    torch.manual_seed(0)
    net = Ladder([12, 8, 6, 3])
    x = torch.rand(40, 12)
    before = net.clean_logits(x)
    net.fit_population_stats(x, batch_size=7)
    after = net.clean_logits(x)
    assert not torch.allclose(before, after)
    assert torch.allclose(after, net.clean_logits(x, population=False), atol=1e-4)


def test_needs_two_sizes():
    with pytest.raises(ValueError):
        Ladder([5])
