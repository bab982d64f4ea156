"""The web page for reviewers and report writers, and its JSON API (FastAPI over ``pipeline``)."""
