"""Hypothesis profiles. ``ci``, loaded when the environment variable CI is set (as CI runs):
derandomized, so that every run of the same code tries the same examples and a failure seen in
CI is seen again on any machine; no example database. Else ``dev``: fresh examples each run,
and a failure's example kept in the local database and tried first next time. Either prints
the blob that reproduces a failure; neither has a deadline (the machine is shared, and a
first call compiles kernels). Tests set their own numbers of examples."""

import os

from hypothesis import settings

# Both from Hypothesis's defaults, not from whatever profile it loaded itself on seeing CI.
settings.register_profile("ci", settings.get_profile("default"), derandomize=True,
                          database=None, deadline=None, print_blob=True)
settings.register_profile("dev", settings.get_profile("default"), deadline=None,
                          print_blob=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() not in ("", "0", "false")
                      else "dev")
