"""``python -m pipeline reference``: classifier, cached real statistics and ceilings for
images and 2D data; the Inception path with a registered stand-in extractor."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import yaml
from torch import nn
from torch_fidelity import FeatureExtractorBase, register_feature_extractor
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from pipeline.cli import main
from pipeline.data.manifest import sha256_file, write_manifest
from pipeline.metrics import registry
from pipeline.metrics.classifiers import load_classifier
from pipeline.metrics.registry import METRICS


def test_image_reference_contents(scoring_workspace):
    ref_dir = scoring_workspace / "refs" / "mnist_subset"
    info = json.loads((ref_dir / "reference.json").read_text())
    assert info["dataset"] == "mnist_subset" and info["kind"] == "mnist_offline" and info["data_type"] == "image"
    assert info["extractor"] == "domain-classifier" and info["extractor_info"]["weights"] == "classifier.pt"
    assert 0.5 < info["classifier_accuracy"] <= 1.0  # one tiny epoch; the smoke recipe reaches >= 0.98
    expected = {out for name, m in METRICS.items() if "image" in m.data_types for out in m.outputs}
    assert set(info["real"]) == expected and all(math.isfinite(v) for v in info["real"].values())
    assert 1.0 < info["real"]["is"] <= 10.0 and info["real"]["precision"] > 0.5
    assert info["real_n"]["is"] == 150 and info["real_n"]["fid"] == 150 and info["real_n"]["parzen_test"] == 900
    assert info["scoring"]["n_samples"] == 150 and info["profile"] == "test"
    for name, digest in info["files"].items():
        assert sha256_file(ref_dir / name) == digest
    with np.load(ref_dir / "real_features.npz") as z:
        features, mu, sigma = z["features"], z["mu"], z["sigma"]
    assert features.shape == (1000, 16)
    np.testing.assert_allclose(mu, features.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sigma, np.cov(features.astype(np.float64), rowvar=False), rtol=1e-4, atol=1e-6)
    _, meta = load_classifier(ref_dir / "classifier.pt")
    assert meta["heldout_accuracy"] == info["classifier_accuracy"]


def test_mixture_reference_contents(scoring_workspace):
    ref_dir = scoring_workspace / "refs" / "ring8"
    info = json.loads((ref_dir / "reference.json").read_text())
    manifest = json.loads((scoring_workspace / "data" / "ring8" / "manifest.json").read_text())
    assert info["mixture"] == {"centres": manifest["centres"], "std": manifest["std"]}
    assert info["extractor"] == "" and "classifier_accuracy" not in info
    real = info["real"]
    assert real["modes"] == 8 and real["hq_fraction"] > 0.95 and real["kl_uniform"] < 0.1
    assert set(real) == {"modes", "hq_fraction", "kl_uniform", "swd", "parzen_ll", "parzen_se"}
    np.testing.assert_array_equal(np.load(ref_dir / "real_points.npy"),
                                  np.load(scoring_workspace / "data" / "ring8" / "x_test.npy"))


def test_cli_rebuilds_in_place(in_workspace, capsys):
    out = in_workspace / "refs" / "ring8_again"
    for _ in range(2):
        assert main(["reference", "ring8", "--data", "data/ring8", "--out", str(out)]) == 0
    assert "reference ring8 ->" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["real_points.npy", "reference.json"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".tmp")]
    again = json.loads((out / "reference.json").read_text())["real"]
    assert again == json.loads((in_workspace / "refs" / "ring8" / "reference.json").read_text())["real"]


def test_unknown_dataset_is_a_config_error(in_workspace, capsys):
    assert main(["reference", "cifar10", "--data", "data/x", "--out", "refs/x"]) == 2
    assert "dataset 'cifar10' is not in params.yaml" in capsys.readouterr().err


# --------------------------------------------------------------------------- Inception path

STAND_IN = "test-stand-in-rgb"


class StandIn(FeatureExtractorBase):
    """A small fixed RGB network in the role of Inception-v3 (uint8 RGB in, pool + logits out)."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.conv = nn.Conv2d(3, 6, 3, stride=2)
        self.fc = nn.Linear(6, 4)
        self.load_state_dict(torch.load(feature_extractor_weights_path, weights_only=True))

    def forward(self, x):
        assert x.dtype == torch.uint8 and x.shape[1] == 3
        pool = torch.relu(self.conv(x.float() / 127.5 - 1)).mean((2, 3))
        out = {"pool": pool, "logits": self.fc(pool)}
        return tuple(out[k] for k in self.features_list)

    @staticmethod
    def get_provided_features_list():
        return "pool", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"isc": "logits", "fid": "pool", "kid": "pool", "prc": "pool"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 3, 8, 8, dtype=torch.uint8)


@pytest.fixture
def cifar_workspace(tmp_path, monkeypatch, tiny_params):
    """A CIFAR-10-kind dataset in the stored format, a GAN job on it, and a stand-in
    registered in place of Inception-v3."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "cifar_tiny"
    folder.mkdir(parents=True)
    arrays = {"x_train": rng.integers(0, 256, (300, 3, 16, 16), dtype=np.uint8), "y_train": rng.integers(0, 10, 300),
              "x_test": rng.integers(0, 256, (200, 3, 16, 16), dtype=np.uint8), "y_test": rng.integers(0, 10, 200)}
    for key, arr in arrays.items():
        np.save(folder / f"{key}.npy", arr)
    write_manifest(folder, "cifar_tiny", "cifar10", {}, {"source": "test"})
    if STAND_IN not in FEATURE_EXTRACTORS_REGISTRY:
        register_feature_extractor(STAND_IN, StandIn)
    monkeypatch.setattr(registry, "INCEPTION", STAND_IN)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty_hub"))
    torch.manual_seed(0)
    weights = tmp_path / "stand_in.pth"
    torch.save({"conv.weight": torch.randn(6, 3, 3, 3), "conv.bias": torch.zeros(6),
                "fc.weight": torch.randn(4, 6), "fc.bias": torch.zeros(4)}, weights)
    params = tiny_params
    params["datasets"] = {"cifar_tiny": {"kind": "cifar10"}}
    params["scoring"] = {"n_samples": 60, "is_splits": 2, "kid_subsets": 2, "kid_subset_size": 50,
                         "parzen": {"n_samples": 60, "n_validation": 50}}
    params["experiments"] = {"gan_cifar": {
        "paper": "dcd", "model": "gan", "dataset": "cifar_tiny", "seeds": [0], "hparams": {"g_hidden": [8], "d_hidden": [4]},
        "train": {"steps": 2, "batch_size": 10}, "sample": {"n": 60},
        "score": {"metrics": ["is", "is_mod", "fid", "kid", "prd", "parzen"]}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    monkeypatch.chdir(tmp_path)
    return tmp_path, weights


def test_inception_path_without_weights_says_how_to_provide_them(cifar_workspace, capsys):
    assert main(["reference", "cifar_tiny", "--data", "data/cifar_tiny", "--out", "refs/cifar_tiny"]) == 2
    err = capsys.readouterr().err
    assert "Inception-v3 weights" in err and "scoring.inception_weights" in err and "https://" in err
    assert not (cifar_workspace[0] / "refs" / "cifar_tiny").exists()


def test_inception_path_with_a_registered_extractor(cifar_workspace):
    root, weights = cifar_workspace
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["scoring"]["inception_weights"] = str(weights)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert main(["reference", "cifar_tiny", "--data", "data/cifar_tiny", "--out", "refs/cifar_tiny"]) == 0
    info = json.loads((root / "refs" / "cifar_tiny" / "reference.json").read_text())
    assert info["extractor"] == STAND_IN and "classifier_accuracy" not in info
    assert info["extractor_info"] == {"weights": str(weights), "weights_sha256": sha256_file(weights),
                                      "layers": {"logits": "logits", "features": "pool"}, "feature_dim": 6}
    assert all(math.isfinite(v) for v in info["real"].values())
    assert main(["train", "gan_cifar.0", "--data", "data/cifar_tiny", "--out", "runs/gan_cifar/shard0"]) == 0
    assert main(["score", "gan_cifar.0", "--runs", "runs/gan_cifar/shard0", "--data", "data/cifar_tiny",
                 "--ref", "refs/cifar_tiny", "--out", "scores/gan_cifar/shard0.json"]) == 0
    entry = json.loads((root / "scores" / "gan_cifar" / "shard0.json").read_text())["runs"][0]
    assert entry["provenance"]["extractor"] == STAND_IN
    assert {k for k, v in entry["metrics"].items() if v is not None} >= {
        "G/is", "G/is_std", "G/is_mod", "G/fid", "G/kid", "G/precision", "G/recall", "G/parzen_ll", "G/parzen_se"}


def test_no_parzen_ceiling_when_the_heldout_split_is_too_small(in_workspace, capsys):
    params = yaml.safe_load((in_workspace / "params.yaml").read_text())
    params["scoring"]["parzen"]["n_validation"] = 5000
    (in_workspace / "big_validation.yaml").write_text(yaml.safe_dump(params))
    assert main(["reference", "ring8", "--params", "big_validation.yaml", "--data", "data/ring8",
                 "--out", "refs/ring8_no_parzen"]) == 0
    assert "no Parzen ceiling" in capsys.readouterr().err
    info = json.loads((in_workspace / "refs" / "ring8_no_parzen" / "reference.json").read_text())
    assert set(info["real"]) == {"modes", "hq_fraction", "kl_uniform", "swd"} and "parzen" not in info["real_n"]
