"""`python -m ftprobe ...`: runs the ftprobe executable this package installed."""

import os
import sys

from ftprobe import find_ftprobe_bin


def _run():
    binary = find_ftprobe_bin()
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.call([binary, *sys.argv[1:]]))
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    _run()
