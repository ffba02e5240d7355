"""The radibench asv suite. Modules read like a table of contents of what is measured.

asv puts only this package on sys.path (it strips PYTHONPATH), so the radibench library beside it
is made importable here. It is appended, not prepended: the bare RadiObject mirror that asv keeps
at ./radiobject must never shadow the installed radiobject package.
"""

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.append(_REPO)

from radibench.measure.process import end_with_parent, pin_threads, quiet_foreign_notices  # noqa: E402

pin_threads()
end_with_parent()
quiet_foreign_notices()
