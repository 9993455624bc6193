"""Fault injection: real processes, real servers, invariants that must survive every fault."""
