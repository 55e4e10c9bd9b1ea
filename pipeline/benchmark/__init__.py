"""The benchmark suite behind ``python -m pipeline bench`` (results: reports/bench.json, bench.md).

One module per measurement:

- :mod:`~pipeline.benchmark.peak`: the machine's matmul peak (GFLOP/s), measured in the same run;
- :mod:`~pipeline.benchmark.training`: per (model, dataset) of a profile, training images/s of the
  pipeline's path and of the plain reference port (bench/reference/) at identical numerics, the
  time split between phases, achieved GFLOP/s and peak resident memory;
- :mod:`~pipeline.benchmark.metrics`: images/s through the feature extractor, ours vs
  torch-fidelity's default path on the same inputs;
- :mod:`~pipeline.benchmark.workflow`: no-op ``dvc repro``, ``snakemake -n`` and the end-to-end
  default-profile wall time;
- :mod:`~pipeline.benchmark.scaling`: step time and memory against batch size, image size and
  MemoryGAN's memory size, with a paper-profile projection;
- :mod:`~pipeline.benchmark.render`: bench.md from bench.json.

Speeds are compared as ratios measured in one run, in alternating rounds (these
machines are noisy); nothing here asserts a time.
"""
