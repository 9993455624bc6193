"""Judging a run's sources: the structural fingerprint of a document, and each source's state."""
