"""The one exception type for mistakes a user can make (bad file, bad option, bad data)."""


class UserError(Exception):
    """Raised for problems the user can fix; the CLI prints it as one line and exits non-zero."""
