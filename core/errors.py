"""The one error type a user can cause."""


class RecoveryError(ValueError):
    """A problem the user can fix: a bad file, a missing column, a setting out of range.

    The message names the column, row or limit and says what to do. The app shows it
    on the page; the command line prints it on one line and exits with status 2.
    """
