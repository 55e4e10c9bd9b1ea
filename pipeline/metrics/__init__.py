"""Metrics, domain classifiers and the reference / score stages.

One module per metric family, each a set of pure functions with a header naming
the reference it follows:

- :mod:`~pipeline.metrics.classifier_scores`: Inception Score, EBGAN's I';
- :mod:`~pipeline.metrics.feature_distances`: FID, KID, precision / recall (torch-fidelity);
- :mod:`~pipeline.metrics.modes`: 2D mode metrics, sliced Wasserstein distance;
- :mod:`~pipeline.metrics.parzen`: Parzen-window log-likelihood.

Around them: :mod:`~pipeline.metrics.settings` (the ``scoring:`` defaults table),
:mod:`~pipeline.metrics.registry` (metric names, defaults per data type, extractor
per dataset kind), :mod:`~pipeline.metrics.classifiers` (domain classifiers),
:mod:`~pipeline.metrics.extractors` (torch-fidelity feature extractors),
:mod:`~pipeline.metrics.scoring` (scoring one sample set), and the stages
:mod:`~pipeline.metrics.reference` and :mod:`~pipeline.metrics.score`.
Importing this package imports nothing heavy.
"""
