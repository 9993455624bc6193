"""The `happyface` command and the processes it runs: acquisition, the server, maintenance.

`main` parses arguments and dispatches to `commands`; `assembly` builds a site's parts (store,
fetcher, archive, runner, scheduler) for the commands and the tests; `serve` runs the scheduler and
the dashboard in one process. Nothing outside this package imports it.
"""
