"""The stored data-quality axis: each source's state per run, and its last good fingerprint."""
