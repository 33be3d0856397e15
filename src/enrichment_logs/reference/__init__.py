"""The reference enrichment pipeline and its sample leads (see `pipeline.py`)."""
