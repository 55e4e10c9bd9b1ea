"""Hyperparameters of EBGAN with an autoencoder discriminator (Zhao, Mathieu & LeCun, ICLR 2017).

Defaults are the paper's best MNIST grid configuration (appendix C, figure 4b):
nLayerG 5, nLayerD 2, sizeG 800, sizeD 1024, no dropout, Adam for D and G,
lr 0.001, margin 10; EBGAN-PT adds the pulling-away term with weight 0.1.
The paper publishes no official code; values it leaves open are ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.hparams import MAX_LR, hp


@dataclass(frozen=True)
class EBGANHParams:
    arch: Literal["fc", "conv64"] = hp(
        "fc", "paper", note="fc: Table 1's fully connected nets (images or 2D points); conv64: appendix C's "
        "DCGAN-style G + conv autoencoder D for 64x64 images"
    )
    z_dim: int = hp(100, "ours", gt=0, note="the paper does not state the noise size")
    z_dist: Literal["normal", "uniform"] = hp("normal", "ours", note="Sec. 2 names N(0, 1) as an example")
    g_layers: int = hp(5, "paper", ge=1, le=16, note="nLayerG: weight layers of G (fc)")
    g_size: int = hp(800, "paper", gt=0, note="sizeG: units per hidden layer of G (fc)")
    d_layers: int = hp(2, "paper", ge=2, le=16, note="nLayerD: encoder layers + the one-layer decoder (fc)")
    d_size: int = hp(1024, "paper", gt=0, note="sizeD: units per encoder layer (fc)")
    d_dropout: bool = hp(False, "paper", note="dropoutD (fc)")
    d_dropout_rate: float = hp(0.5, "ours", ge=0, lt=1, note="rate when dropoutD is on; not published")
    batchnorm: bool = hp(True, "paper", note="BN after every weight layer but G's output and D's input")
    g_widths: list[int] = hp([512, 256, 128, 64], "ours", gt=0, note="conv64 G maps (DCGAN's)")
    enc_widths: list[int] = hp([64, 128, 256], "paper", gt=0, note="conv64 encoder (64)4c2s-(128)4c2s-(256)4c2s")
    dec_widths: list[int] = hp([128, 64], "paper", gt=0, note="conv64 decoder (128)4c2s-(64)4c2s-(C)4c2s")
    g_init_std: float = hp(0.02, "paper", gt=0, note="G weights N(0, std^2), biases 0 (appendix C)")
    d_init_std: float = hp(0.002, "paper", gt=0, note="D weights N(0, std^2), biases 0; read as a std")
    energy: Literal["norm", "mse"] = hp(
        "norm", "paper", note="norm: D(x) = ||Dec(Enc(x)) - x||_2 (Eq. 13, appendix D); mse: per-sample "
        "mean squared error, the common reading of Fig. 1's 'MSE' box"
    )
    margin: float = hp(10.0, "paper", gt=0, note="m in Eq. 1; 20 (CelebA) and 80 (LSUN) at 64x64")
    pt_weight: float = hp(0.0, "paper", ge=0, note="lambda_PT; 0.1 for EBGAN-PT (Sec. 2.4)")
    lr: float = hp(0.001, "paper", gt=0, le=MAX_LR, note="Adam for D and G (Sec. 4.1)")
    adam_betas: list[float] = hp([0.5, 0.999], "ours", ge=0, lt=1, note="DCGAN's beta1 = 0.5, which the paper follows")

    def validate(self) -> None:
        if len(self.adam_betas) != 2:
            raise ValueError("adam_betas needs two values")
        if self.arch == "conv64" and len(self.dec_widths) + 1 != len(self.enc_widths):
            raise ValueError("dec_widths needs one entry fewer than enc_widths")
