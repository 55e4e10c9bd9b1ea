"""Shapes and padding of MemoryGAN's networks (TF "SAME" convolutions, DCGAN and ResNet)."""

from __future__ import annotations

import pytest
import torch

from pipeline.nets.memorygan import (
    DCGANGenerator,
    DCGANInference,
    ResBlock,
    ResNetGenerator,
    ResNetInference,
    SameConv2d,
)


@pytest.mark.parametrize(
    "size,stride,out", [(28, 2, 14), (7, 2, 4), (40, 2, 20), (5, 5, 1), (4, 4, 1)]
)
def test_same_conv_output_is_ceil_of_input_over_stride(size, stride, out):
    conv = SameConv2d(1, 1, 4 if stride == 2 else stride, stride)
    assert conv(torch.zeros(1, 1, size, size)).shape[-1] == out


def test_same_conv_pads_like_tensorflow():
    # 7 -> 4 with a 4x4 stride-2 kernel needs 3 pixels of padding: 1 before, 2 after
    conv = SameConv2d(1, 1, 4, 2, bias=False)
    torch.nn.init.ones_(conv.weight)
    out = conv(torch.ones(1, 1, 7, 7))
    assert out[0, 0, 0, 0].item() == 9  # 3x3 of the window inside the image
    assert out[0, 0, -1, -1].item() == 4  # 2x2 inside at the bottom-right corner


@pytest.mark.parametrize(
    "size,channels,pointwise,fc", [(40, [64, 32, 16], True, 0), (28, [32, 32], False, 64)]
)
def test_dcgan_generator_and_inference_shapes(size, channels, pointwise, fc):
    g = DCGANGenerator(2 + 8, 1, size, channels, pointwise, fc)
    x = g(torch.randn(5, 10))
    assert x.shape == (5, 1, size, size)
    d = DCGANInference(1, size, [8, 16, 32], pointwise, 8)
    assert d(x).shape == (5, 8) and d.out_features == 8
    trunk = DCGANInference(1, size, [8, 16, 32], pointwise, None)
    assert trunk(x).shape == (5, trunk.out_features)


def test_affine_mnist_inference_matches_the_code_layout():
    d = DCGANInference(1, 40, [64, 128, 256], True, 256)
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (64, 4, 2),
        (128, 4, 2),
        (128, 1, 1),
        (256, 4, 2),
        (256, 1, 1),
        (256, 5, 1),
    ]
    bns = [m for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 5  # all but the first conv, including the query layer


def test_generator_rejects_sizes_it_cannot_reach():
    with pytest.raises(ValueError):
        DCGANGenerator(4, 1, 30, [16, 8, 4], False, 0)


def test_resnet_shapes():
    g = ResNetGenerator(4, 3, 32, 8)
    x = g(torch.randn(3, 4))
    assert x.shape == (3, 3, 32, 32)
    assert ResNetInference(3, 8, 6)(x).shape == (3, 6)
    trunk = ResNetInference(3, 8, None)
    assert trunk(x).shape == (3, trunk.out_features) == (3, 8)


@pytest.mark.parametrize("resample,size", [("down", 4), ("up", 16), ("none", 8)])
def test_res_block_resampling(resample, size):
    assert ResBlock(4, resample)(torch.randn(2, 4, 8, 8)).shape == (2, 4, size, size)


def test_weights_are_truncated_normal():
    d = DCGANInference(1, 28, [64, 128, 256], False, 256)
    w = torch.cat([m.weight.flatten() for m in d.modules() if isinstance(m, torch.nn.Conv2d)])
    assert w.abs().max() <= 0.04 + 1e-6
    assert 0.012 < w.std().item() < 0.02
