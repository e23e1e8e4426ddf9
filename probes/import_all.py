"""Import every module named on the command line, in order, as a user would.

`ftprobe test` runs this (`python -I -c`) in the suite's environment before
the suite, with the GIL as the run sets it, so a module that cannot be
imported there is named before any test runs.
"""

import importlib
import sys

for name in sys.argv[1:]:
    importlib.import_module(name)
