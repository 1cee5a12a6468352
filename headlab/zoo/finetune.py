"""Fine-tune a copy of the default model, to see how head roles change when the model changes.

Pande et al. (2021) ask how fine-tuning moves head roles. The task here is built from
headlab's own corpus, so it runs offline: classify the relation of a sentence pair
(paraphrase, entailment, contradiction, negation, qa, unrelated; ``hl.corpus.pair_kinds()``)
from the mean-pooled output of all-MiniLM-L6-v2, the way sentence-transformers pools it.
Training is deterministic (fixed seed, fixed order) and takes about a minute on 2 CPU cores.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from headlab import corpus


def finetune_pair_kinds(m, *, epochs: int = 4, lr: float = 1e-4, batch_size: int = 16, seed: int = 0,
                        progress: bool = False):
    """Return a new ``HeadModel``: a fine-tuned copy of ``m`` (``m`` itself is untouched).

    Args:
        m: an encoder ``HeadModel`` (e.g. ``hl.load()``).
        epochs, lr, batch_size, seed: training settings (AdamW, full fine-tuning).
    Returns:
        ``(HeadModel, losses)``: the fine-tuned model and the mean loss of each epoch.
    """
    torch.manual_seed(seed)
    model = copy.deepcopy(m.model).train()
    kinds = corpus.pair_kinds()
    labels = sorted(set(kinds))
    y_all = torch.tensor([labels.index(k) for k in kinds])
    pairs = corpus.pairs()
    head = torch.nn.Linear(model.config.hidden_size, len(labels))
    opt = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=lr)
    rng = np.random.default_rng(seed)
    losses = []
    steps = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="fine-tune", unit="epoch")
    for _ in steps:
        order = rng.permutation(len(pairs))
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = m.tokenizer([pairs[i][0] for i in idx], [pairs[i][1] for i in idx],
                              padding=True, return_tensors="pt")
            out = model(**enc).last_hidden_state
            mask = enc["attention_mask"][..., None].float()
            pooled = (out * mask).sum(1) / mask.sum(1)
            loss = torch.nn.functional.cross_entropy(head(pooled), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(pairs))
    model.eval()
    # type(m) is HeadModel: building the same class keeps the zoo below the model layer.
    return type(m)(model, m.tokenizer, name=f"{m.name} (fine-tuned: pair kinds)"), losses
