"""The ranges of the interchange formats: every number an instance or a plan holds has one.

The validators check them and name the field; the published JSON Schemas state the same
figures (``tests/test_schemas.py`` holds the two together). Why these figures:
``docs/models/sfi.md`` and ``docs/models/network.md``, "Ranges of the JSON format".
"""

#: Units of stock, orders, capacity, shipments: at most a million million. Sums over every
#: product and period stay far inside a float, and the exact models' coefficients (upper
#: bounds of buffers, used as big-M) stay under the 1e15 at which HiGHS refuses a matrix.
MAX_QUANTITY = 1e12

#: Money per unit, per unit and hour or period, per setup or per shipment: at most 1e12, so
#: that a price times a time (1e6 h) stays under the 1e20 at which HiGHS takes a cost for
#: infinite.
MAX_MONEY = 1e12

#: Hours (SFI processing times, lead times, period lengths): at most a million (114 years).
MAX_HOURS = 1e6

#: Periods of a horizon, and every number of periods or period number (shelf lives, lead
#: times and loan durations in periods, a lot's last period, a shipment's period).
MAX_PERIODS = 10_000

#: A priority only orders the products; any number in ``[-MAX_PRIORITY, MAX_PRIORITY]``.
MAX_PRIORITY = 1e12

#: Entries of any one dense array that an instance makes (orders of every scenario, product
#: and period; stock of every firm, material and expiry bucket; unit cost of every link and
#: material): ten million, 80 MB in float64.
MAX_CELLS = 10_000_000

#: SFI counts.
MAX_STAGES = 100
MAX_CATEGORIES = 10_000
MAX_PRODUCTS = 100_000
MAX_SCENARIOS = 1_000

#: Network counts.
MAX_FIRMS = 10_000
MAX_MATERIALS = 100_000
