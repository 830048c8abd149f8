"""One exception type per failure kind, each carrying a sentence a user can act on.

The CLI and the UI catch `AiqaError` at their edge and show `str(error)`; anything else is a bug.
"""


class AiqaError(Exception):
    """Base class: the message is one sentence that says what went wrong and what to do."""


class QuestionError(AiqaError):
    """The question itself is unusable (empty, too long)."""


class CorpusError(AiqaError):
    """The corpus directory is missing, empty or unreadable."""


class IndexStateError(AiqaError):
    """The index is missing, corrupt, locked, or was built by something else."""


class IndexBusyError(IndexStateError):
    """Another process is building the index; its readers answer from the current one meanwhile."""


class ModelError(AiqaError):
    """An embedding or reranking model cannot be loaded.

    `problem` is the same failure as a clause ("X could not be loaded (OSError)"), for a caller that
    falls back to another model and says why in a sentence of its own.
    """

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem or message.rstrip(".")


class LLMError(AiqaError):
    """The configured LLM endpoint failed; callers fall back to extractive answers."""


class SettingsError(AiqaError):
    """A setting has a value aiqa cannot use."""
