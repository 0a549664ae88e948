"""Shared by the python checkers: one "<suite>: <name> ok" or FAIL line per check."""
import sys


class Checks:
    def __init__(self, suite):
        self.suite = suite
        self.failures = 0

    def report(self, name, problems):
        """Prints the check's line; problems is a list of what went wrong (empty: ok)."""
        if problems:
            self.failures += 1
            print("%s: %s FAIL: %s" % (self.suite, name, "; ".join(problems)))
        else:
            print("%s: %s ok" % (self.suite, name))

    def exit(self):
        sys.exit(1 if self.failures else 0)
