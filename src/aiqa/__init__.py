"""aiqa: retrieval-augmented question answering over Chinese documents, with exact citations."""

__version__ = "0.1.0"
