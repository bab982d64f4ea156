"""The ``verbatims`` command line: the top layer, over the web page, the flows, the review loop and the library."""
