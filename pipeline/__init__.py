"""Replication pipeline for GAN, EBGAN, AAN, MemoryGAN and DCD.

Data flows one way: params.yaml -> run list -> train -> samples -> scores ->
aggregate -> claims/figures -> report. Heavy libraries (torch, pandas) are
imported lazily so that `plan` and parameter validation stay fast.
"""

__version__ = "0.1.0"
