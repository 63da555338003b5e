"""The training component's errors, importable without its dependencies."""


class DatasetError(RuntimeError):
    """The dataset cannot be read or has too little to learn from; the message says why."""
