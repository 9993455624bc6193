"""The `happyface` command: parses arguments, calls the package, shows messages, not tracebacks."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import ConfigError, HappyFaceError
from .stopping import Stopped

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader went away


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (also the source of the CLI reference)."""
    parser = argparse.ArgumentParser(
        prog="happyface", description="Meta-monitoring for computing sites."
    )
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path(os.environ.get("HAPPYFACE_CONFIG", "happyface.toml")),
        help="site configuration file or its folder "
        "(default: $HAPPYFACE_CONFIG or ./happyface.toml)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("check", help="validate the configuration and print a summary")
    sub.add_parser("modules", help="list the installed module types")
    skeleton = sub.add_parser("module-config", help="print a commented config skeleton for a type")
    skeleton.add_argument("type", help="module type, see `happyface modules`")
    init = sub.add_parser("init", help="create a new site folder that validates and runs as is")
    init.add_argument("dir", type=Path, help="folder to create")
    init.add_argument("--title", default="My site", help="the site's title")
    sub.add_parser("acquire", help="run one acquisition now; non-zero exit if it failed")
    serve = sub.add_parser("serve", help="run the scheduler and the web dashboard")
    serve.add_argument(
        "--no-acquire",
        action="store_true",
        help="serve the dashboard only (another process acquires)",
    )
    serve.add_argument("--host", help="address to bind (default: [site.web] host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: [site.web] port)")
    sub.add_parser("cleanup", help="apply the retention settings now")
    demo = sub.add_parser("demo", help="run a simulated site offline: sources, runs, dashboard")
    demo.add_argument("--port", type=int, default=8080, help="dashboard port (default 8080)")
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("happyface-demo"),
        help="folder for the demo's config and database (default ./happyface-demo)",
    )
    demo.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log every run and module (default: warnings only)",
    )
    return parser


#: subcommand -> its function in `happyface.cli.commands`, imported only when a command runs
COMMANDS: dict[str, str] = {
    "check": "check",
    "modules": "modules",
    "module-config": "module_config",
    "init": "init",
    "acquire": "acquire",
    "serve": "serve",
    "cleanup": "cleanup",
    "demo": "demo",
}


def command(name: str) -> Callable[[argparse.Namespace], int]:
    """The function of subcommand `name`."""
    from . import commands

    function: Callable[[argparse.Namespace], int] = getattr(commands, COMMANDS[name])
    return function


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `happyface` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return command(args.command)(args)
    except ConfigError as exc:
        print(f"happyface: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except HappyFaceError as exc:
        print(f"happyface: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Stopped as stop:
        return stop.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def run() -> None:
    """The console script: `main`, and a quiet exit when the output's reader went away."""
    try:
        code = main()
        sys.stdout.flush()  # a reader that left (`| head -1`) shows here, not at exit
    except BrokenPipeError:
        _discard_output()
        code = EXIT_BROKEN_PIPE
    sys.exit(code)


def _discard_output() -> None:
    """Point stdout and stderr at /dev/null, so flushing them at exit raises nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a stream without a file descriptor
            os.dup2(devnull, stream.fileno())


if __name__ == "__main__":
    run()
