"""verbatims: French open-ended survey answers into ranked themes with representative quotes.

One module per stage (ingest, clean, embed, cluster, rank, export); data flows one way.
"""
