"""Networks of AAN (Arici & Celikyilmaz 2016): D = C(F(x)) split at the visible layer.

- F (features) [paper]: four strided 5x5 convolutions with LeakyReLU, the
  last one's maps flattened into a fully connected layer of the RBM's visible
  size, then tanh (spin visible units) or LeakyReLU (gaussian visible units).
  With ``batchnorm``, BN on every hidden layer of F but the first (DCGAN's
  rule, ours), never on the visible layer: D's whole signal passes through
  that layer, and normalising it per all-real or all-fake batch hands D the
  batch's origin (it separated them outright and drove G to saturated noise).
  F's BN always uses the statistics of the batch it is given (no running
  averages: D only ever sees all-real or all-fake batches).
- C (classifier): the remaining layers of D, LeakyReLU hidden layers to one logit.
- G [paper: ReLU, DCGAN-like]: a fully connected layer from the visible size to
  the smallest feature map of F, then fractionally strided 5x5 convolutions
  mirroring F's resolutions, BN + ReLU, tanh output (images in [-1, 1]).

The ``mlp`` variants (ours, for the CPU smoke profile) keep the same split with
fully connected layers.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

KERNEL, STRIDE, PAD = 5, 2, 2


def conv_sizes(size: int, layers: int) -> list[int]:
    """Spatial sizes through ``layers`` 5x5 stride-2 convolutions with padding 2."""
    sizes = [size]
    for _ in range(layers):
        sizes.append((sizes[-1] + 2 * PAD - KERNEL) // STRIDE + 1)
    return sizes


def _visible_layer(width: int, visible: int, visible_units: str, leak: float) -> list[nn.Module]:
    """Linear to the visible layer, then tanh (spin units) or LeakyReLU (gaussian units)."""
    return [nn.Linear(width, visible), nn.Tanh() if visible_units == "spin" else nn.LeakyReLU(leak)]


def conv_features(shape: Sequence[int], channels: Sequence[int], visible: int, visible_units: str,
                  batchnorm: bool, leak: float) -> nn.Sequential:
    c_in, size = shape[0], shape[1]
    layers: list[nn.Module] = []
    for i, c_out in enumerate(channels):
        bn = batchnorm and i > 0
        layers.append(nn.Conv2d(c_in, c_out, KERNEL, STRIDE, PAD, bias=not bn))
        if bn:
            layers.append(nn.BatchNorm2d(c_out, track_running_stats=False))
        layers.append(nn.LeakyReLU(leak))
        c_in = c_out
    last = conv_sizes(size, len(channels))[-1]
    layers.append(nn.Flatten())
    layers += _visible_layer(c_in * last * last, visible, visible_units, leak)
    return nn.Sequential(*layers)


def mlp_features(dim: int, hidden: Sequence[int], visible: int, visible_units: str, batchnorm: bool,
                 leak: float) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = dim
    for i, h in enumerate(hidden):
        bn = batchnorm and i > 0
        layers.append(nn.Linear(width, h, bias=not bn))
        if bn:
            layers.append(nn.BatchNorm1d(h, track_running_stats=False))
        layers.append(nn.LeakyReLU(leak))
        width = h
    layers += _visible_layer(width, visible, visible_units, leak)
    return nn.Sequential(*layers)


def classifier(visible: int, hidden: Sequence[int], leak: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = visible
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(leak)]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def conv_generator(visible: int, shape: Sequence[int], channels: Sequence[int], batchnorm: bool) -> nn.Sequential:
    """Mirror of :func:`conv_features` with the same ``channels`` (deepest first in G)."""
    c_out, size = shape[0], shape[1]
    sizes = conv_sizes(size, len(channels))
    widths = list(reversed(channels))
    layers: list[nn.Module] = [nn.Linear(visible, widths[0] * sizes[-1] ** 2, bias=not batchnorm),
                               nn.Unflatten(1, (widths[0], sizes[-1], sizes[-1]))]
    if batchnorm:
        layers.append(nn.BatchNorm2d(widths[0]))
    layers.append(nn.ReLU())
    targets = list(reversed(sizes[:-1]))
    for i, target in enumerate(targets):
        last = i == len(targets) - 1
        c_next = c_out if last else widths[i + 1]
        s_in = sizes[-1 - i]
        extra = target - ((s_in - 1) * STRIDE - 2 * PAD + KERNEL)  # output_padding to reach F's size
        bn = batchnorm and not last
        layers.append(nn.ConvTranspose2d(widths[i], c_next, KERNEL, STRIDE, PAD, output_padding=extra, bias=not bn))
        if not last:
            if bn:
                layers.append(nn.BatchNorm2d(c_next))
            layers.append(nn.ReLU())
    layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def mlp_generator(visible: int, hidden: Sequence[int], shape: Sequence[int], batchnorm: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = visible
    for h in hidden:
        layers.append(nn.Linear(width, h, bias=not batchnorm))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.ReLU())
        width = h
    dim = 1
    for s in shape:
        dim *= s
    layers += [nn.Linear(width, dim), nn.Tanh(), nn.Unflatten(1, tuple(shape))]
    return nn.Sequential(*layers)


def init_normal_(module: nn.Module, std: float) -> None:
    """DCGAN's initialisation: conv / linear weights N(0, std^2), BN scales N(1, std^2), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
