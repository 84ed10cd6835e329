"""Reference surface metrics with numpy/scipy (medpy's definitions), for the metrics tests.

usage: surface_metrics_ref.py a.raw b.raw nx ny nz sx sy sz tolerance
a.raw, b.raw: uint8 masks, i fastest (C order [k][j][i]). Prints one JSON object.
"""
import json
import sys

import numpy as np
from scipy import ndimage


def main() -> None:
    a_path, b_path = sys.argv[1], sys.argv[2]
    nx, ny, nz = (int(x) for x in sys.argv[3:6])
    sx, sy, sz = (float(x) for x in sys.argv[6:9])
    tol = float(sys.argv[9])
    a = np.fromfile(a_path, dtype=np.uint8).reshape(nz, ny, nx) != 0
    b = np.fromfile(b_path, dtype=np.uint8).reshape(nz, ny, nx) != 0
    sampling = (sz, sy, sx)
    fp = ndimage.generate_binary_structure(3, 1)
    sa = a ^ ndimage.binary_erosion(a, structure=fp, iterations=1, border_value=0)
    sb = b ^ ndimage.binary_erosion(b, structure=fp, iterations=1, border_value=0)
    dab = ndimage.distance_transform_edt(~sb, sampling=sampling)[sa]
    dba = ndimage.distance_transform_edt(~sa, sampling=sampling)[sb]
    inter = np.logical_and(a, b).sum()
    out = {
        "dice": float(2 * inter / (a.sum() + b.sum())),
        "iou": float(inter / np.logical_or(a, b).sum()),
        "hd95": float(max(np.percentile(dab, 95), np.percentile(dba, 95))),
        "hausdorff": float(max(dab.max(), dba.max())),
        "assd": float((dab.mean() + dba.mean()) / 2),
        "surfaceDice": float(((dab <= tol).sum() + (dba <= tol).sum()) / (len(dab) + len(dba))),
        "surfaceA": int(sa.sum()),
        "surfaceB": int(sb.sum()),
    }
    print(json.dumps(out))


main()
