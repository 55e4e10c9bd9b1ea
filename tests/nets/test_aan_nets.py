"""AAN's split discriminator (F, C) and generator: shapes, ranges, batch statistics."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.nets.aan import (
    classifier,
    conv_features,
    conv_generator,
    conv_sizes,
    mlp_features,
    mlp_generator,
)


def test_conv_sizes_follow_stride_two_five_by_five_convolutions():
    assert conv_sizes(28, 4) == [28, 14, 7, 4, 2]
    assert conv_sizes(64, 4) == [64, 32, 16, 8, 4]


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 64), (1, 8, 8)])
def test_conv_generator_mirrors_the_feature_net(shape):
    channels = [4, 6, 8, 10]
    f = conv_features(shape, channels, visible=12, visible_units="spin", batchnorm=True, leak=0.2)
    g = conv_generator(12, shape, channels, batchnorm=True)
    x = torch.rand(5, *shape) * 2 - 1
    v = f(x)
    assert v.shape == (5, 12) and v.abs().max() < 1
    out = g(v)
    assert out.shape == (5, *shape) and out.abs().max() <= 1
    convs = [m for m in f if isinstance(m, nn.Conv2d)]
    assert [(m.kernel_size, m.stride, m.out_channels) for m in convs] == [((5, 5), (2, 2), c) for c in channels]
    deconvs = [m for m in g if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in deconvs] == [8, 6, 4, shape[0]]
    # DCGAN's rule: no BN on D's first layer; none on the visible layer either
    assert not isinstance(f[1], nn.BatchNorm2d)
    assert isinstance(f[-2], nn.Linear) and not any(isinstance(m, nn.BatchNorm1d) for m in f)


def test_feature_net_normalises_with_the_batch_it_sees_in_eval_mode_too():
    f = mlp_features(20, [16, 16], visible=8, visible_units="spin", batchnorm=True, leak=0.2)
    x = torch.randn(64, 20) * 3 + 5
    f.train()
    a = f(x)
    f.eval()
    b = f(x)
    assert torch.allclose(a, b)  # no running averages: D sees all-real or all-fake batches
    hidden = f[:5](x)  # the second hidden layer after its BN: standardised over the batch
    assert isinstance(f[4], nn.BatchNorm1d)
    assert torch.allclose(hidden.mean(0), torch.zeros(16), atol=1e-5)


def test_visible_layer_is_not_normalised_per_batch():
    """F(x) of one image must not depend on the batch it came in: a BN on the visible
    layer tells D whether a batch is all real or all fake."""
    torch.manual_seed(0)
    f = mlp_features(20, [16], visible=8, visible_units="spin", batchnorm=True, leak=0.2)
    x = torch.randn(32, 20)
    alone = f(x[:4])
    shifted = f(torch.cat([x[:4], x[4:] * 5 + 3]))[:4]
    assert torch.allclose(alone, shifted, atol=1e-6)


def test_gaussian_visible_units_end_f_in_leaky_relu():
    f = mlp_features(20, [16], visible=8, visible_units="gaussian", batchnorm=False, leak=0.2)
    assert isinstance(f[-1], nn.LeakyReLU)
    v = f(torch.randn(100, 20) * 10)
    assert v.min() < -1  # unbounded below, unlike tanh


def test_mlp_generator_and_classifier_shapes():
    g = mlp_generator(8, [16, 16], (1, 6, 6), batchnorm=True)
    assert g(torch.randn(4, 8)).shape == (4, 1, 6, 6)
    c = classifier(8, [5], leak=0.2)
    assert c(torch.randn(4, 8)).shape == (4, 1)
    assert classifier(8, [], leak=0.2)(torch.randn(3, 8)).shape == (3, 1)
