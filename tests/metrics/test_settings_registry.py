"""The scoring defaults table and the metric registry."""

from __future__ import annotations

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.metrics.registry import (
    DEFAULT_METRICS,
    METRICS,
    data_type,
    extractor_name,
    output_names,
    resolve_metrics,
)
from pipeline.metrics.settings import as_dict, load_settings


def test_defaults_are_the_paper_protocol():
    s = load_settings(None)
    assert (s.n_samples, s.is_splits, s.kid_subsets, s.kid_subset_size, s.kid_degree, s.prd_k) == \
        (50000, 10, 100, 1000, 3, 3)
    assert (s.parzen.n_samples, s.parzen.n_validation, s.parzen.n_sigmas) == (10000, 1000, 10)
    assert (s.parzen.log10_sigma_min, s.parzen.log10_sigma_max) == (-1.0, 0.0)
    assert s.mode_sigmas == 3.0


def test_is_splits_keep_the_protocols_split_size_at_any_sample_count():
    s = load_settings({"n_samples": 2000, "is_splits": 10})  # 200 samples per split
    assert [s.is_splits_for(n) for n in (2000, 1000, 500, 100, 40, 3)] == [10, 5, 2, 1, 1, 1]
    assert load_settings(None).is_splits_for(50000) == 10


def test_overrides_nested_blocks_and_aggregate_keys():
    s = load_settings({"bootstrap_samples": 200, "ci_level": 0.9, "n_samples": 100,
                       "parzen": {"n_validation": 10}, "classifier": {"epochs": 2}})
    assert s.n_samples == 100 and s.parzen.n_validation == 10 and s.parzen.n_samples == 10000
    assert s.classifier.epochs == 2 and as_dict(s)["classifier"]["epochs"] == 2


@pytest.mark.parametrize("bad, where", [({"is_split": 3}, "is_split"), ({"kid_subsets": 0}, "kid_subsets"),
                                        ({"parzen": {"sigmas": 3}}, "scoring.parzen"),
                                        ({"classifier": {"lr": -1.0}}, "scoring.classifier.lr")])
def test_bad_settings_name_the_key(bad, where):
    with pytest.raises(ConfigError, match=where):
        load_settings(bad)


@pytest.mark.parametrize("profile", ["smoke", "ci", "paper"])
def test_profile_scoring_blocks_are_valid(repo, profile):
    params = yaml.safe_load((repo / "profiles" / "params" / f"{profile}.yaml").read_text())
    load_settings(params["scoring"])


def test_metric_names_and_outputs():
    assert set(METRICS) == {"is", "is_mod", "fid", "kid", "prd", "parzen", "modes", "swd"}
    assert output_names(["is", "prd", "parzen"], "G") == ["G/is", "G/is_std", "G/precision", "G/recall",
                                                        "G/parzen_ll", "G/parzen_se"]
    assert output_names(["modes"], "pixel") == ["pixel/modes", "pixel/hq_fraction", "pixel/kl_uniform"]
    assert output_names(["swd", "is_mod", "fid", "kid"], "G") == ["G/swd", "G/is_mod", "G/fid", "G/kid"]


def test_data_types_extractors_and_defaults():
    assert [data_type(k) for k in ("ring8", "grid25", "swissroll", "mnist_offline")] == \
        ["mixture", "mixture", "points", "image"]
    assert extractor_name("cifar10") == "inception-v3-compat"
    assert extractor_name("affine_mnist") == extractor_name("sklearn_digits") == "domain-classifier"
    assert extractor_name("ring8") is None
    assert resolve_metrics(None, "swissroll", "e") == DEFAULT_METRICS["points"] == ("swd",)
    assert resolve_metrics({"n": 10}, "mnist", "e") == DEFAULT_METRICS["image"]
    assert resolve_metrics({"metrics": ["parzen", "is"]}, "mnist", "e") == ("parzen", "is")


def test_inapplicable_or_unknown_metrics_are_config_errors():
    with pytest.raises(ConfigError, match="modes.*does not apply to swissroll"):
        resolve_metrics({"metrics": ["modes"]}, "swissroll", "experiments.x")
    with pytest.raises(ConfigError, match="experiments.x.score.metrics: unknown metric 'inception'"):
        resolve_metrics({"metrics": ["inception"]}, "mnist", "experiments.x")


def test_plan_expansion_checks_score_blocks(tiny_params):
    from pipeline.config import make_plan

    tiny_params["experiments"]["gan_ring8"]["score"] = {"metrics": ["fid"]}
    with pytest.raises(ConfigError, match="experiments.gan_ring8.score.metrics: 'fid' does not apply"):
        make_plan(tiny_params)


def test_classifier_overrides_per_dataset():
    s = load_settings({"classifier": {"epochs": 20, "width": 8},
                       "classifier_overrides": {"affine_mnist": {"epochs": 8}}})
    assert (s.classifier_for("affine_mnist").epochs, s.classifier_for("affine_mnist").width) == (8, 8)
    assert s.classifier_for("mnist32") == s.classifier
    with pytest.raises(ConfigError, match="scoring.classifier_overrides.affine_mnist: unknown key"):
        load_settings({"classifier_overrides": {"affine_mnist": {"epoch": 8}}})
    with pytest.raises(ConfigError, match="scoring.classifier_overrides.x = 3: expected a mapping"):
        load_settings({"classifier_overrides": {"x": 3}})
