"""Plots of stored history: curves as JSON for the page, and the same curves as PNG or SVG."""
