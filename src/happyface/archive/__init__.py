"""The archive of raw inputs: one zip per run, written while the run goes and published with it.

`runs.Archive` is the whole archive (what the web reads and retention cleans); `write` and
`run_file` are how one run fills its file; `folders` reads the layout of older versions.
"""
