"""The ``invswarm`` command's entry point: SIGINT and SIGTERM stop a solve (``solve``,
``roll``) with its best plan.

The first of them sets the run's stop token (status ``interrupted``): the result is written as
usual and the exit code is 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as
shells report a process ended by it. A second signal ends the command at once, with that code.
Ctrl-C on a terminal reaches the whole process group: island workers and the exact solver's
process leave it to this process (they ignore SIGINT once started). Other commands end on
Ctrl-C with code 130 and no traceback. Only this entry point handles signals: ``cli.main``
called from other code, and the library, never do.
"""

from __future__ import annotations

import signal
import sys

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Interrupt:
    """The signal handler: stop on the first signal, exit on the second."""

    def __init__(self, stop) -> None:
        self.stop = stop
        self.code = 0

    def __call__(self, signum, frame) -> None:
        if self.code:
            raise SystemExit(self.code)
        self.code = 128 + signum
        self.stop.stop("interrupted")


def main(argv: list[str] | None = None) -> None:
    from .cli import main as cli_main
    from .termination import StopToken

    argv = sys.argv[1:] if argv is None else argv
    stop = StopToken()
    caught = _Interrupt(stop)
    if argv[:1] in (["solve"], ["roll"]):
        for sig in SIGNALS:
            signal.signal(sig, caught)
    try:
        code = cli_main(argv, stop=stop)
    except KeyboardInterrupt:  # Ctrl-C in another command: Python's default, quietly
        code = 128 + signal.SIGINT
    sys.exit(caught.code or code)


if __name__ == "__main__":
    main()
