"""rehab: read, validate, model and report low-back-pain rehabilitation logs.

Nothing runs on import; submodules are imported where they are used.
"""

__version__ = "0.1.0"
