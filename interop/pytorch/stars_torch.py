"""The STARS toolkit's looped model in PyTorch: the bridge to distributed training.

One module, plain PyTorch (no other dependency), equal to the toolkit's
`LoopedLM` for the options listed in SUPPORTED below:

- safetensors read/write (struct + json + torch.frombuffer),
- the toolkit's seeded generator (utils/rng.ts: mixSeed, mulberry32, Box-Muller),
  vectorised, so initial weights, loop counts, dropout masks and batches are
  the toolkit's for the same (seed, step),
- the arithmetic task's batches (tasks/generate.ts, split.ts, batch.ts),
- `LoopedLM` with the toolkit's parameter names and layouts (`x @ w + b`),
- the STARS penalty (VJP power iteration by exact double backprop, or the
  toolkit's central-difference JVP),
- AdamW, the schedule and the global-norm clip as train/adamw.ts computes them,
- checkpoints in the toolkit's layout (model.safetensors, optimizer.safetensors,
  checkpoint.json with SHA-256 of both).

What differs from the toolkit: the penalty's random start vector is drawn by
torch's generator (tfjs's is not ported), float32 rounding of each op, and
there is no held-out evaluation (come back to the toolkit for that).
"""

import hashlib
import json
import math
import os
import struct

import torch
import torch.nn as nn

M32 = 0xFFFFFFFF
C_STEP = 0x6D2B79F5
TWO32 = 4294967296.0
LN_EPS = 1e-5
TINY = 1e-30


class InputError(Exception):
    """Bad input (a file, a config key): printed as one line, exit code 2."""


# ---------------------------------------------------------------- safetensors

_DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def load_safetensors(path):
    """Returns ({name: float32 tensor}, metadata) of a safetensors file."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})")
    if len(raw) < 8:
        raise InputError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100_000_000 or 8 + n > len(raw):
        raise InputError(f"{path}: header length {n} does not fit the file")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise InputError(f"{path}: header is not JSON ({e})")
    meta = header.pop("__metadata__", {}) or {}
    data = raw[8 + n:]
    out = {}
    ends = []
    for name, e in header.items():
        if e.get("dtype") not in _DTYPES:
            raise InputError(f'{path}: tensor "{name}" has dtype {e.get("dtype")!r}; readable: F32, F16, BF16')
        dtype, size = _DTYPES[e["dtype"]]
        begin, end = e["data_offsets"]
        count = math.prod(e["shape"])
        if end - begin != count * size or end > len(data):
            raise InputError(f'{path}: tensor "{name}" has data_offsets that do not fit its shape')
        ends.append((begin, end))
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if count else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).to(torch.float32)
    at = 0
    for begin, end in sorted(ends):
        if begin != at:
            raise InputError(f"{path}: tensor offsets leave a gap or overlap")
        at = end
    if at != len(data):
        raise InputError(f"{path}: file length does not match its header")
    return out, meta


def encode_safetensors(tensors, metadata=None):
    """Bytes of a safetensors file of float32 tensors (list of (name, tensor)), header padded to 8."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, t in tensors:
        b = t.detach().to(torch.float32).contiguous().cpu().numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header, separators=(",", ":"))
    raw = text.encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"".join(blobs)


def save_safetensors(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(encode_safetensors(tensors, metadata))


# ------------------------------------------------------------- the toolkit RNG

def _imul(a, b):
    return (a * b) & M32


def mix_seed(*parts):
    """utils/rng.ts mixSeed: hashes integers into one 32-bit seed."""
    h = 0x9E3779B9
    for p in parts:
        p = int(p)
        h = _imul(h ^ (p & M32), 0x85EBCA6B)
        h ^= h >> 13
        h = _imul(h, 0xC2B2AE35)
        h ^= h >> 16
        hi = (p // 4294967296) & M32
        h = _imul(h ^ hi, 0x27D4EB2F)
        h ^= h >> 15
    return h


class Rng:
    """utils/rng.ts Rng (mulberry32), sequential."""

    def __init__(self, seed):
        self.state = mix_seed(seed)

    def next(self):
        self.state = (self.state + C_STEP) & M32
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / TWO32

    def int(self, lo, hi):
        return lo + math.floor(self.next() * (hi - lo + 1))

    def normal(self):
        u = 1 - self.next()
        v = self.next()
        return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * v)


def _vimul(a, b):
    lo = b & 0xFFFF
    hi = b >> 16
    return (a * lo + (((a * hi) & 0xFFFF) << 16)) & M32


def rng_bits(state0, index):
    """The 32-bit outputs number `index` (int64 tensor, 0-based) of Rng.fromState(state0)."""
    t = (state0 + (index + 1) * C_STEP) & M32
    t = _vimul(t ^ (t >> 15), t | 1)
    t = t ^ ((t + _vimul(t ^ (t >> 7), t | 61)) & M32)
    return (t ^ (t >> 14)) & M32


def rng_normals(state0, start, count, device="cpu"):
    """Rng.normal() number start .. start+count-1 of a generator at state0, in float64."""
    i = torch.arange(start, start + count, dtype=torch.int64, device=device)
    u = 1 - rng_bits(state0, 2 * i).to(torch.float64) / TWO32
    v = rng_bits(state0, 2 * i + 1).to(torch.float64) / TWO32
    return torch.sqrt(-2 * torch.log(u)) * torch.cos(2 * math.pi * v)


def dropout_mask(seed, rate, index):
    """models/ops.ts dropout: the mask values (0 or 1/(1-rate)) at flat positions `index`."""
    bits = rng_bits(mix_seed(seed), index)
    scale = torch.tensor(1 / (1 - rate), dtype=torch.float32)
    keep = bits.to(torch.float64) >= rate * TWO32
    return torch.where(keep, scale.to(index.device), torch.zeros((), device=index.device))


# ------------------------------------------------------------------ the config

# The toolkit's DEFAULT_CONFIG (train/config.ts); a test checks they agree.
DEFAULTS = {
    "task": "addition", "digits": 4, "reverse": True, "steps_min": 2, "steps_max": 4, "data": "",
    "tokenizer": "char", "chain_steps_min": 1, "chain_steps_max": 4, "chain_test_steps_max": 0,
    "chain_distractors": 2, "chain_order": "shuffled", "chain_ops": "+-", "chain_questions": 1, "chain_hide_answers": False,
    "d_model": 32,
    "n_heads": 4, "d_ff": 64,
    "n_layers": 1, "prelude_layers": 0,
    "coda_layers": 0, "dropout": 0, "norm_placement": "sandwich_dual", "norm_type": "layernorm",
    "injection": "none", "init_state": "embedding", "init_std": 0.08, "max_seq_len": 0,
    "loop_sampler": "fixed",
    "loops": 4, "loop_mu": 2, "loop_sigma": 0.7, "loop_min": 1, "loop_max": 100, "loop_lambda": 5,
    "loop_mean": 32, "loop_backprop": 8, "reg_weight": 0, "reg_kind": "spectral", "reg_iters": 1,
    "reg_mode": "jvp", "reg_warmup": 0, "reg_samples": 1, "reg_probe": "gaussian", "reg_eps": 0.1,
    "steps": 3000, "batch_size": 64, "lr": 0.003, "min_lr_ratio": 0.1, "warmup_steps": 100,
    "weight_decay": 0.01, "beta1": 0.9, "beta2": 0.999, "grad_clip": 1, "seed": 1, "eval_size": 500,
    "eval_every": 250, "eval_loops": 0, "checkpoint_every": 250, "backend": "auto", "init": "",
    "attn_dropout": "output", "reg_dropout": False, "reg_start": "at_warmup",
    "decay_scope": "matrices",
}

# Values of the toolkit's keys that this side does not implement.
SUPPORTED = {
    "task": ("addition", "multiplication"),
    "tokenizer": ("char",),
    "data": ("",),
    "loop_sampler": ("fixed", "lognormal", "uniform"),
    "init_state": ("embedding", "zeros"),
    "reg_kind": ("spectral",),
}

# Keys that only the toolkit's own runs read (evaluation, backend).
IGNORED = ("eval_size", "eval_every", "eval_loops", "backend", "steps_min", "steps_max", "chain_steps_min",
           "chain_steps_max", "chain_test_steps_max", "chain_distractors", "chain_order",
           "chain_ops", "chain_questions", "chain_hide_answers")


def resolve_config(partial):
    """The toolkit's defaults overlaid with `partial`; unknown or unsupported keys are InputErrors."""
    if not isinstance(partial, dict):
        raise InputError("config: must be one JSON object")
    for key in partial:
        if key not in DEFAULTS:
            raise InputError(f'unknown config key "{key}" (the toolkit has no such key)')
    c = dict(DEFAULTS)
    c.update(partial)
    for key, value in c.items():
        d = DEFAULTS[key]
        ok = isinstance(value, bool) if isinstance(d, bool) else (
            isinstance(value, (int, float)) and not isinstance(value, bool)
            if isinstance(d, (int, float)) else isinstance(value, str))
        if not ok:
            raise InputError(f'config key "{key}" has the wrong type: {value!r}')
    for key, allowed in SUPPORTED.items():
        if c[key] not in allowed:
            raise InputError(
                f'config key "{key}": {c[key]!r} is not supported by the PyTorch side '
                f"(supported: {', '.join(map(repr, allowed))})")
    if c["d_model"] % c["n_heads"]:
        raise InputError(f'config key "n_heads" must divide d_model ({c["d_model"]})')
    if c["reg_weight"] > 0 and c["reg_mode"] not in ("vjp", "jvp"):
        raise InputError(f'config key "reg_mode": {c["reg_mode"]!r} is not supported')
    return c


# -------------------------------------------------------------------- the task

SYMBOLS = [str(i) for i in range(10)] + ["+", "=", " "]
PAD, EOS = 13, 14


def task_of(c):
    op = "*" if c["task"] == "multiplication" else "+"
    ids = {s: i for i, s in enumerate(SYMBOLS)}
    if op == "*":
        ids["*"] = 15
    digits = c["digits"]
    most = digits + 1 if op == "+" else 2 * digits
    return {"op": op, "ids": ids, "vocab_size": 16 if op == "*" else 15,
            "seq_len": 2 * digits + 2 + most + 1, "digits": digits, "reverse": c["reverse"]}


def _split_of(a, b, op):
    return "test" if mix_seed(0x5A17, 1 if op == "+" else 2, a, b) / TWO32 < 0.1 else "train"


def sample_problems(task, seed, count, split="train"):
    """tasks/generate.ts generateProblems (with replacement): (prompt, target) pairs."""
    d = task["digits"]
    lo, hi = (0 if d == 1 else 10 ** (d - 1)), 10 ** d - 1
    rng = Rng(seed)
    out = []
    while len(out) < count:
        a = rng.int(lo, hi)
        b = rng.int(lo, hi)
        if _split_of(a, b, task["op"]) != split:
            continue
        answer = str(a + b if task["op"] == "+" else a * b)
        out.append((f"{a}{task['op']}{b}=", " " + (answer[::-1] if task["reverse"] else answer)))
    return out


def train_batch(c, task, step):
    """train/data.ts trainBatch: (inputs, targets, mask) of step `step`, [batch, seq_len]."""
    problems = sample_problems(task, mix_seed(c["seed"], step, 11), c["batch_size"])
    n, length = len(problems), task["seq_len"]
    inputs = torch.full((n, length), PAD, dtype=torch.int64)
    targets = torch.full((n, length), PAD, dtype=torch.int64)
    mask = torch.zeros((n, length), dtype=torch.float32)
    for i, (prompt, target) in enumerate(problems):
        seq = [task["ids"][ch] for ch in prompt + target] + [EOS]
        for t in range(len(seq) - 1):
            inputs[i, t] = seq[t]
            targets[i, t] = seq[t + 1]
            if t + 1 >= len(prompt):
                mask[i, t] = 1
    return inputs, targets, mask


def sample_loops(c, step):
    """regularizers/loop_sampler.ts sampleLoops for the supported kinds: the step's loop count."""
    rng = Rng(mix_seed(c["seed"], step))
    kind = c["loop_sampler"]
    if kind == "fixed":
        return c["loops"]
    if kind == "lognormal":
        x = math.exp(c["loop_mu"] + c["loop_sigma"] * rng.normal())
        return min(max(math.floor(x + 0.5), c["loop_min"]), c["loop_max"])
    if kind == "uniform":
        return rng.int(c["loop_min"], c["loop_max"])
    raise InputError(f'config key "loop_sampler": {kind!r} is not supported by the PyTorch side')


def learning_rate(step, c):
    """train/schedule.ts learningRate."""
    if step < c["warmup_steps"]:
        return c["lr"] * (step + 1) / c["warmup_steps"]
    span = max(1, c["steps"] - c["warmup_steps"])
    progress = min(1, (step - c["warmup_steps"]) / span)
    low = c["lr"] * c["min_lr_ratio"]
    return low + 0.5 * (c["lr"] - low) * (1 + math.cos(math.pi * progress))


# ------------------------------------------------------------------- the model

def model_config_of(c, task):
    """train/data.ts modelConfigOf, in its key order."""
    keys = ["d_model", "n_heads", "d_ff", "n_layers", "prelude_layers", "coda_layers", "dropout",
            "norm_placement", "norm_type", "injection", "init_state", "init_std"]
    positions = c["max_seq_len"]
    if positions != 0 and positions < task["seq_len"]:
        raise InputError(f'config key "max_seq_len" must be 0 or at least the {task["seq_len"]} '
                         f'positions the task needs, got {positions}')
    return {"vocab_size": task["vocab_size"], "max_seq_len": positions or task["seq_len"],
            **{k: c[k] for k in keys}}


def _norms(placement):
    return placement != "post_norm", placement != "pre_norm"


def param_specs(m):
    """models/params.ts paramSpecs: (name, shape, init) in the toolkit's order."""
    d = m["d_model"]
    specs = [("embed.tok", [m["vocab_size"], d], "normal"), ("embed.pos", [m["max_seq_len"], d], "normal")]

    def norm(name):
        specs.append((f"{name}.gain", [d], "ones"))
        if m["norm_type"] == "layernorm":
            specs.append((f"{name}.bias", [d], "zeros"))

    def layer(prefix):
        pre, post = _norms(m["norm_placement"])
        for branch in ("attn", "mlp"):
            if pre:
                norm(f"{prefix}.{branch}_pre")
            if post:
                norm(f"{prefix}.{branch}_post")
        specs.extend([
            (f"{prefix}.attn.wqkv", [d, 3 * d], "normal"), (f"{prefix}.attn.bqkv", [3 * d], "zeros"),
            (f"{prefix}.attn.wo", [d, d], "normal"), (f"{prefix}.attn.bo", [d], "zeros"),
            (f"{prefix}.mlp.w1", [d, m["d_ff"]], "normal"), (f"{prefix}.mlp.b1", [m["d_ff"]], "zeros"),
            (f"{prefix}.mlp.w2", [m["d_ff"], d], "normal"), (f"{prefix}.mlp.b2", [d], "zeros"),
        ])

    for i in range(m["prelude_layers"]):
        layer(f"prelude.{i}")
    if m["injection"] == "linear":
        specs.append(("inject.w", [2 * d, d], "normal"))
    for i in range(m["n_layers"]):
        layer(f"block.{i}")
    for i in range(m["coda_layers"]):
        layer(f"coda.{i}")
    norm("final_norm")
    return specs


def init_values(m, seed):
    """models/params.ts initParams: the toolkit's initial weights for a seed."""
    state0 = mix_seed(seed)
    used = 0
    out = {}
    for name, shape, init in param_specs(m):
        n = math.prod(shape)
        if init == "normal":
            out[name] = (rng_normals(state0, used, n) * m["init_std"]).to(torch.float32).reshape(shape)
            used += n
        else:
            out[name] = (torch.ones if init == "ones" else torch.zeros)(shape, dtype=torch.float32)
    return out


class _Holder(nn.Module):
    """Holds parameters under the toolkit's dotted names (nested modules)."""


class Dropout:
    """One forward pass's dropout: the toolkit's seeds and masks, for rows row0.. of a global batch."""

    def __init__(self, training, rate, seed, stream, rows, where="output"):
        self.on = training and rate > 0
        self.rate, self.seed, self.stream, self.counter = rate, seed, stream, 0
        self.row0, self.batch = rows
        self.where = where

    def next_seed(self):
        s = mix_seed(self.seed, self.stream, self.counter)
        self.counter += 1
        return s

    def __call__(self, x, heads=None):
        """x: [b, T, d] (rows of the global batch), or [b, H, T, T] attention probabilities."""
        if not self.on:
            return x
        seed = self.next_seed()
        dev = x.device
        b = torch.arange(self.row0, self.row0 + x.shape[0], dtype=torch.int64, device=dev)
        if heads is None:
            per = x.shape[1] * x.shape[2]
            idx = b.view(-1, 1, 1) * per + torch.arange(per, dtype=torch.int64, device=dev).view(1, x.shape[1], x.shape[2])
        else:
            # The toolkit's probabilities are [H * B, T, T], head-major.
            h = torch.arange(heads, dtype=torch.int64, device=dev).view(1, heads, 1, 1)
            tt = x.shape[2] * x.shape[3]
            inner = torch.arange(tt, dtype=torch.int64, device=dev).view(1, 1, x.shape[2], x.shape[3])
            idx = (h * self.batch + b.view(-1, 1, 1, 1)) * tt + inner
        return x * dropout_mask(seed, self.rate, idx).to(x.dtype)


class LoopedLM(nn.Module):
    """The toolkit's LoopedLM: parameters named and laid out as the toolkit's (state_dict keys)."""

    def __init__(self, m, values=None, seed=1):
        super().__init__()
        unsupported = [(k, m[k]) for k, ok in (("init_state", ("embedding", "zeros")),) if m[k] not in ok]
        if unsupported:
            raise InputError(f'model config "{unsupported[0][0]}": {unsupported[0][1]!r} is not supported')
        self.m = m
        values = values if values is not None else init_values(m, seed)
        for name, shape, _ in param_specs(m):
            if name not in values:
                raise InputError(f'tensor "{name}" missing (the model config needs it)')
            v = values[name]
            if list(v.shape) != shape:
                raise InputError(f'tensor "{name}" has shape {list(v.shape)}, the model config needs {shape}')
            *path, leaf = name.split(".")
            holder = self
            for part in path:
                if not hasattr(holder, part):
                    holder.add_module(part, _Holder())
                holder = getattr(holder, part)
            holder.register_parameter(leaf, nn.Parameter(v.clone()))
        extra = sorted(set(values) - {n for n, _, _ in param_specs(m)})
        if extra:
            raise InputError(f'tensor "{extra[0]}" is not a parameter of the model config')

    def p(self, name):
        return self.get_parameter(name)

    def norm(self, x, name):
        gain = self.p(f"{name}.gain")
        if self.m["norm_type"] == "layernorm":
            # By hand, not F.layer_norm: every derivative order is right through plain ops.
            mean = x.mean(-1, keepdim=True)
            var = ((x - mean) ** 2).mean(-1, keepdim=True)
            return (x - mean) * torch.rsqrt(var + LN_EPS) * gain + self.p(f"{name}.bias")
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + LN_EPS) * gain

    def attention(self, x, prefix, drop):
        b, t, d = x.shape
        h = self.m["n_heads"]
        dh = d // h
        qkv = (x @ self.p(f"{prefix}.wqkv") + self.p(f"{prefix}.bqkv")).view(b, t, 3, h, dh)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # [b, h, t, dh]
        scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(dh))
        mask = torch.triu(torch.full((t, t), -1e9, dtype=x.dtype, device=x.device), diagonal=1)
        probs = torch.softmax(scores + mask, dim=-1)
        if drop.where == "probs":
            probs = drop(probs, heads=h)
        mixed = (probs @ v).transpose(1, 2).reshape(b, t, d)
        return mixed @ self.p(f"{prefix}.wo") + self.p(f"{prefix}.bo")

    def mlp(self, x, prefix):
        hidden = torch.nn.functional.gelu(x @ self.p(f"{prefix}.w1") + self.p(f"{prefix}.b1"))
        return hidden @ self.p(f"{prefix}.w2") + self.p(f"{prefix}.b2")

    def residual(self, x, branch, prefix, which):
        placement = self.m["norm_placement"]
        pre = lambda y: self.norm(y, f"{prefix}.{which}_pre")  # noqa: E731
        post = lambda y: self.norm(y, f"{prefix}.{which}_post")  # noqa: E731
        if placement == "pre_norm":
            return x + branch(pre(x))
        if placement == "post_norm":
            return post(x + branch(x))
        if placement == "sandwich_branch":
            return x + post(branch(pre(x)))
        return post(x + branch(pre(x)))

    def layer(self, x, prefix, drop):
        out_drop = (lambda y: y) if drop.where == "probs" else drop
        x = self.residual(x, lambda y: out_drop(self.attention(y, f"{prefix}.attn", drop)), prefix, "attn")
        return self.residual(x, lambda y: drop(self.mlp(y, f"{prefix}.mlp")), prefix, "mlp")

    def _drop(self, stream, training, seed, rows, where):
        return Dropout(training, self.m["dropout"], seed, stream, rows, where)

    def embed_input(self, ids, training=False, seed=0, rows=None, where="output"):
        rows = rows or (0, ids.shape[0])
        t = ids.shape[1]
        if t > self.m["max_seq_len"]:
            raise InputError(f"sequence length {t} exceeds max_seq_len {self.m['max_seq_len']}")
        x = self.p("embed.tok")[ids] + self.p("embed.pos")[:t]
        drop = self._drop(1, training, seed, rows, where)
        x = drop(x)
        for i in range(self.m["prelude_layers"]):
            x = self.layer(x, f"prelude.{i}", drop)
        return x

    def initial_state(self, e):
        return e if self.m["init_state"] == "embedding" else torch.zeros_like(e)

    def step(self, h, e, loop=0, training=False, seed=0, rows=None, where="output"):
        rows = rows or (0, h.shape[0])
        x = h
        if self.m["injection"] == "add":
            x = h + e
        elif self.m["injection"] == "linear":
            x = torch.cat([h, e], -1) @ self.p("inject.w")
        drop = self._drop(100 + loop, training, seed, rows, where)
        for i in range(self.m["n_layers"]):
            x = self.layer(x, f"block.{i}", drop)
        return x

    def readout(self, h, training=False, seed=0, rows=None, where="output"):
        rows = rows or (0, h.shape[0])
        drop = self._drop(3, training, seed, rows, where)
        x = h
        for i in range(self.m["coda_layers"]):
            x = self.layer(x, f"coda.{i}", drop)
        x = self.norm(x, "final_norm")
        return x @ self.p("embed.tok").t()

    def forward(self, ids, loops, training=False, seed=0, rows=None, where="output", keep_state=False):
        """Logits [B, T, vocab] after `loops` loops (and the final state when keep_state)."""
        kw = dict(training=training, seed=seed, rows=rows, where=where)
        e = self.embed_input(ids, **kw)
        h = self.initial_state(e)
        for i in range(loops):
            h = self.step(h, e, loop=i, **kw)
        logits = self.readout(h, **kw)
        return (logits, h, e) if keep_state else logits

    def values(self):
        """{toolkit name: tensor} in the toolkit's order."""
        return {name: self.p(name).detach() for name, _, _ in param_specs(self.m)}


# ----------------------------------------------------------------- the penalty

def power_penalty(model, e, h, v0, iters=1, mode="vjp", eps=0.1, maps=None):
    """STARS' penalty R = ||u_K||^2 of K power-iteration steps at the detached state h.

    vjp: u_k = J^T v_{k-1} by reverse mode with create_graph=True, so R's
    parameter gradient is the exact double backprop (normalisations
    included). jvp: u_k = J v_{k-1} by the toolkit's central difference
    (eps in state norm), differentiated by first-order reverse mode.
    `maps(k)` gives iteration k's map (dropout on: fresh masks per
    iteration); default: the deterministic one-loop map.
    Returns (R, rho = sqrt(R) detached). v0 is a unit vector (over the whole
    global state; here the rows this process holds).
    """
    f_at = maps or (lambda k: (lambda x: model.step(x, e)))
    v = v0
    u = v0
    x = h.detach().requires_grad_(mode == "vjp")
    for k in range(1, iters + 1):
        f = f_at(k)
        if mode == "vjp":
            y = f(x)
            u = torch.autograd.grad(y, x, grad_outputs=v, create_graph=True)[0]
        else:
            step = eps / torch.clamp(torch.linalg.vector_norm(v), min=TINY)
            dv = v * step
            u = (f(h + dv) - f(h - dv)) / (step * 2)
        if k < iters:
            v = u / torch.clamp(torch.linalg.vector_norm(u), min=TINY)
    r = (u * u).sum()
    return r, r.detach().sqrt()


# ----------------------------------------------------------------- AdamW, clip

def is_decayed(name, shape, scope="matrices"):
    """train/adamw.ts isDecayed (scope "all": every parameter)."""
    return scope == "all" or (len(shape) >= 2 and not name.startswith("embed.pos"))


class AdamW:
    """train/adamw.ts AdamW, the same arithmetic (unfused form), moments by toolkit name."""

    def __init__(self, model, state=None):
        self.t = 0
        self.m, self.v = {}, {}
        for name, p in model.named_parameters():
            self.m[name] = torch.zeros_like(p.detach())
            self.v[name] = torch.zeros_like(p.detach())
        if state:
            self.t = state["t"]
            for name in self.m:
                self.m[name] = state["m"][name].to(self.m[name].device).clone()
                self.v[name] = state["v"][name].to(self.v[name].device).clone()

    @torch.no_grad()
    def apply(self, model, lr, c, scale=None):
        self.t += 1
        c1, c2 = 1 - c["beta1"] ** self.t, 1 - c["beta2"] ** self.t
        for name, p in model.named_parameters():
            if p.grad is None:
                continue
            g = p.grad * scale if scale is not None else p.grad
            m2 = self.m[name] * c["beta1"] + g * (1 - c["beta1"])
            v2 = self.v[name] * c["beta2"] + g * g * (1 - c["beta2"])
            update = (m2 / c1) / (torch.sqrt(v2 / c2) + 1e-8)
            decay = 1 - lr * c["weight_decay"] if is_decayed(name, p.shape, c["decay_scope"]) else 1
            p.copy_(p * decay - update * lr)
            self.m[name], self.v[name] = m2, v2


def clip_scale(model, max_norm):
    """train/adamw.ts gradNormScale: (norm, factor or None)."""
    squares = [(p.grad * p.grad).sum() for p in model.parameters() if p.grad is not None]
    norm = torch.sqrt(torch.stack(squares).sum())
    if max_norm <= 0:
        return norm, None
    return norm, torch.clamp(max_norm / (norm + 1e-6), max=1.0)


# ----------------------------------------------------------------- checkpoints

def _sha256(raw):
    return hashlib.sha256(raw).hexdigest()


def _write(path, raw):
    tmp = f"{path}.tmp-torch"
    with open(tmp, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def save_checkpoint(out, model, opt, step, config, extra=None):
    """A checkpoint in the toolkit's layout (train/checkpoint.ts), renamed into place last."""
    os.makedirs(out, exist_ok=True)
    m = model.m
    meta = {"stars_checkpoint": "2", "step": str(step)}
    names = [n for n, _, _ in param_specs(m)]
    vals = model.values()
    model_raw = encode_safetensors([(n, vals[n]) for n in names],
                                   {**meta, "model_config": json.dumps(m, separators=(",", ":"))})
    opt_raw = encode_safetensors(
        [(f"exp_avg.{n}", opt.m[n]) for n in names] + [(f"exp_avg_sq.{n}", opt.v[n]) for n in names],
        {**meta, "optimizer": "adamw", "optimizer_step": str(opt.t)})
    manifest = {
        "format": "stars-checkpoint", "version": 2, "step": step, "optimizer_step": opt.t,
        "model": m, "config": config,
        "rng": {"seed": config.get("seed"), "next_step": step},
        "computed_by": {"backend": "pytorch", "torch": torch.__version__,
                        "device": str(next(model.parameters()).device),
                        "world_size": int(os.environ.get("WORLD_SIZE", "1"))},
        "files": {
            "model": {"file": "model.safetensors", "bytes": len(model_raw), "sha256": _sha256(model_raw)},
            "optimizer": {"file": "optimizer.safetensors", "bytes": len(opt_raw), "sha256": _sha256(opt_raw)},
        },
        "extra": extra or {},
    }
    temps = [(_write(f"{out}/model.safetensors", model_raw), "model.safetensors"),
             (_write(f"{out}/optimizer.safetensors", opt_raw), "optimizer.safetensors"),
             (_write(f"{out}/checkpoint.json", (json.dumps(manifest, indent=1) + "\n").encode()),
              "checkpoint.json")]
    for tmp, name in temps:
        os.replace(tmp, f"{out}/{name}")


def _check_hash(path, record):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) != record["bytes"] or _sha256(raw) != record["sha256"]:
        raise InputError(f"{path}: content does not match checkpoint.json (another save or run)")


def load_checkpoint(out, with_optimizer=True):
    """(manifest, {name: tensor}, optimizer state or None) of a toolkit-layout checkpoint folder."""
    try:
        with open(f"{out}/checkpoint.json") as f:
            manifest = json.load(f)
    except OSError:
        raise InputError(f"{out}/checkpoint.json: missing: not a checkpoint folder")
    if manifest.get("version") != 2:
        raise InputError(f"{out}/checkpoint.json: version {manifest.get('version')}; this side reads version 2")
    files = manifest["files"]
    _check_hash(f"{out}/{files['model']['file']}", files["model"])
    values, _ = load_safetensors(f"{out}/{files['model']['file']}")
    state = None
    if with_optimizer and files.get("optimizer"):
        _check_hash(f"{out}/{files['optimizer']['file']}", files["optimizer"])
        moments, _ = load_safetensors(f"{out}/{files['optimizer']['file']}")
        names = [n for n, _, _ in param_specs(manifest["model"])]
        state = {"t": manifest["optimizer_step"],
                 "m": {n: moments[f"exp_avg.{n}"] for n in names},
                 "v": {n: moments[f"exp_avg_sq.{n}"] for n in names}}
    return manifest, values, state


# The reference implementation's names (train/weights.ts referenceName).
_REF_NORMS = {"attn_pre": "ln_1_pre", "attn_post": "ln_1_post", "mlp_pre": "ln_2_pre", "mlp_post": "ln_2_post"}
_REF_LINEARS = {"attn.wqkv": "attn.c_attn.weight", "attn.bqkv": "attn.c_attn.bias",
                "attn.wo": "attn.c_proj.weight", "attn.bo": "attn.c_proj.bias",
                "mlp.w1": "mlp.c_fc.weight", "mlp.b1": "mlp.c_fc.bias",
                "mlp.w2": "mlp.c_proj.weight", "mlp.b2": "mlp.c_proj.bias"}


def reference_names(name):
    """(reference names, transposed) of a toolkit parameter name."""
    if name == "embed.tok":
        return ["token_embedding.weight", "lm_head.weight"], False
    if name == "embed.pos":
        return ["position_embedding.weight"], False
    if name == "inject.w":
        return ["inject.weight"], True
    part = {"gain": "weight", "bias": "bias"}
    if name.startswith("final_norm."):
        return [f"ln_f.{part[name.split('.')[1]]}"], False
    kind, index, rest = name.split(".", 2)
    prefix = f"{'layers' if kind == 'block' else kind}.{index}"
    if rest in _REF_LINEARS:
        return [f"{prefix}.{_REF_LINEARS[rest]}"], rest.split(".")[1].startswith("w")
    which, leaf = rest.split(".")
    return [f"{prefix}.{_REF_NORMS[which]}.{part[leaf]}"], False


def weights_from_file(path, m):
    """{toolkit name: tensor} from a safetensors file under either naming, checked against m."""
    tensors, _ = load_safetensors(path)
    reference = "token_embedding.weight" in tensors or "lm_head.weight" in tensors
    if not reference and "embed.tok" not in tensors:
        raise InputError(f"{path}: tensor names fit neither the toolkit's nor the reference's naming")
    out, used = {}, set()
    for name, shape, _ in param_specs(m):
        refs, transposed = reference_names(name) if reference else ([name], False)
        found = [r for r in refs if r in tensors]
        if not found:
            raise InputError(f'{path}: tensor "{refs[0]}" missing (the model config needs it)')
        used.update(found)
        t = tensors[found[0]]
        t = t.t().contiguous() if transposed else t
        if list(t.shape) != shape:
            raise InputError(f'{path}: tensor "{found[0]}" does not fit the model config (shape {list(t.shape)})')
        out[name] = t
    extra = sorted(set(tensors) - used)
    if extra:
        raise InputError(f'{path}: tensor "{extra[0]}" is not a parameter of the model config')
    return out
