"""Domain errors. Only rag/server/ (http_errors.py) and rag/cli/ turn these into status codes or exit codes."""


class RagError(Exception):
    """Base class: the message is shown to the user as one line."""


class BadInput(RagError):
    """The request or file cannot be used as given (HTTP 422, CLI exit 2)."""


class TooLarge(BadInput):
    """Over a configured size limit (HTTP 413)."""


class ArticleNotFound(RagError):
    """No article with that id (HTTP 404)."""


class IndexUnavailable(RagError):
    """No usable index on disk, or one built with other settings (HTTP 503)."""


class IndexMismatch(IndexUnavailable):
    """The saved index was built with another embedder or chunking."""


class ModelUnavailable(RagError):
    """A model could not be found or loaded offline (HTTP 503)."""


class Busy(RagError):
    """Another writer holds the index (HTTP 409)."""


class GeneratorUnavailable(ModelUnavailable):
    """A remote generator did not answer in time, refused, or broke off (HTTP 503)."""
