"""STARS training of the toolkit's looped model on PyTorch's DistributedDataParallel.

    torchrun --nproc_per_node N interop/pytorch/train.py --config CONFIG.json --out DIR [--init FILE_OR_DIR]

(`python3 -m torch.distributed.run` where `torchrun` is not on PATH; one
process runs without it.) CONFIG.json holds the toolkit's config keys (the
same JSON `deno task train --config` reads; missing keys take the toolkit's
defaults). Each step draws the toolkit's batch and loop count for (seed,
step); process r of N takes rows r*B/N .. (r+1)*B/N of the batch and the
gradients are averaged, so N processes on B/N rows equal one on B. NCCL on
GPUs (one process per device), gloo on CPUs. DIR receives checkpoints in the
toolkit's layout (model.safetensors, optimizer.safetensors, checkpoint.json)
and metrics.jsonl; the same command resumes from DIR, and `deno task eval`,
`analyze` and `train` read DIR as they read their own runs.

Exit codes: 0 trained; 2 bad input (a config key this side does not support,
a file that does not fit); 3 a non-finite step (the last finite weights saved).
"""

import argparse
import json
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stars_torch as st  # noqa: E402

RESUMABLE = {"eval_every", "eval_size", "checkpoint_every", "backend"}
SHAPE_KEYS = ["vocab_size", "max_seq_len", "d_model", "n_heads", "d_ff", "n_layers", "prelude_layers",
              "coda_layers", "norm_placement", "norm_type", "injection", "init_state"]


class Objective(torch.nn.Module):
    """One process's share of a step's loss, as a module DistributedDataParallel wraps."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, targets, mask, count, loops, c, step, rows, weight, v0):
        m = self.model
        world = rows[2]
        kw = dict(training=True, seed=st.mix_seed(c["seed"], step, 21), rows=rows[:2], where=c["attn_dropout"])
        logits, state, e = m(ids, loops, keep_state=True, **kw)
        logp = torch.log_softmax(logits, -1)
        picked = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        ce = -(picked * mask).sum() / max(count, 1)
        wrong = ((logits.argmax(-1) != targets).float() * mask).sum(-1)
        correct = (wrong == 0).float().sum()
        if weight > 0:
            seed = st.mix_seed(c["seed"], step, 22)
            maps = None
            if c["reg_dropout"]:
                maps = lambda k: (lambda x: m.step(x, e, loop=0, training=True,  # noqa: E731
                                                   seed=st.mix_seed(seed, 23, k), rows=rows[:2],
                                                   where=c["attn_dropout"]))
            reg, rho = st.power_penalty(m, e, state.detach(), v0, c["reg_iters"], c["reg_mode"],
                                        c["reg_eps"], maps)
            local = (1 - weight) * ce + weight * reg
        else:
            reg = rho = None
            local = ce
        # DDP averages gradients over processes: scale so the average is the whole batch's.
        return local * world, (ce.detach(), correct, reg.detach() if reg is not None else None)


def fail(message, code=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def start_values(c, m, source):
    """Parameters from a checkpoint folder or a safetensors file (either naming), checked against m."""
    if os.path.isdir(source):
        manifest, values, _ = st.load_checkpoint(source, with_optimizer=False)
        found = manifest["model"]
        bad = [k for k in SHAPE_KEYS if found.get(k) != m[k]]
        if bad:
            raise st.InputError(
                f'--init {source}: config key "{bad[0]}" is {m[bad[0]]!r}, the weights have {found.get(bad[0])!r}')
        return values, {"source": source, "kind": "checkpoint", "step": manifest["step"]}
    values = st.weights_from_file(source, m)
    return values, {"source": source, "kind": "safetensors"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="JSON object of the toolkit's config keys")
    ap.add_argument("--out", required=True, help="run folder (resumed when it holds a checkpoint)")
    ap.add_argument("--init", help="checkpoint folder or safetensors file to start from")
    ap.add_argument("--stop_at", type=int, help="save and stop after this step (the same command resumes)")
    args = ap.parse_args()

    distributed = "RANK" in os.environ and int(os.environ.get("WORLD_SIZE", "1")) >= 1 and "MASTER_ADDR" in os.environ
    cuda = torch.cuda.is_available()
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)

    try:
        try:
            with open(args.config) as f:
                raw = json.load(f)
        except (OSError, ValueError) as e:
            raise st.InputError(f"--config: cannot read {args.config} ({e})")
        if args.init is not None:
            raw["init"] = args.init
        c = st.resolve_config(raw)
        if c["batch_size"] % world:
            raise st.InputError(f'config key "batch_size" ({c["batch_size"]}) must be a multiple of the {world} processes')
        if world > 1 and c["reg_weight"] > 0 and c["reg_iters"] > 1:
            raise st.InputError('config key "reg_iters": more than 1 power step needs one process '
                                "(the normalisation spans the whole batch)")
        task = st.task_of(c)
        m = st.model_config_of(c, task)
        step, extra, state = 0, {}, None
        resumed = os.path.exists(f"{args.out}/checkpoint.json")
        if resumed:
            manifest, values, state = st.load_checkpoint(args.out)
            saved = manifest["config"]
            differing = [k for k in c if k not in RESUMABLE and saved.get(k, st.DEFAULTS[k]) != c[k]]
            if differing:
                raise st.InputError(f"cannot resume {args.out}: the checkpoint was trained with different "
                                    f"{', '.join(differing)}")
            if state is None:
                raise st.InputError(f"{args.out}: has no optimizer state to resume from")
            step, extra = manifest["step"], manifest.get("extra", {})
        elif c["init"]:
            values, extra["init"] = start_values(c, m, c["init"])
        else:
            values = st.init_values(m, c["seed"])
        model = st.LoopedLM(m, values).to(device)
    except st.InputError as e:
        fail(str(e))

    opt = st.AdamW(model, state)
    objective = Objective(model)
    ddp = torch.nn.parallel.DistributedDataParallel(
        objective, device_ids=[local_rank] if cuda else None) if distributed else objective
    per = c["batch_size"] // world
    lo = rank * per
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        if not resumed:
            open(f"{args.out}/metrics.jsonl", "w").close()
        print(f"{'resuming at' if resumed else 'starting'} step {step}/{c['steps']}, {world} process(es) "
              f"on {device.type}, {sum(p.numel() for p in model.parameters())} parameters", flush=True)

    def save(at):
        if rank == 0:
            st.save_checkpoint(args.out, model, opt, at, c, extra)
        if distributed:
            dist.barrier()

    while step < c["steps"]:
        if args.stop_at is not None and step >= args.stop_at:
            save(step)
            if rank == 0:
                print(f"stopped at step {step}; checkpoint in {args.out}", flush=True)
            return
        inputs, targets, mask = st.train_batch(c, task, step)
        count = float(mask.sum())
        rows = slice(lo, lo + per)
        loops = st.sample_loops(c, step)
        lr = st.learning_rate(step, c)
        first = step > c["reg_warmup"] if c["reg_start"] == "after_warmup" else step >= c["reg_warmup"]
        weight = c["reg_weight"] if c["reg_weight"] > 0 and first else 0
        v0 = None
        if weight > 0:
            g = torch.Generator().manual_seed(st.mix_seed(c["seed"], step, 22))
            z = torch.randn((c["batch_size"], task["seq_len"], m["d_model"]), generator=g)
            v0 = (z / torch.linalg.vector_norm(z))[rows].to(device)
        for p in model.parameters():
            p.grad = None
        local, (ce, correct, reg) = ddp(inputs[rows].to(device), targets[rows].to(device), mask[rows].to(device),
                                        count, loops, c, step, (lo, c["batch_size"], world), weight, v0)
        local.backward()
        logs = torch.stack([ce, correct, reg if reg is not None else torch.zeros((), device=device)])
        if distributed:
            dist.all_reduce(logs)
        ce_all, correct_all, reg_all = (float(x) for x in logs)
        loss = (1 - weight) * ce_all + weight * reg_all if weight > 0 else ce_all
        norm, scale = st.clip_scale(model, c["grad_clip"])
        metrics = {"loss": loss, "grad_norm": float(norm), "ce": ce_all, "accuracy": correct_all / c["batch_size"]}
        if weight > 0:
            metrics.update(reg=reg_all, rho=reg_all ** 0.5)
        if not all(map(lambda x: x == x and abs(x) != float("inf"), metrics.values())):
            save(step)
            fail(f"non-finite loss at step {step}: {metrics}; the checkpoint of step {step} in {args.out} "
                 "holds the last finite weights", 3)
        opt.apply(model, lr, c, scale)
        step += 1
        if rank == 0:
            with open(f"{args.out}/metrics.jsonl", "a") as f:
                f.write(json.dumps({"step": step, "loops": loops, "lr": lr, **metrics}) + "\n")
            if step % 50 == 0 or step == c["steps"]:
                print(f"step {step}/{c['steps']}  loss {loss:.4f}  loops {loops}  lr {lr:.2e}", flush=True)
        if c["checkpoint_every"] > 0 and step % c["checkpoint_every"] == 0 and step < c["steps"]:
            save(step)
    save(step)
    if rank == 0:
        print(f"done: {step} steps; checkpoint in {args.out}", flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
