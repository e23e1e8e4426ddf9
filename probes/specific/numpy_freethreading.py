# Extra check for numpy on free-threaded builds (run after `import numpy`):
# use the C core, not only import it.
import numpy

assert int(numpy.arange(1000).sum()) == 499500
