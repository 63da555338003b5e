"""The serving component's errors, importable without its dependencies."""


class ScoringError(RuntimeError):
    """Nothing could be scored; the message says what to run first."""
