"""S3: buckets and objects on the lsm engine and the erasure-coded blob store (see provider.py for the module map)."""
