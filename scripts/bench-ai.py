#!/usr/bin/python3
"""Python side of `npm run bench:ai` (scripts/bench-ai.mjs). Subcommands:

  resample SRC.nii.gz OUT.nii NX NY NZ
      Linear resampling of a CT to NX x NY x NZ voxels over the same physical box (voxel edges
      aligned), int16; writes OUT.nii then OUT.json (the marker that the file is complete).

  placeholder OUTDIR [--base 8] [--levels 4] [--patch 96] [--spacing 1.5] [--seed 0]
      A PLACEHOLDER model package: the trainer's 3D U-Net (packages/ai/python/s2s_train.py
      build_model) with seeded random weights, exported to ONNX exactly as the trainer does,
      plus the PyTorch checkpoint and a model card. It segments nothing meaningful: it only
      has the size and operators of a real model, for timing.

  placeholder-liver OUTDIR --ct CT.nii.gz --seg SEG.nii.gz [--label-value 5] [--epochs 15]
      A PLACEHOLDER liver model: the trainer (s2s_train.py) overfits its 3D U-Net for a few
      minutes to the liver of ONE CT at that CT's spacing; model.onnx + checkpoint.pt + a card
      that says so. Good for timing and look-first agreement, not for accuracy.

  infer IMAGE.nii MODELDIR OUT.u8 [--checkpoint PT] [--threads N]
      The same model in Python: onnxruntime when installed, else PyTorch on the trainer's
      checkpoint (same weights as the ONNX file). Reorients and resamples to the card's grid,
      normalises as the card says, sliding window with Gaussian weighting (the card's patch size,
      overlap, mirroring), arg-max, back to the source grid by nearest neighbour. Prints one
      JSON line (runtime, seconds per stage) on stdout; writes the labels (uint8, i fastest).
"""
import argparse
import json
import os
import sys
import time
import warnings

# The trainer module (imported for its U-Net) sends fd 1 to stderr at import time (its stdout is
# reserved for its JSON protocol): keep our own handle on the real stdout for the result lines.
RESULT = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")


def result(obj):
    print(json.dumps(obj), file=RESULT)


def resample(args):
    import nibabel as nib
    import numpy as np
    from scipy import ndimage

    img = nib.load(args.src)
    data = np.asarray(img.dataobj, dtype=np.float32)
    new = (args.nx, args.ny, args.nz)
    f = [data.shape[a] / new[a] for a in range(3)]
    out = ndimage.zoom(data, [1 / x for x in f], order=1, mode="nearest", grid_mode=True, output=np.float32)
    assert out.shape == new, out.shape
    # index map old = f * new + (f - 1) / 2 (voxel edges of both grids coincide)
    m = np.eye(4)
    for a in range(3):
        m[a, a] = f[a]
        m[a, 3] = (f[a] - 1) / 2
    aff = img.affine @ m
    out16 = np.clip(np.rint(out), -32768, 32767).astype(np.int16)
    hdr = nib.Nifti1Header()
    hdr.set_data_dtype(np.int16)
    nii = nib.Nifti1Image(out16, aff, hdr)
    nii.set_sform(aff, code=1)
    nii.set_qform(aff, code=1)
    tmp = args.out + f".tmp{os.getpid()}"
    nib.save(nii, tmp + ".nii")
    os.replace(tmp + ".nii", args.out)
    marker = os.path.splitext(args.out)[0] + ".json"
    with open(marker, "w", encoding="utf-8") as fh:
        json.dump({"source": os.path.basename(args.src), "size": list(new),
                   "spacing": [float(x) for x in nib.affines.voxel_sizes(aff)], "bytes": os.path.getsize(args.out)}, fh)
    result({"size": list(new), "spacing": [float(x) for x in nib.affines.voxel_sizes(aff)]})


def trainer_module():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "packages", "ai", "python"))
    import s2s_train  # noqa: E402

    return s2s_train


def placeholder(args):
    import numpy as np
    import torch

    t = trainer_module()
    torch.manual_seed(args.seed)
    model = t.build_model(torch, 1, 2, args.base, args.levels).eval()
    os.makedirs(args.outdir, exist_ok=True)
    config = {"inChannels": 1, "numClasses": 2, "baseChannels": args.base, "levels": args.levels}
    torch.save({"model": model.state_dict(), "config": config, "epoch": 0}, os.path.join(args.outdir, "checkpoint.pt"))
    wrapped = t._NamedExport(torch, model).eval()
    dummy = torch.zeros((1, 1, args.patch, args.patch, args.patch))
    axes = {0: "N", 2: "D", 3: "H", 4: "W"}
    with torch.no_grad():
        torch.onnx.export(
            wrapped, (dummy,), os.path.join(args.outdir, "model.onnx"), opset_version=17, input_names=["image"],
            output_names=["logits", "features"], dynamic_axes={"image": axes, "logits": axes, "features": axes},
            do_constant_folding=True, export_params=True, keep_initializers_as_inputs=False)
    card = {
        "schema": "slice2solid-model-card/1",
        "name": "bench-placeholder",
        "version": "0.0.0",
        "description": f"PLACEHOLDER for benchmarks: the trainer's 3D U-Net ({args.base} base channels, "
                       f"{args.levels} levels) with random weights. Segments nothing meaningful.",
        "file": "model.onnx",
        "input": {
            "name": "image",
            "channels": [{"name": "CT", "modality": "CT",
                          "normalization": {"type": "ct", "clip": [-1000, 1000], "mean": 0, "std": 300}}],
            "orientation": "RAS",
            "spacing": [args.spacing] * 3,
            "patchSize": [args.patch] * 3,
            "interpolation": "linear",
        },
        "output": {
            "name": "logits",
            "activation": "softmax",
            "channels": 2,
            "labels": [{"channel": 0, "value": 0, "name": "background"},
                       {"channel": 1, "value": 1, "name": "placeholder", "color": [200, 60, 60]}],
        },
        "inference": {"overlap": 0.5, "mirrorAxes": [], "gaussianSigmaScale": 0.125},
        "license": {"spdx": "Apache-2.0"},
        "training": {"summary": "Not trained: seeded random weights.", "datasets": [{"name": "none", "cases": 0}]},
        "validation": {"summary": "Not validated.", "cases": 0, "metrics": []},
        "intendedUse": "Benchmarks of the inference machinery only.",
        "limitations": "Random weights: its output means nothing.",
    }
    with open(os.path.join(args.outdir, "model.json"), "w", encoding="utf-8") as fh:
        json.dump(card, fh, indent=2)
    result({"dir": args.outdir, "parameters": sum(p.numel() for p in model.parameters())})


def placeholder_liver(args):
    """Overfits the trainer's U-Net to the liver of ONE CT (the benchmark's own source scan)."""
    import shutil
    import subprocess

    import nibabel as nib
    import numpy as np

    run = os.path.join(args.outdir, "run")
    init = None
    if os.path.exists(os.path.join(run, "checkpoints", "best.pt")):
        # train on from an earlier (time-boxed) run's best weights
        init = os.path.abspath(os.path.join(args.outdir, "init.pt"))
        shutil.copyfile(os.path.join(run, "checkpoints", "best.pt"), init)
        shutil.rmtree(os.path.join(run, "checkpoints"))
    os.makedirs(os.path.join(run, "data"), exist_ok=True)
    ct = nib.as_closest_canonical(nib.load(args.ct))
    seg = nib.as_closest_canonical(nib.load(args.seg))
    img = np.asarray(ct.dataobj, dtype=np.float32)
    lbl = (np.asarray(seg.dataobj) == args.label_value).astype(np.uint8)
    assert img.shape == lbl.shape and np.allclose(ct.affine, seg.affine, atol=1e-3), "CT and labels differ in grid"
    sp = [float(x) for x in nib.affines.voxel_sizes(ct.affine)]
    fg = img[lbl > 0]
    clip = [-150.0, 250.0]
    fgc = np.clip(fg, *clip)
    norm = {"type": "ct", "clip": clip, "mean": round(float(fgc.mean()), 3), "std": round(float(fgc.std()), 3)}
    x = ((np.clip(img, *clip) - norm["mean"]) / norm["std"]).astype("<f4")
    x.ravel(order="F").tofile(os.path.join(run, "data", "ct_img.f32"))
    lbl.ravel(order="F").tofile(os.path.join(run, "data", "ct_lbl.u8"))
    size = [int(v) for v in img.shape]
    case = {"patient": "p1", "image": "data/ct_img.f32", "labels": "data/ct_lbl.u8", "size": size}
    color = [221, 130, 101]
    plan = {
        "schema": "slice2solid-train-plan/1",
        "labels": [{"value": 1, "name": args.label_name, "color": color}],
        "numClasses": 2, "patchSize": [args.patch] * 3, "spacing": sp, "orientation": "RAS", "normalization": norm,
        "cases": [dict(case, id="train", split="train"), dict(case, id="val", split="val")],
        "training": {"epochs": args.epochs, "stepsPerEpoch": 20, "batchSize": 2, "lr": 0.003, "weightDecay": 0.0001,
                     "schedule": "poly", "loss": "dice+ce", "foregroundOversample": 0.5,
                     "augment": {"flip": False, "rotate": False, "scale": False, "elastic": False,
                                 "intensity": False, "noise": False},
                     "earlyStopPatience": 0, "seed": 1, "baseChannels": args.base, "levels": 3, "init": init,
                     "freeze": "none", "device": "cpu", "maxMinutes": args.minutes},
    }
    with open(os.path.join(run, "plan.json"), "w", encoding="utf-8") as fh:
        json.dump(plan, fh, indent=1)
    trainer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "packages", "ai", "python", "s2s_train.py")
    r = subprocess.run([sys.executable, trainer, "--run", run], stdout=subprocess.PIPE, text=True)
    done = None
    for line in r.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("event") in ("epoch", "done", "error", "early_stop"):
            print(line, file=sys.stderr)
        if e.get("event") == "done":
            done = e
    if r.returncode != 0 or done is None:
        result({"error": f"the trainer failed (exit code {r.returncode})"})
        return 5
    shutil.copyfile(os.path.join(run, "model.onnx"), os.path.join(args.outdir, "model.onnx"))
    shutil.copyfile(os.path.join(run, "checkpoints", "best.pt"), os.path.join(args.outdir, "checkpoint.pt"))
    card = {
        "schema": "slice2solid-model-card/1",
        "name": "bench-placeholder-liver",
        "version": "0.0.0",
        "description": "PLACEHOLDER for benchmarks: the trainer's 3D U-Net overfitted in minutes to the liver of ONE CT "
                       "(the TotalSegmentator example CT, reference = TotalSegmentator's own output).",
        "file": "model.onnx",
        "input": {"name": "image", "channels": [{"name": "CT", "modality": "CT", "normalization": norm}],
                  "orientation": "RAS", "spacing": sp, "patchSize": [args.patch] * 3, "interpolation": "linear"},
        "output": {"name": "logits", "activation": "softmax", "channels": 2,
                   "labels": [{"channel": 0, "value": 0, "name": "background"},
                              {"channel": 1, "value": 1, "name": args.label_name, "color": color}]},
        "inference": {"overlap": 0.5, "mirrorAxes": [], "gaussianSigmaScale": 0.125},
        "license": {"spdx": "CC-BY-4.0", "attribution": "TotalSegmentator example data (Wasserthal et al.)"},
        "training": {"summary": f"{args.epochs} x 20 steps on one CT, no augmentation; best training-case Dice "
                                f"{done.get('bestMeanValDice')}.",
                     "datasets": [{"name": "TotalSegmentator example CT", "license": "CC-BY-4.0", "cases": 1}]},
        "validation": {"summary": "Not validated: evaluated only on the case it was trained on.", "cases": 0,
                       "metrics": []},
        "intendedUse": "Benchmarks of the inference machinery (timing, look-first agreement) only.",
        "limitations": "Seen one scan: says nothing about accuracy on any other scan.",
    }
    with open(os.path.join(args.outdir, "model.json"), "w", encoding="utf-8") as fh:
        json.dump(card, fh, indent=2)
    result({"dir": args.outdir, "bestMeanValDice": done.get("bestMeanValDice")})
    return 0


def gaussian_map(np, patch, scale):
    axes = []
    for n in patch:
        c = (n - 1) / 2
        s = n * scale
        axes.append(np.exp(-((np.arange(n) - c) ** 2) / (2 * s * s)))
    g = axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]
    g = g / g.max()
    g[g == 0] = g[g > 0].min()
    return g.astype(np.float32)


def starts(n, p, overlap):
    """Same as sliding-window.ts patchStarts."""
    if n <= p:
        return [0]
    target = max(1.0, p * (1 - overlap))
    k = int(-(-(n - p) // target)) + 1
    step = (n - p) / (k - 1)
    return [int((step * t + 0.5) // 1) for t in range(k)]


def infer(args):
    import nibabel as nib
    import numpy as np
    from nibabel import orientations as ornt_mod
    from scipy import ndimage

    warnings.filterwarnings("ignore", message="The behavior of affine_transform")  # diagonal matrix on purpose
    t0 = time.time()
    stages = {}
    card = json.load(open(os.path.join(args.model, "model.json"), encoding="utf-8"))
    runtime = None
    try:
        import onnxruntime as ort  # noqa: F401

        runtime = "onnxruntime " + ort.__version__
    except ImportError:
        ort = None
    if ort is None:
        ckpt = args.checkpoint
        if not ckpt or not os.path.exists(ckpt):
            result({"error": "neither onnxruntime nor a PyTorch checkpoint of this model is available"})
            return 4
        import torch

        if args.threads > 0:
            torch.set_num_threads(args.threads)
        t = trainer_module()
        ck = torch.load(ckpt, map_location="cpu")
        cfg = ck["config"]
        model = t.build_model(torch, cfg["inChannels"], cfg["numClasses"], cfg["baseChannels"], cfg["levels"]).eval()
        model.load_state_dict(ck["model"])
        runtime = f"PyTorch {torch.__version__} (checkpoint {os.path.basename(ckpt)})"

        def run(x):
            with torch.no_grad():
                return model(torch.from_numpy(x)).numpy()
    else:
        so = ort.SessionOptions()
        if args.threads > 0:
            so.intra_op_num_threads = args.threads
        sess = ort.InferenceSession(os.path.join(args.model, card["file"]), so, providers=["CPUExecutionProvider"])
        out_name = card["output"].get("name", sess.get_outputs()[0].name)
        in_name = card["input"].get("name", sess.get_inputs()[0].name)

        def run(x):
            return sess.run([out_name], {in_name: x})[0]
    stages["model"] = time.time() - t0

    t1 = time.time()
    img = nib.load(args.image)
    data = np.asarray(img.dataobj, dtype=np.float32)
    src_ornt = ornt_mod.io_orientation(img.affine)
    want = ornt_mod.axcodes2ornt(tuple(card["input"]["orientation"]))
    to_model = ornt_mod.ornt_transform(src_ornt, want)
    re = ornt_mod.apply_orientation(data, to_model)
    zooms = np.asarray(nib.affines.voxel_sizes(img.affine))
    # spacing of the reoriented axes: axis a of `re` is source axis whose ornt_transform maps to a
    re_sp = np.zeros(3)
    for a_src in range(3):
        re_sp[int(to_model[a_src, 0])] = zooms[a_src]
    sp = np.asarray(card["input"]["spacing"], dtype=float)
    n = np.asarray(re.shape, dtype=float)
    m = np.maximum(1, np.round(n * re_sp / sp - 1e-9)).astype(int)
    scale = sp / re_sp
    offset = (n - 1) / 2 - scale * (m - 1) / 2
    x = ndimage.affine_transform(re, scale, offset=offset, output_shape=tuple(m), order=1, mode="nearest")
    norm = card["input"]["channels"][0]["normalization"]
    if norm["type"] == "ct":
        x = (np.clip(x, norm["clip"][0], norm["clip"][1]) - norm["mean"]) / norm["std"]
    elif norm["type"] == "linear":
        x = (x - norm["offset"]) * norm["scale"]
    elif norm["type"] == "zscore":
        x = (x - x.mean()) / (x.std() or 1)
    elif norm["type"] != "none":
        result({"error": f"normalization {norm['type']} is not implemented here"})
        return 4
    x = x.astype(np.float32)
    stages["preprocess"] = time.time() - t1

    t2 = time.time()
    patch = [int(v) for v in card["input"]["patchSize"]]
    inf = card.get("inference", {})
    overlap = inf.get("overlap", 0.5)
    g = gaussian_map(np, patch, inf.get("gaussianSigmaScale", 0.125))
    mirror = inf.get("mirrorAxes", [])
    shape = tuple(max(m[a], patch[a]) for a in range(3))
    xp = np.pad(x, [(0, shape[a] - m[a]) for a in range(3)], mode="edge")
    nc = card["output"]["channels"]
    acc = np.zeros((nc,) + shape, dtype=np.float32)
    wsum = np.zeros(shape, dtype=np.float32)
    patches = 0
    for i in starts(shape[0], patch[0], overlap):
        for j in starts(shape[1], patch[1], overlap):
            for k in starts(shape[2], patch[2], overlap):
                block = xp[i:i + patch[0], j:j + patch[1], k:k + patch[2]]
                # ONNX [N, C, D, H, W] = [.., k, j, i]: transpose (i, j, k) -> (k, j, i)
                inp = np.ascontiguousarray(block.transpose(2, 1, 0))[None, None]
                # mirroring: every subset of the mirror axes, averaged (as sliding-window.ts)
                logits = 0
                for bits in range(1 << len(mirror)):
                    dims = [2 + (2 - mirror[q]) for q in range(len(mirror)) if bits >> q & 1]  # axis a -> dim 4 - a
                    v = np.ascontiguousarray(np.flip(inp, axis=dims)) if dims else inp
                    out = run(v)
                    logits = logits + (np.flip(out, axis=dims) if dims else out)[0]
                logits = logits / (1 << len(mirror))
                if card["output"]["activation"] == "softmax":
                    e = np.exp(logits - logits.max(axis=0, keepdims=True))
                    prob = e / e.sum(axis=0, keepdims=True)
                elif card["output"]["activation"] == "sigmoid":
                    prob = 1 / (1 + np.exp(-logits))
                else:
                    prob = logits
                prob = prob.transpose(0, 3, 2, 1)  # back to (c, i, j, k)
                acc[:, i:i + patch[0], j:j + patch[1], k:k + patch[2]] += prob * g
                wsum[i:i + patch[0], j:j + patch[1], k:k + patch[2]] += g
                patches += 1
    acc = acc[:, : m[0], : m[1], : m[2]]
    values = {lab["channel"]: lab["value"] for lab in card["output"]["labels"]}
    if card["output"]["activation"] == "sigmoid":
        best = acc.argmax(axis=0)
        ok = acc.max(axis=0) > 0.5 * wsum[: m[0], : m[1], : m[2]]
        lab = np.where(ok, np.vectorize(lambda c: values.get(int(c), 0))(best), 0)
    else:
        best = acc.argmax(axis=0)
        lut = np.zeros(nc, dtype=np.uint8)
        for c, v in values.items():
            lut[c] = v
        lab = lut[best]
    stages["inference"] = time.time() - t2

    t3 = time.time()
    # back: reoriented index p -> model index q = (p - offset) / scale, nearest neighbour
    back = ndimage.affine_transform(lab.astype(np.uint8), 1 / scale, offset=-offset / scale,
                                    output_shape=re.shape, order=0, mode="nearest")
    src_lab = ornt_mod.apply_orientation(back, ornt_mod.ornt_transform(want, src_ornt))
    assert src_lab.shape == data.shape
    np.asfortranarray(src_lab.astype(np.uint8)).ravel(order="F").tofile(args.out)
    stages["back to source grid"] = time.time() - t3
    result({"runtime": runtime, "patches": patches, "modelGrid": [int(v) for v in m],
                      "stages": {k: round(v, 3) for k, v in stages.items()}, "totalSeconds": round(time.time() - t0, 3)})
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("resample")
    r.add_argument("src")
    r.add_argument("out")
    r.add_argument("nx", type=int)
    r.add_argument("ny", type=int)
    r.add_argument("nz", type=int)
    p = sub.add_parser("placeholder")
    p.add_argument("outdir")
    p.add_argument("--base", type=int, default=8)
    p.add_argument("--levels", type=int, default=4)
    p.add_argument("--patch", type=int, default=96)
    p.add_argument("--spacing", type=float, default=1.5)
    p.add_argument("--seed", type=int, default=0)
    q = sub.add_parser("placeholder-liver")
    q.add_argument("outdir")
    q.add_argument("--ct", required=True)
    q.add_argument("--seg", required=True)
    q.add_argument("--label-value", type=int, default=5)
    q.add_argument("--label-name", default="liver")
    q.add_argument("--patch", type=int, default=64)
    q.add_argument("--base", type=int, default=8)
    q.add_argument("--epochs", type=int, default=15)
    q.add_argument("--minutes", type=float, default=10)
    i = sub.add_parser("infer")
    i.add_argument("image")
    i.add_argument("model")
    i.add_argument("out")
    i.add_argument("--checkpoint")
    i.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.cmd == "resample":
        return resample(a) or 0
    if a.cmd == "placeholder":
        return placeholder(a) or 0
    if a.cmd == "placeholder-liver":
        return placeholder_liver(a)
    return infer(a)


if __name__ == "__main__":
    sys.exit(main())
