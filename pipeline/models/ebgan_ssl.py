"""EBGAN-LN and the ladder-network baseline on permutation-invariant MNIST (Zhao et al. 2017, Sec. 4.2).

The discriminator is a bottom-layer-cost ladder network (pipeline/nets/ladder.py)
whose energy is its own denoising cost, D(x) = lambda ||z^(0)(x~) - x||^2.

- LN baseline (``adversarial: false``): minimise
  CE(labelled) + mean_x D(x) over a labelled and an unlabelled minibatch.
- EBGAN-LN: add Eq. 1's per-sample hinge on generated samples,
  L_D = CE + mean_x D(x) + mean_z [m_t - D(G(z))]^+, L_G = mean_z D(G(z)),
  with the margin decaying linearly, m_t = m_0 max(0, 1 - t / T_m)
  (appendix D: 16 -> 0 over 60k steps); after ``g_steps`` G is frozen and the
  discriminator trains on as a plain LN (m = 0 makes the hinge vanish).

Learning rates are constant, then decay linearly to 0 between
``lr_decay_start`` and ``lr_decay_end`` (appendix D). The labelled subset is
balanced over classes and drawn from the training set with the run's seed, so
the LN and EBGAN-LN runs of one seed share it. Test error: the clean encoder
with population batch-norm statistics fitted on the whole training set.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.data.sources import DataSource
from pipeline.hparams.ebgan_ssl import EBGANSSLHParams
from pipeline.models.base import Evaluation, Model, noise, set_requires_grad
from pipeline.nets.fc_bn import fc_generator
from pipeline.nets.ladder import Ladder
from pipeline.nets.mlp import init_normal_
from pipeline.nets.optim import adam
from pipeline.profiling import phase

LABEL_SEED_OFFSET = 104_729  # labelled subset RNG = run seed + offset [ours]


def balanced_subset(labels: torch.Tensor, n: int, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of ``n`` examples, ``n // num_classes`` per class (the first ``n % num_classes``
    classes get one more), each class's drawn uniformly without replacement."""
    labels = labels.cpu()
    chosen = []
    for c in range(num_classes):
        pool = (labels == c).nonzero().flatten()
        k = n // num_classes + (c < n % num_classes)
        if k > len(pool):
            raise ValueError(f"{n} labels need {k} examples of class {c}; the training set has {len(pool)}")
        chosen.append(pool[torch.randperm(len(pool), generator=generator)[:k]])
    return torch.cat(chosen)


def linear_decay(step: int, start: int, end: int) -> float:
    """1 before ``start``, falling linearly to 0 at ``end``."""
    if step < start:
        return 1.0
    return max(0.0, (end - step) / max(end - start, 1))


class EBGANSSL(Model):
    def __init__(self, hp: EBGANSSLHParams, data: DataSource, device: torch.device):
        super().__init__(hp, data, device)
        spec = data.spec
        arrays = data.train_arrays()
        if not spec.is_image or spec.num_classes < 2 or arrays is None:
            raise ValueError("ebgan_ssl needs a finite labelled image dataset (e.g. MNIST)")
        x, y = arrays
        gen = torch.Generator().manual_seed(torch.initial_seed() + LABEL_SEED_OFFSET)
        idx = balanced_subset(y, hp.n_labels, spec.num_classes, gen).to(x.device)
        self.labelled = (x[idx].flatten(1).to(device), y[idx].to(device))
        self.nets["D"] = Ladder([spec.dim, *hp.hidden, spec.num_classes], hp.noise_std).to(device)
        self.optimizers = {"D": adam(self.nets["D"].parameters(), hp.lr, (hp.adam_beta1, 0.999))}
        if hp.adversarial:
            g = nn.Sequential(fc_generator(hp.z_dim, hp.g_layers, hp.g_size, spec.dim, tanh=False), nn.Sigmoid())
            init_normal_(g, hp.g_init_std)
            self.nets["G"] = g.to(device)
            self.optimizers["G"] = adam(g.parameters(), hp.lr_g, (hp.adam_beta1, 0.999))

    def energy(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-sample energy lambda ||z^(0) - x||^2, logits of the corrupted path) of flat ``x``."""
        logits, recon = self.nets["D"].corrupted(x)
        return self.hp.recon_weight * (recon - x).pow(2).sum(1), logits

    def margin_at(self, step: int) -> float:
        return self.hp.margin * max(0.0, 1.0 - step / self.hp.margin_decay_steps)

    def _set_lr(self, step: int) -> None:
        factor = linear_decay(step, self.hp.lr_decay_start, self.hp.lr_decay_end)
        for name, opt in self.optimizers.items():
            for group in opt.param_groups:
                group["lr"] = (self.hp.lr if name == "D" else self.hp.lr_g) * factor

    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        hp = self.hp
        self._set_lr(step)
        lx, ly = self.labelled
        train_g = hp.adversarial and step < hp.g_steps
        with phase("d_step"):
            pick = torch.randint(len(ly), (hp.labelled_batch,), device=self.device)
            batch = torch.cat([lx[pick], x.flatten(1)])
            e_real, logits = self.energy(batch)
            ce = F.cross_entropy(logits[: hp.labelled_batch], ly[pick])
            out = {"ce": ce.detach(), "energy_real": e_real.detach().mean()}
            if train_g:
                margin = self.margin_at(step)
                fake = self.nets["G"](noise(x.shape[0], hp.z_dim, "normal", device=self.device))
                e_fake, _ = self.energy(fake.detach())
                loss_d = ce + e_real.mean() + F.relu(margin - e_fake).mean()  # Eq. 1, hinge per sample
                out.update(energy_fake=e_fake.detach().mean(), margin=torch.tensor(margin))
            else:
                loss_d = ce + e_real.mean()
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()
            out["loss_d"] = loss_d.detach()
        if train_g:
            with phase("g_step"):
                D = self.nets["D"]
                set_requires_grad(D, False)
                loss_g = self.energy(fake)[0].mean()
                self.optimizers["G"].zero_grad(set_to_none=True)
                loss_g.backward()
                self.optimizers["G"].step()
                set_requires_grad(D, True)
                out["loss_g"] = loss_g.detach()
        return out

    @torch.inference_mode()
    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """G's samples for EBGAN-LN; the LN baseline has no generator and no sample set."""
        if not self.hp.adversarial:
            return {}
        G = self.nets["G"].eval()
        out = [G(noise(min(1000, n - s), self.hp.z_dim, "normal", generator, self.device))
               for s in range(0, n, 1000)]
        G.train()
        return {"G": torch.cat(out).view(-1, *self.spec.shape).float().cpu()}

    @torch.inference_mode()
    def evaluate(self, data: DataSource, generator: torch.Generator) -> Evaluation:
        """Test error (a fraction) of the clean encoder, with population statistics fitted
        on the whole training set; also the error on the labelled subset."""
        ladder = self.nets["D"]
        ladder.fit_population_stats(data.train_arrays()[0].to(self.device))
        xt, yt = data.heldout()
        pred = torch.cat([ladder.clean_logits(c.to(self.device)).argmax(1).cpu() for c in xt.split(1000)])
        lx, ly = self.labelled
        lab_pred = ladder.clean_logits(lx).argmax(1)
        return Evaluation(metrics={
            "test_error": (pred != yt).float().mean().item(),
            "labelled_error": (lab_pred != ly).float().mean().item(),
        })
