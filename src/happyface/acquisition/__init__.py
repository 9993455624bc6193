"""Acquisition: fetching the sources of a run and archiving what came in."""
