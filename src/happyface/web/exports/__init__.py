"""Exports for other tools: the classic HappyFace XML, Prometheus `/metrics`, and their routes."""
