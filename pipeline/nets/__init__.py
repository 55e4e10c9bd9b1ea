"""Network building blocks shared by the papers' models."""
