"""S3 for the storage benchmarks: settings (local and real S3), a local S3 server process, and a
latency/bandwidth proxy in front of it that counts requests. Everything binds 127.0.0.1."""
