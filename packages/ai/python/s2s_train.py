#!/usr/bin/env python3
"""slice2solid trainer: a small 3D U-Net trained with PyTorch, exported to ONNX.

Usage: python3 s2s_train.py --run <run folder> [--resume]

Reads <run>/plan.json (schema slice2solid-train-plan/1), trains on the `train` cases, validates
on the `val` cases every epoch, writes <run>/checkpoints/{last,best}.pt and exports the best
weights to <run>/model.onnx. Progress is one JSON object per line on stdout (see
docs/training-protocol.md); everything else goes to stderr.

Exit codes: 0 success, 1 training/export failure, 2 invalid plan or data, 3 PyTorch missing.
Dependencies: the Python standard library, numpy and torch only.
"""

import argparse
import json
import math
import os
import random
import sys
import time

PLAN_SCHEMA = "slice2solid-train-plan/1"
INSTALL_HINT = (
    "install PyTorch for this Python: `sudo apt-get install python3-torch` (Debian/Ubuntu) "
    "or `pip install torch` (other systems); then run the training again"
)

# stdout carries only protocol lines: keep a private handle on it and send everything else
# (prints, warnings, C-level output of torch) to stderr.
_PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(event, **fields):
    obj = {"event": event}
    obj.update(fields)
    _PROTOCOL.write(json.dumps(obj, allow_nan=False, default=_json_default) + "\n")
    _PROTOCOL.flush()


def _json_default(x):
    try:
        return float(x)
    except Exception:
        return str(x)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class PlanError(Exception):
    def __init__(self, message, hint=""):
        super().__init__(message)
        self.hint = hint


def fail(message, hint, code):
    emit("error", message=message, hint=hint)
    sys.exit(code)


# ----------------------------------------------------------------------------------------------
# plan


TRAINING_DEFAULTS = {
    "epochs": 50,
    "stepsPerEpoch": 20,
    "batchSize": 2,
    "lr": 0.001,
    "weightDecay": 0.0001,
    "schedule": "poly",
    "loss": "dice+ce",
    "foregroundOversample": 0.33,
    "augment": {"flip": True, "rotate": True, "scale": True, "elastic": False, "intensity": True, "noise": True},
    "earlyStopPatience": 10,
    "seed": 1,
    "baseChannels": 8,
    "norm": "instance",
    "levels": 3,
    "init": None,
    "freeze": "none",
    "device": "auto",
    "maxMinutes": None,
}


def read_plan(run):
    path = os.path.join(run, "plan.json")
    try:
        with open(path, "r", encoding="utf-8") as f:
            plan = json.load(f)
    except FileNotFoundError:
        raise PlanError(f"no plan.json in the run folder {run}", "create the run with `slice2solid train` first")
    except json.JSONDecodeError as e:
        raise PlanError(f"plan.json is not valid JSON: {e}", "fix or recreate the run folder")
    if plan.get("schema") != PLAN_SCHEMA:
        raise PlanError(f"plan.json schema is {plan.get('schema')!r}, expected {PLAN_SCHEMA!r}",
                        "recreate the run folder with this version of slice2solid")
    nc = plan.get("numClasses")
    labels = plan.get("labels")
    if not isinstance(nc, int) or nc < 2:
        raise PlanError(f"plan.numClasses must be an integer >= 2 (background included), got {nc!r}")
    if not isinstance(labels, list) or len(labels) != nc - 1:
        raise PlanError(f"plan.labels must list numClasses - 1 = {nc - 1} labels, got {labels!r}")
    for key in ("patchSize", "spacing"):
        v = plan.get(key)
        if not (isinstance(v, list) and len(v) == 3 and all(isinstance(x, (int, float)) and x > 0 for x in v)):
            raise PlanError(f"plan.{key} must be 3 positive numbers (i, j, k), got {v!r}")
    t = dict(TRAINING_DEFAULTS)
    t.update(plan.get("training") or {})
    aug = dict(TRAINING_DEFAULTS["augment"])
    aug.update((plan.get("training") or {}).get("augment") or {})
    t["augment"] = aug
    if t["schedule"] not in ("poly", "cosine", "constant"):
        raise PlanError(f"training.schedule must be poly, cosine or constant, got {t['schedule']!r}")
    if t["loss"] not in ("dice", "dice+ce"):
        raise PlanError(f"training.loss must be dice or dice+ce, got {t['loss']!r}")
    if t["freeze"] not in ("none", "encoder"):
        raise PlanError(f"training.freeze must be none or encoder, got {t['freeze']!r}")
    if t["norm"] not in ("instance", "batch"):
        raise PlanError(f"training.norm must be instance or batch, got {t['norm']!r}")
    if t["device"] not in ("auto", "cpu", "cuda"):
        raise PlanError(f"training.device must be auto, cpu or cuda, got {t['device']!r}")
    for key in ("epochs", "stepsPerEpoch", "batchSize", "levels", "baseChannels"):
        if not isinstance(t[key], int) or t[key] < 1:
            raise PlanError(f"training.{key} must be a positive integer, got {t[key]!r}")
    div = 2 ** (t["levels"] - 1)
    if any(int(p) % div for p in plan["patchSize"]):
        raise PlanError(f"patchSize {plan['patchSize']} must be multiples of 2^(levels-1) = {div}",
                        "choose a patch size divisible by that number or fewer levels")
    cases = plan.get("cases")
    if not isinstance(cases, list) or not cases:
        raise PlanError("plan.cases is empty", "the dataset needs train and val cases")
    plan["training"] = t
    return plan


def load_case(run, c, num_classes, np):
    size = c.get("size")
    if not (isinstance(size, list) and len(size) == 3):
        raise PlanError(f"case {c.get('id')}: size must be [i, j, k], got {size!r}")
    n = size[0] * size[1] * size[2]
    img_path = os.path.join(run, c["image"])
    lbl_path = os.path.join(run, c["labels"])
    try:
        img = np.fromfile(img_path, dtype="<f4")
        lbl = np.fromfile(lbl_path, dtype=np.uint8)
    except OSError as e:
        raise PlanError(f"case {c.get('id')}: cannot read its data: {e}", "recreate the run folder")
    if img.size != n or lbl.size != n:
        raise PlanError(
            f"case {c.get('id')}: data files hold {img.size} image and {lbl.size} label values, size {size} needs {n}",
            "recreate the run folder")
    if not np.all(np.isfinite(img)):
        raise PlanError(f"case {c.get('id')}: the image has NaN or infinite values")
    if lbl.max(initial=0) >= num_classes:
        raise PlanError(f"case {c.get('id')}: label value {int(lbl.max())} >= numClasses {num_classes}")
    # i fastest, then j, then k -> array [k, j, i] = [D, H, W]
    return img.astype(np.float32).reshape(size[2], size[1], size[0]), lbl.reshape(size[2], size[1], size[0])


# ----------------------------------------------------------------------------------------------
# model


def build_model(torch, in_channels, num_classes, base, levels, norm="instance"):
    nn = torch.nn
    F = torch.nn.functional

    def norm_layer(c):
        # batch: running statistics at inference, so predictions do not depend on the patch cut
        return nn.BatchNorm3d(c) if norm == "batch" else nn.InstanceNorm3d(c, affine=True)

    def conv_block(cin, cout, stride=1):
        return nn.Sequential(
            nn.Conv3d(cin, cout, 3, stride=stride, padding=1),
            norm_layer(cout),
            nn.LeakyReLU(0.01, inplace=True),
            nn.Conv3d(cout, cout, 3, padding=1),
            norm_layer(cout),
            nn.LeakyReLU(0.01, inplace=True),
        )

    class Up(nn.Module):
        """Nearest-neighbour Resize x2 then a 3x3x3 convolution (no ConvTranspose: WebGPU)."""

        def __init__(self, cin, cout):
            super().__init__()
            self.conv = nn.Conv3d(cin, cout, 3, padding=1)

        def forward(self, x):
            return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))

    class UNet3D(nn.Module):
        def __init__(self):
            super().__init__()
            ch = [min(base * 2 ** i, 320) for i in range(levels)]
            self.encoder = nn.ModuleList(
                [conv_block(in_channels, ch[0])] + [conv_block(ch[i - 1], ch[i], stride=2) for i in range(1, levels)])
            self.up = nn.ModuleList([Up(ch[i], ch[i - 1]) for i in range(levels - 1, 0, -1)])
            self.decoder = nn.ModuleList([conv_block(2 * ch[i - 1], ch[i - 1]) for i in range(levels - 1, 0, -1)])
            self.head = nn.Conv3d(ch[0], num_classes, 1)

        def forward_features(self, x):
            skips = []
            for i, block in enumerate(self.encoder):
                x = block(x)
                if i < len(self.encoder) - 1:
                    skips.append(x)
            for up, dec in zip(self.up, self.decoder):
                x = dec(torch.cat([up(x), skips.pop()], dim=1))
            return x

        def forward(self, x):
            return self.head(self.forward_features(x))

    return UNet3D()


# ----------------------------------------------------------------------------------------------
# losses and metrics


def soft_dice_loss(torch, logits, target, num_classes):
    """1 - mean soft Dice over the foreground classes, computed over the whole batch."""
    probs = torch.softmax(logits, dim=1)
    onehot = torch.nn.functional.one_hot(target.long(), num_classes).permute(0, 4, 1, 2, 3).to(probs.dtype)
    dims = (0, 2, 3, 4)
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + 1e-5) / (denom + 1e-5)
    return 1 - dice[1:].mean()


def compute_loss(torch, logits, target, num_classes, kind):
    loss = soft_dice_loss(torch, logits, target, num_classes)
    if kind == "dice+ce":
        loss = loss + torch.nn.functional.cross_entropy(logits, target.long())
    return loss


def hard_dice(np, pred, gt, c):
    p = pred == c
    g = gt == c
    s = int(p.sum()) + int(g.sum())
    if s == 0:
        return 1.0
    return 2.0 * int(np.logical_and(p, g).sum()) / s


# ----------------------------------------------------------------------------------------------
# sampling and augmentation


def pad_to(np, img, lbl, shape):
    pads = [(0, max(0, s - d)) for s, d in zip(shape, img.shape)]
    if any(p[1] for p in pads):
        img = np.pad(img, pads, mode="constant", constant_values=float(img.min()))
        lbl = np.pad(lbl, pads, mode="constant", constant_values=0)
    return img, lbl


class Sampler:
    def __init__(self, np, cases, patch, num_classes, oversample, rng):
        self.np = np
        self.patch = patch  # (D, H, W)
        self.rng = rng
        self.oversample = oversample
        self.cases = []
        for img, lbl in cases:
            img, lbl = pad_to(np, img, lbl, patch)
            fg = {}
            for c in range(1, num_classes):
                idx = np.flatnonzero(lbl == c)
                if idx.size:
                    fg[c] = idx
            self.cases.append((img, lbl, fg))

    def sample(self, batch):
        np = self.np
        P = self.patch
        imgs = np.empty((batch, 1) + tuple(P), np.float32)
        lbls = np.empty((batch,) + tuple(P), np.uint8)
        for b in range(batch):
            img, lbl, fg = self.cases[self.rng.integers(len(self.cases))]
            shape = img.shape
            if fg and self.rng.random() < self.oversample:
                c = list(fg.keys())[self.rng.integers(len(fg))]
                centre = np.unravel_index(fg[c][self.rng.integers(fg[c].size)], shape)
                start = [int(min(max(centre[a] - P[a] // 2 + self.rng.integers(-P[a] // 4, P[a] // 4 + 1), 0),
                                 shape[a] - P[a])) for a in range(3)]
            else:
                start = [int(self.rng.integers(0, shape[a] - P[a] + 1)) for a in range(3)]
            sl = tuple(slice(start[a], start[a] + P[a]) for a in range(3))
            imgs[b, 0] = img[sl]
            lbls[b] = lbl[sl]
        return imgs, lbls


def augment(torch, x, y, aug, gen):
    """x [N,1,D,H,W] float, y [N,D,H,W] long; random transforms drawn from the torch generator."""
    F = torch.nn.functional
    N = x.shape[0]
    dev = x.device

    def rnd(*shape):
        return torch.rand(*shape, generator=gen).to(dev)

    spatial = aug.get("rotate") or aug.get("scale") or aug.get("elastic")
    if spatial:
        theta = torch.zeros(N, 3, 4)
        theta[:, 0, 0] = theta[:, 1, 1] = theta[:, 2, 2] = 1
        any_change = False
        for n in range(N):
            m = torch.eye(3)
            if aug.get("rotate") and float(torch.rand(1, generator=gen)) < 0.3:
                ang = (torch.rand(3, generator=gen) * 2 - 1) * (15 * math.pi / 180)
                for a in range(3):
                    c, s = math.cos(float(ang[a])), math.sin(float(ang[a]))
                    r = torch.eye(3)
                    i, j = [(1, 2), (0, 2), (0, 1)][a]
                    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
                    m = r @ m
                any_change = True
            if aug.get("scale") and float(torch.rand(1, generator=gen)) < 0.3:
                m = m * (0.85 + 0.3 * float(torch.rand(1, generator=gen)))
                any_change = True
            theta[n, :, :3] = m
        grid = None
        if any_change:
            grid = F.affine_grid(theta.to(dev), list(x.shape), align_corners=False)
        if aug.get("elastic") and float(torch.rand(1, generator=gen)) < 0.2:
            if grid is None:
                grid = F.affine_grid(theta.to(dev), list(x.shape), align_corners=False)
            coarse = (torch.rand(N, 3, 4, 4, 4, generator=gen) * 2 - 1) * 0.06
            disp = F.interpolate(coarse.to(dev), size=tuple(x.shape[2:]), mode="trilinear", align_corners=False)
            grid = grid + disp.permute(0, 2, 3, 4, 1)
        if grid is not None:
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
            y = F.grid_sample(y[:, None].float(), grid, mode="nearest", padding_mode="zeros",
                              align_corners=False)[:, 0].round().long()
    if aug.get("flip"):
        for a in range(3):
            flip = rnd(N) < 0.5
            if bool(flip.any()):
                x = torch.where(flip[:, None, None, None, None], x.flip(2 + a), x)
                y = torch.where(flip[:, None, None, None], y.flip(1 + a), y)
    if aug.get("intensity"):
        scale = 0.9 + 0.2 * rnd(N, 1, 1, 1, 1)
        shift = (rnd(N, 1, 1, 1, 1) * 2 - 1) * 0.1
        x = x * scale + shift
    if aug.get("noise"):
        on = (rnd(N, 1, 1, 1, 1) < 0.15).float()
        sd = 0.1 * rnd(N, 1, 1, 1, 1)
        x = x + on * sd * torch.randn(x.shape, generator=gen).to(dev)
    return x, y


# ----------------------------------------------------------------------------------------------
# inference on whole cases (validation, export check)


def predict_case(torch, np, model, img, patch, levels, device, num_classes):
    """Logits [C, D, H, W] for a whole case: in one pass when it is small, else sliding window."""
    div = 2 ** (levels - 1)
    D, H, W = img.shape
    if D * H * W <= 160 ** 3 and device.type == "cuda" or D * H * W <= 96 ** 3:
        shape = [max(int(math.ceil(s / div) * div), p) for s, p in zip(img.shape, patch)]
        padded, _ = pad_to(np, img, np.zeros(img.shape, np.uint8), shape)
        with torch.no_grad():
            out = model(torch.from_numpy(np.ascontiguousarray(padded))[None, None].to(device))
        return out[0, :, :D, :H, :W].float().cpu()
    padded, _ = pad_to(np, img, np.zeros(img.shape, np.uint8), patch)
    shape = padded.shape
    acc = torch.zeros((num_classes,) + tuple(shape))
    cnt = torch.zeros(tuple(shape))
    starts = []
    for a in range(3):
        step = max(1, patch[a] // 2)
        s = list(range(0, shape[a] - patch[a] + 1, step))
        if s[-1] != shape[a] - patch[a]:
            s.append(shape[a] - patch[a])
        starts.append(s)
    with torch.no_grad():
        for z in starts[0]:
            for yy in starts[1]:
                for xx in starts[2]:
                    sl = (slice(z, z + patch[0]), slice(yy, yy + patch[1]), slice(xx, xx + patch[2]))
                    t = torch.from_numpy(np.ascontiguousarray(padded[sl]))[None, None].to(device)
                    acc[(slice(None),) + sl] += model(t)[0].float().cpu()
                    cnt[sl] += 1
    return (acc / cnt)[:, :D, :H, :W]


def validate(torch, np, model, val_cases, patch, levels, device, num_classes, loss_kind):
    model.eval()
    dices = [[] for _ in range(num_classes - 1)]
    losses = []
    for img, lbl in val_cases:
        logits = predict_case(torch, np, model, img, patch, levels, device, num_classes)
        target = torch.from_numpy(lbl.astype(np.int64))
        losses.append(float(compute_loss(torch, logits[None], target[None], num_classes, loss_kind)))
        pred = logits.argmax(0).numpy()
        for c in range(1, num_classes):
            dices[c - 1].append(hard_dice(np, pred, lbl, c))
    model.train()
    return float(np.mean(losses)), [float(np.mean(d)) for d in dices]


# ----------------------------------------------------------------------------------------------
# checkpoints


def atomic_save(torch, obj, path):
    tmp = f"{path}.tmp{os.getpid()}"
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def export_onnx(torch, np, model_cpu, run, patch, levels, check_input):
    # same submodules as the model, so the initializers keep their names (head.weight, head.bias)
    wrapped = _NamedExport(torch, model_cpu).eval()
    onnx_path = os.path.join(run, "model.onnx")
    tmp = onnx_path + f".tmp{os.getpid()}"
    dummy = torch.zeros((1, 1) + tuple(patch))
    axes = {0: "N", 2: "D", 3: "H", 4: "W"}
    with torch.no_grad():
        torch.onnx.export(
            wrapped, (dummy,), tmp, opset_version=17, input_names=["image"], output_names=["logits", "features"],
            dynamic_axes={"image": axes, "logits": axes, "features": axes}, do_constant_folding=True,
            export_params=True, keep_initializers_as_inputs=False)
    os.replace(tmp, onnx_path)
    # reference output of PyTorch on a fixed input, for comparing runtimes
    with torch.no_grad():
        out = wrapped(torch.from_numpy(check_input))[0].numpy().astype("<f4")
    check_input.astype("<f4").tofile(os.path.join(run, "export_check_in.f32"))
    out.tofile(os.path.join(run, "export_check_out.f32"))
    with open(os.path.join(run, "export_check.json"), "w", encoding="utf-8") as f:
        json.dump({"input": "export_check_in.f32", "dims": list(check_input.shape),
                   "logits": "export_check_out.f32", "logitsDims": list(out.shape)}, f)
    return onnx_path


def _NamedExport(torch, model):
    class NamedExport(torch.nn.Module):
        """Same submodules as the model (so initializers keep the names head.weight...), two outputs."""

        def __init__(self):
            super().__init__()
            self.encoder = model.encoder
            self.up = model.up
            self.decoder = model.decoder
            self.head = model.head
            self._f = type(model).forward_features

        def forward(self, image):
            feats = self._f(self, image)
            return self.head(feats), feats

    return NamedExport()


# ----------------------------------------------------------------------------------------------
# main


def main():
    ap = argparse.ArgumentParser(description="slice2solid 3D U-Net trainer (JSON lines on stdout)")
    ap.add_argument("--run", required=True, help="run folder holding plan.json")
    ap.add_argument("--resume", action="store_true", help="continue from <run>/checkpoints/last.pt")
    args = ap.parse_args()

    # idle OpenMP threads sleep instead of spinning: on a shared machine spinning threads that
    # wait for busy cores make training many times slower
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import numpy as np
        import torch
    except ImportError as e:
        fail(f"PyTorch (and numpy) are needed to train, but {sys.executable} cannot import them: {e}",
             INSTALL_HINT, 3)

    run = os.path.abspath(args.run)
    try:
        plan = read_plan(run)
    except PlanError as e:
        fail(str(e), e.hint or "check the run folder's plan.json (see docs/training-protocol.md)", 2)
    t = plan["training"]
    num_classes = plan["numClasses"]
    label_names = [str(l.get("name", f"label{i + 1}")) for i, l in enumerate(plan["labels"])]
    patch = [int(plan["patchSize"][2]), int(plan["patchSize"][1]), int(plan["patchSize"][0])]  # D, H, W
    start_time = time.time()

    try:
        threads = len(os.sched_getaffinity(0))
    except AttributeError:
        threads = os.cpu_count() or 1
    threads = int(os.environ.get("S2S_TRAIN_THREADS", threads))
    torch.set_num_threads(max(1, threads))

    if t["device"] == "cuda" and not torch.cuda.is_available():
        fail("training.device is cuda but PyTorch sees no CUDA device", "set device to auto or cpu", 2)
    device = torch.device("cuda" if t["device"] != "cpu" and torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    seed = int(t["seed"])
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed + 1)

    try:
        train_cases = [load_case(run, c, num_classes, np) for c in plan["cases"] if c.get("split") == "train"]
        val_cases = [load_case(run, c, num_classes, np) for c in plan["cases"] if c.get("split") == "val"]
    except PlanError as e:
        fail(str(e), e.hint or "recreate the run folder", 2)
    if not train_cases:
        fail("the plan has no train cases", "give the dataset more cases or change the split", 2)
    if not val_cases:
        fail("the plan has no val cases; validation Dice drives early stopping and the best checkpoint",
             "give the dataset at least 2 cases or change the split", 2)

    levels, base, norm = int(t["levels"]), int(t["baseChannels"]), t["norm"]
    init_state = None
    if t.get("init"):
        init_path = t["init"] if os.path.isabs(t["init"]) else os.path.join(run, t["init"])
        try:
            init_ckpt = torch.load(init_path, map_location="cpu")
        except Exception as e:  # noqa: BLE001
            fail(f"cannot load the initial weights {init_path}: {e}", "training.init must be a trainer checkpoint (.pt)", 2)
        cfg = init_ckpt.get("config", {})
        if cfg.get("levels", levels) != levels or cfg.get("baseChannels", base) != base:
            log(f"init checkpoint has levels={cfg.get('levels')} baseChannels={cfg.get('baseChannels')}; using them")
            levels, base = int(cfg.get("levels", levels)), int(cfg.get("baseChannels", base))
        if cfg.get("norm", "instance") != norm:
            log(f"init checkpoint has norm={cfg.get('norm', 'instance')}; using it")
            norm = cfg.get("norm", "instance")
        init_state = init_ckpt["model"]

    model = build_model(torch, 1, num_classes, base, levels, norm)
    if init_state is not None:
        own = model.state_dict()
        usable = {k: v for k, v in init_state.items() if k in own and own[k].shape == v.shape}
        skipped = sorted(set(own) - set(usable))
        model.load_state_dict(usable, strict=False)
        if skipped:
            log(f"init: {len(skipped)} tensors not taken from the checkpoint (new shapes): {', '.join(skipped)}")
    if t["freeze"] == "encoder":
        for p in model.encoder.parameters():
            p.requires_grad_(False)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=float(t["lr"]), weight_decay=float(t["weightDecay"]))
    epochs = int(t["epochs"])
    if t["schedule"] == "poly":
        factor = lambda e: max(0.0, 1 - e / epochs) ** 0.9  # noqa: E731
    elif t["schedule"] == "cosine":
        factor = lambda e: 0.5 * (1 + math.cos(math.pi * min(e, epochs) / epochs))  # noqa: E731
    else:
        factor = lambda e: 1.0  # noqa: E731
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)

    ckpt_dir = os.path.join(run, "checkpoints")
    os.makedirs(ckpt_dir, exist_ok=True)
    for name in os.listdir(ckpt_dir):  # temp files of a save that was killed half-way
        if ".pt.tmp" in name:
            os.remove(os.path.join(ckpt_dir, name))
    last_path = os.path.join(ckpt_dir, "last.pt")
    best_path = os.path.join(ckpt_dir, "best.pt")
    config = {"inChannels": 1, "numClasses": num_classes, "baseChannels": base, "levels": levels,
              "norm": norm, "labels": label_names, "patchSize": plan["patchSize"], "spacing": plan["spacing"]}

    start_epoch = 0
    best_epoch, best_dice = 0, -1.0
    stopped = None
    history = []
    resumed_from = None
    if args.resume:
        if os.path.exists(last_path):
            ck = torch.load(last_path, map_location="cpu")
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            sched.load_state_dict(ck["scheduler"])
            start_epoch = int(ck["epoch"])
            best_epoch, best_dice = int(ck["bestEpoch"]), float(ck["bestMeanValDice"])
            stopped = ck.get("stopped")
            history = ck.get("history", [])
            random.setstate(ck["rng"]["python"])
            np.random.set_state(ck["rng"]["numpy"])
            rng.bit_generator.state = ck["rng"]["numpyGenerator"]
            torch.set_rng_state(ck["rng"]["torch"])
            gen.set_state(ck["rng"]["augment"])
            if device.type == "cuda" and ck["rng"].get("cuda") is not None:
                torch.cuda.set_rng_state_all(ck["rng"]["cuda"])
            resumed_from = start_epoch
        else:
            log(f"--resume: no checkpoint at {last_path}; starting from the beginning")

    n_params = sum(p.numel() for p in model.parameters())
    emit("start", device=str(device), torch=torch.__version__, parameters=int(n_params),
         trainableParameters=int(sum(p.numel() for p in params)), resumedFromEpoch=resumed_from,
         epochs=epochs, threads=threads, levels=levels, baseChannels=base,
         trainCases=len(train_cases), valCases=len(val_cases))

    sampler = Sampler(np, train_cases, patch, num_classes, float(t["foregroundOversample"]), rng)
    steps = int(t["stepsPerEpoch"])
    batch = int(t["batchSize"])
    report_every = max(1, steps // 5)
    budget = None if t.get("maxMinutes") in (None, 0) else float(t["maxMinutes"]) * 60
    patience = t.get("earlyStopPatience")
    model.train()
    epoch = start_epoch
    while stopped is None and epoch < epochs:
        epoch += 1
        model.train()
        if t["freeze"] == "encoder":
            model.encoder.eval()  # a frozen encoder keeps its batch-norm statistics too
        t0 = time.time()
        losses = []
        lr = opt.param_groups[0]["lr"]
        for step in range(1, steps + 1):
            imgs, lbls = sampler.sample(batch)
            x = torch.from_numpy(imgs).to(device)
            y = torch.from_numpy(lbls.astype(np.int64)).to(device)
            x, y = augment(torch, x, y, t["augment"], gen)
            opt.zero_grad(set_to_none=True)
            loss = compute_loss(torch, model(x), y, num_classes, t["loss"])
            if not torch.isfinite(loss):
                raise RuntimeError(f"the loss became {float(loss)} at epoch {epoch} step {step}; lower training.lr")
            loss.backward()
            opt.step()
            losses.append(float(loss))
            if step % report_every == 0 or step == steps:
                emit("step", epoch=epoch, step=step, steps=steps, loss=float(loss))
        sched.step()
        val_loss, dices = validate(torch, np, model, val_cases, patch, levels, device, num_classes, t["loss"])
        mean_dice = float(sum(dices) / len(dices))
        seconds = time.time() - t0
        is_best = mean_dice > best_dice
        if is_best:
            best_epoch, best_dice = epoch, mean_dice
        record = {"epoch": epoch, "epochs": epochs, "trainLoss": float(np.mean(losses)), "valLoss": val_loss,
                  "valDice": dict(zip(label_names, dices)), "meanValDice": mean_dice, "lr": lr,
                  "seconds": round(seconds, 3)}
        history.append(record)
        emit("epoch", **record)
        elapsed = time.time() - start_time
        if patience and epoch - best_epoch >= int(patience):
            stopped = {"epoch": epoch, "reason": f"no validation Dice improvement for {int(patience)} epochs"}
        elif budget is not None and elapsed + seconds > budget and epoch < epochs:
            stopped = {"epoch": epoch, "reason": f"time budget of {t['maxMinutes']} minutes reached"}
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        if is_best:
            atomic_save(torch, {"model": state, "config": config, "epoch": epoch, "meanValDice": mean_dice,
                                "valDice": record["valDice"]}, best_path)
        atomic_save(torch, {
            "model": state, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "epoch": epoch,
            "bestEpoch": best_epoch, "bestMeanValDice": best_dice, "stopped": stopped, "history": history,
            "config": config,
            "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                    "numpyGenerator": rng.bit_generator.state, "torch": torch.get_rng_state(),
                    "augment": gen.get_state(),
                    "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None},
        }, last_path)
        emit("checkpoint", epoch=epoch, path=last_path, best=False)
        if is_best:
            emit("checkpoint", epoch=epoch, path=best_path, best=True)
        if stopped is not None:
            emit("early_stop", epoch=stopped["epoch"], reason=stopped["reason"])

    # export the best weights
    if not os.path.exists(best_path):
        fail("no best checkpoint to export", "train for at least one epoch", 1)
    best = torch.load(best_path, map_location="cpu")
    cpu_model = build_model(torch, 1, num_classes, base, levels, norm)
    cpu_model.load_state_dict(best["model"])
    cpu_model.eval()
    # fixed export-check input: a crop of the first validation case (real data, not noise)
    vimg = pad_to(np, val_cases[0][0], val_cases[0][1], patch)[0]
    check = np.ascontiguousarray(vimg[:patch[0], :patch[1], :patch[2]])[None, None].astype(np.float32)
    onnx_path = export_onnx(torch, np, cpu_model, run, patch, levels, check)
    emit("exported", path=onnx_path, opset=17, outputs=["logits", "features"],
         check=os.path.join(run, "export_check.json"))
    emit("done", bestEpoch=best_epoch, bestMeanValDice=best_dice, bestValDice=best.get("valDice"), onnx=onnx_path,
         epochs=len(history), seconds=round(time.time() - start_time, 3),
         trainSeconds=round(sum(h.get("seconds", 0) for h in history), 3))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        emit("error", message="training was interrupted", hint="run again with --resume to continue")
        sys.exit(130)
    except Exception as e:  # noqa: BLE001
        import traceback

        traceback.print_exc(file=sys.stderr)
        msg = str(e) or type(e).__name__
        hint = "see the trainer's stderr for the traceback"
        if "out of memory" in msg.lower():
            hint = "lower training.batchSize, patchSize or baseChannels, or use the CPU"
        emit("error", message=f"{type(e).__name__}: {msg}", hint=hint)
        sys.exit(1)
