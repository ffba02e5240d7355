"""What asv's setup_cache does per RadiObject commit: ingest with this commit's RadiObject, run
the protocol in fresh processes, and record per framework whether it measured, was n/a (the
commit lacks the API, or the framework was not selected) or failed (a real breakage)."""
