"""How things are measured: the study's protocol, the one fresh-process runner, counters and
memory, and the benchmark process's thread budget and lifetime."""
