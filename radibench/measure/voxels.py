"""Whether a loader's patches are the voxels it claims: each patch of a batch compared with a
reference read (nibabel) of the same box of the NIfTI file every peer reads.

The adapter says where each patch came from (`Framework.locate`, in its own frame) and how its
values relate to the NIfTI files (`hu_slope`, `hu_offset`, `flipped_axes`, detected from the
data), so a patch read at the wrong place, from the wrong subject or with the wrong values is
counted, not assumed away.
"""

from __future__ import annotations

import numpy as np


def reference_check(niftis):
    """A check for run_recipe: (framework, images, positions) -> (voxels compared, mismatches)."""
    volumes: dict[int, np.ndarray] = {}

    def reference(i: int) -> np.ndarray:
        if i not in volumes:
            import nibabel

            volumes[i] = np.asanyarray(nibabel.load(str(niftis[i])).dataobj)
        return volumes[i]

    def check(framework, images, positions) -> tuple[int, int]:
        voxels = mismatches = 0
        for patch, (i, start) in zip(images[:, 0].numpy(), positions, strict=True):
            region = tuple(slice(s, s + n) for s, n in zip(start, patch.shape, strict=True))
            expected = reference(i)[framework.native(i, region)]  # mirroring is its own inverse
            got = np.flip(patch, axis=framework.flipped_axes) if framework.flipped_axes else patch
            got = framework.hu_slope * (got.astype(np.float64) - framework.hu_offset)
            voxels += expected.size
            if got.shape != expected.shape:
                mismatches += expected.size
            else:
                mismatches += int(np.count_nonzero(got != expected))
        return voxels, mismatches

    return check
