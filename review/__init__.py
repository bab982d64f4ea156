"""The review loop over the analysis library: the store, reviewers' corrections, the queue, carry-over,
training, the model registry, classifying a new wave, users and the watched folder. No Prefect, web or CLI."""
