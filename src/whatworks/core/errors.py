"""One family of errors whose messages say what was wrong, where, and what to do."""

from __future__ import annotations


class WhatworksError(Exception):
    """Base of every error whatworks shows to a person."""


class ConfigurationError(WhatworksError):
    """A setting in the environment is not usable."""


class NotFound(WhatworksError):
    """Something asked for by name or code does not exist."""


class PermissionDenied(WhatworksError):
    """The signed-in user's role does not allow this."""


class ImportProblem(WhatworksError):
    """A file could not be imported; nothing from it was stored.

    Carries every problem found, each naming the file, row and column.
    """

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        shown = "\n".join(f"  - {problem}" for problem in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{path} was not imported; nothing from it was stored.\n{shown}{more}\n"
            "Correct the file and import it again."
        )


class TooManyAttempts(WhatworksError):
    """Sign-in is paused for this account after repeated failures."""
