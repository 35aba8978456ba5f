"""User errors: a bad config, a missing path, an unknown stage or input file.

The command line prints their message (what, where, what to do) and exits with status 2, without a
traceback unless `-v`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message says what, where and what to do."""
