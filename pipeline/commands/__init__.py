"""One module per CLI verb: ``add_arguments(parser)`` and ``run(args) -> int``.
Heavy imports (torch, pandas) happen inside ``run``."""
