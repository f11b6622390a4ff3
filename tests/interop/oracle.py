"""Test oracle for tests/interop/interop_pytorch.test.ts: runs interop/pytorch/stars_torch.py on files
the toolkit wrote and writes what it computed. Usage: oracle.py COMMAND IN.json OUT."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interop", "pytorch"))
import stars_torch as st  # noqa: E402


class RefBlock(torch.nn.Module):
    """The reference implementation's block layout (a small copy for the test, sandwich norm)."""

    def __init__(self, d, d_ff):
        super().__init__()
        self.ln_1_pre = torch.nn.LayerNorm(d)
        self.ln_1_post = torch.nn.LayerNorm(d)
        self.attn = torch.nn.Module()
        self.attn.c_attn = torch.nn.Linear(d, 3 * d)
        self.attn.c_proj = torch.nn.Linear(d, d)
        self.ln_2_pre = torch.nn.LayerNorm(d)
        self.ln_2_post = torch.nn.LayerNorm(d)
        self.mlp = torch.nn.Module()
        self.mlp.c_fc = torch.nn.Linear(d, d_ff)
        self.mlp.c_proj = torch.nn.Linear(d_ff, d)


class RefModel(torch.nn.Module):
    def __init__(self, vocab, max_len, d, heads, d_ff, layers):
        super().__init__()
        self.heads = heads
        self.token_embedding = torch.nn.Embedding(vocab, d)
        self.position_embedding = torch.nn.Embedding(max_len, d)
        self.layers = torch.nn.ModuleList([RefBlock(d, d_ff) for _ in range(layers)])
        self.ln_f = torch.nn.LayerNorm(d)
        self.lm_head = torch.nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.token_embedding.weight

    def attend(self, blk, x):
        b, t, d = x.shape
        q, k, v = blk.attn.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / (d // self.heads) ** 0.5
        att = att.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool)), float("-inf")).softmax(-1)
        return blk.attn.c_proj((att @ v).transpose(1, 2).reshape(b, t, d))

    def forward(self, ids, loops):
        x = self.token_embedding(ids) + self.position_embedding(torch.arange(ids.shape[1]))
        for _ in range(loops):
            for blk in self.layers:
                x = blk.ln_1_post(x + self.attend(blk, blk.ln_1_pre(x)))
                x = blk.ln_2_post(x + blk.mlp.c_proj(torch.nn.functional.gelu(blk.mlp.c_fc(blk.ln_2_pre(x)))))
        return self.lm_head(self.ln_f(x))


def main():
    command, spec_path, out = sys.argv[1:4]
    with open(spec_path) as f:
        spec = json.load(f)
    if command == "defaults":
        json.dump(st.DEFAULTS, open(out, "w"))
    elif command == "streams":
        c = st.resolve_config(spec["config"])
        task = st.task_of(c)
        m = st.model_config_of(c, task)
        batches = [[t.flatten().tolist() for t in st.train_batch(c, task, s)] for s in range(spec["steps"])]
        loops = [st.sample_loops(c, s) for s in range(spec["loop_steps"])]
        init = st.init_values(m, c["seed"])
        mask = st.dropout_mask(spec["drop_seed"], 0.25, torch.arange(spec["drop_n"])).tolist()
        json.dump({"batches": batches, "loops": loops, "model": m, "mask": mask,
                   "init": {k: v.flatten().tolist() for k, v in init.items()}}, open(out, "w"))
    elif command == "logits":
        values, meta = st.load_safetensors(spec["weights"])
        m = json.loads(meta["model_config"])
        model = st.LoopedLM(m, st.weights_from_file(spec["weights"], m))
        ids = torch.tensor(spec["ids"])
        with torch.no_grad():
            tensors = [(f"logits.{n}", model(ids, n)) for n in spec["loops"]]
        st.save_safetensors(out, tensors)
        # The way back: the module's parameters, with the metadata it read.
        st.save_safetensors(spec["resave"], list(model.values().items()), meta)
    elif command == "reference":
        values, meta = st.load_safetensors(spec["weights"])
        m = json.loads(meta["model_config"])
        ref = RefModel(m["vocab_size"], m["max_seq_len"], m["d_model"], m["n_heads"], m["d_ff"], m["n_layers"])
        ref.load_state_dict(values, strict=True)
        with torch.no_grad():
            st.save_safetensors(out, [("logits", ref(torch.tensor(spec["ids"]), spec["loops"]))])
    elif command == "penalty":
        values, meta = st.load_safetensors(spec["weights"])
        m = json.loads(meta["model_config"])
        model = st.LoopedLM(m, values)
        inputs, _ = st.load_safetensors(spec["inputs"])
        ids = torch.tensor(spec["ids"])
        e = model.embed_input(ids)
        reg, _ = st.power_penalty(model, e, inputs["h"], inputs["v0"], spec["iters"], spec["mode"], 0.1)
        names = [n for n, _, _ in st.param_specs(m)]
        grads = torch.autograd.grad(reg, [model.p(n) for n in names], allow_unused=True)
        tensors = [("value", reg.detach().reshape(1))]
        tensors += [(f"grad.{n}", g if g is not None else torch.zeros_like(model.p(n))) for n, g in zip(names, grads)]
        st.save_safetensors(out, tensors)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
