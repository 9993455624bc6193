"""Fault injection: real processes, real servers, invariants that must survive every fault.

Scheduling: kill -9 at 31 random moments per session (9 of `acquire` and 4 of `serve` on each of
SQLite and PostgreSQL, 5 in a high-availability pair), a database cut off mid-run, stop signals
and closed pipes. The moments come from a seeded random source whose seed each test prints;
HAPPYFACE_FAULT_SEED=<seed> replays a failure.
"""
