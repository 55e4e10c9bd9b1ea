"""Parzen-window log-likelihood: exact densities, a Gaussian with an analytic answer,
bandwidth selection, and independence from the block sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from pipeline.metrics.parzen import log_likelihoods, parzen_protocol, sigma_grid


def test_sigma_grid_is_the_papers_logspace():
    np.testing.assert_allclose(sigma_grid(), np.logspace(-1, 0, 10))
    assert sigma_grid()[0] == pytest.approx(0.1) and sigma_grid()[-1] == pytest.approx(1.0)


def test_log_likelihoods_equal_a_direct_gaussian_mixture_density():
    rng = np.random.default_rng(0)
    samples, x = rng.normal(size=(40, 3)), rng.normal(size=(9, 3))
    sigmas = [0.3, 1.0]
    got = log_likelihoods(torch.from_numpy(x), torch.from_numpy(samples), sigmas, batch_size=4, sample_block=7)
    for i, s in enumerate(sigmas):
        dens = np.stack([multivariate_normal(mean=c, cov=s**2 * np.eye(3)).logpdf(x) for c in samples])
        np.testing.assert_allclose(got[i].numpy(), logsumexp(dens, axis=0) - math.log(40), rtol=1e-10)


def test_block_sizes_do_not_change_the_result():
    rng = np.random.default_rng(1)
    samples, x = torch.from_numpy(rng.random((300, 16))), torch.from_numpy(rng.random((50, 16)))
    a = log_likelihoods(x, samples, sigma_grid(), batch_size=7, sample_block=13)
    b = log_likelihoods(x, samples, sigma_grid(), batch_size=1000, sample_block=1000)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-10)


def test_gaussian_data_gives_the_analytic_expected_log_likelihood():
    # samples ~ N(0, s^2 I_d): the Parzen density tends to N(0, (s^2 + sigma^2) I_d), so the
    # expected test LL is -d/2 log(2 pi (s^2 + sigma^2)) - d s^2 / (2 (s^2 + sigma^2)),
    # maximal at sigma -> 0; the protocol must pick the smallest sigma that is not overfitting.
    rng = np.random.default_rng(2)
    d, s = 2, 1.0
    samples = torch.from_numpy(rng.normal(scale=s, size=(10000, d)))
    val = torch.from_numpy(rng.normal(scale=s, size=(1000, d)))
    test = torch.from_numpy(rng.normal(scale=s, size=(2000, d)))
    result = parzen_protocol(samples, val, test, sigma_grid())
    v = s**2 + result.sigma**2
    expected = -d / 2 * math.log(2 * math.pi * v) - d * s**2 / (2 * v)
    assert result.ll == pytest.approx(expected, abs=3 * result.se + 0.01)
    assert result.se == pytest.approx(math.sqrt(d / 2) * s**2 / v / math.sqrt(2000), rel=0.15)
    assert len(result.validation_ll) == 10 and result.sigma == pytest.approx(sigma_grid()[int(np.argmax(result.validation_ll))])


def test_bandwidth_is_chosen_on_validation():
    # data at the sample points themselves favour the smallest sigma; a far-off validation
    # set favours the widest
    rng = np.random.default_rng(3)
    samples = torch.from_numpy(rng.random((200, 5)))
    near = parzen_protocol(samples, samples[:50], samples[50:], sigma_grid())
    far = parzen_protocol(samples, samples[:50] + 3.0, samples[50:], sigma_grid())
    assert near.sigma == pytest.approx(0.1) and far.sigma == pytest.approx(1.0)
    assert near.ll > far.ll


def test_mismatched_dimensions_raise():
    with pytest.raises(ValueError):
        log_likelihoods(torch.zeros(3, 4), torch.zeros(5, 3), [0.1])
