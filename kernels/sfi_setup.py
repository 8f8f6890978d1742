"""When the SFI model charges a setup (docs/models/sfi.md, "Setups and round-off").

A setup is a step in a continuous quantity, so floating-point noise must not decide it: a
buffer made for exactly the orders it meets can leave 1e-13 units behind, which the next
period then "uses". An amount made (a new buffer) or used (a carried buffer) pays its setup
only when it exceeds :data:`SETUP_EPS`. The flows do not change: a smaller amount still serves
demand, is held and is disposed like any other.
"""

#: Units an amount made or used must exceed to pay a setup or re-setup. The plain reference
#: (tests/reference/sfi.py) writes its own literal, from the model page; the MILP imports this.
SETUP_EPS = 1e-6
