"""Prefect flows over the ``pipeline`` library, and the ``verbatims`` command line."""
