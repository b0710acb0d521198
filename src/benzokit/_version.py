"""benzokit's version, in one place below every layer (``benzokit.__version__`` re-exports it)."""

__version__ = "0.1.0"
