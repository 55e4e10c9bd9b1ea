"""2D toy distributions: Gaussian mixtures on a ring / grid, and the Swiss roll.

Mixtures are equal-weight isotropic Gaussians N(mu_k, s^2 I).

- ring-8, ``dcd`` geometry (DCD / WGAN-GP toy code): mu_k = (2/1.414)(cos 2pi k/8,
  sin 2pi k/8), s = 0.02/1.414.
- ring-8, ``pacgan`` geometry (VEEGAN / PacGAN): radius 2, s = 0.02.
- grid-25, ``dcd`` geometry: mu on {-2, -1, 0, 1, 2}^2, s = 0.05 (as listed in our
  spec sheet for DCD's code).
- grid-25, ``pacgan`` geometry: mu on {-4, -2, 0, 2, 4}^2, s = 0.05.
- Swiss roll: sklearn's ``make_swiss_roll(noise)`` coordinates (x, z) / scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RING_RADIUS = {"dcd": 2.0 / 1.414, "pacgan": 2.0}
RING_STD = {"dcd": 0.02 / 1.414, "pacgan": 0.02}
GRID_STEP = {"dcd": 1.0, "pacgan": 2.0}
GRID_STD = {"dcd": 0.05, "pacgan": 0.05}


@dataclass(frozen=True)
class Mixture:
    centres: np.ndarray  # (K, 2)
    std: float

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n points and the index of the component each came from."""
        k = rng.integers(0, len(self.centres), size=n)
        x = self.centres[k] + self.std * rng.standard_normal((n, 2))
        return x.astype(np.float32), k.astype(np.int64)


def ring8(geometry: str) -> Mixture:
    angles = 2 * math.pi * np.arange(8) / 8
    centres = RING_RADIUS[geometry] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Mixture(centres, RING_STD[geometry])


def grid25(geometry: str) -> Mixture:
    axis = GRID_STEP[geometry] * np.arange(-2, 3)
    centres = np.array([(x, y) for x in axis for y in axis], dtype=np.float64)
    return Mixture(centres, GRID_STD[geometry])


def mixture(kind: str, geometry: str) -> Mixture:
    return {"ring8": ring8, "grid25": grid25}[kind](geometry)


def swissroll(n: int, noise: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """sklearn.datasets.make_swiss_roll restricted to its (x, z) plane, divided by ``scale``:
    t ~ 1.5 pi (1 + 2 U(0,1)); (x, z) = (t cos t, t sin t) + noise N(0, I)."""
    t = 1.5 * math.pi * (1 + 2 * rng.random(n))
    x = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) + noise * rng.standard_normal((n, 2))
    return (x / scale).astype(np.float32)
