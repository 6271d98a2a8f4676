"""Turns a Qualtrics export of the WSD learning-network questionnaire into the Dutch report."""

__version__ = "0.1.0"
