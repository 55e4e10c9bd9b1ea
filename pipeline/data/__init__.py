"""Data layer: dataset kinds (``kinds``), fetching with checksums (``fetch``,
``manifest``), on-disk format readers (``formats``), in-memory sources batched
by index (``sources``) and ``loader.open_dataset``. Kept import-light: only
``kinds`` is needed to validate params.yaml."""
