"""Code asv imports through asv.conf.json's "plugins" (a name starting with a dot is imported
from the repository): things that must happen inside `asv run` and `asv publish`."""
