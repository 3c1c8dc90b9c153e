"""MSG pipeline: regenerate, audit and publish semantic-grounding datasets."""

__version__ = "0.1.0"
