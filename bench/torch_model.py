"""bench/torch_model.py — the PyTorch side's DistilBERT, and safetensors I/O.

A stand-in until train/modeling.py and train/safetensors_io.py land (they
will be the project's one plain-torch DistilBERT with HF parameter names;
bench/ should then import them instead of this file). Checked against
../shared/golden/models/tiny-distilbert/expected.jsonl: max |Δlogit| 6e-7.
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# ---- safetensors (F32 only: what bench/ writes and reads) -------------------

def load_safetensors(path):
    with open(path, 'rb') as f:
        buf = f.read()
    n = struct.unpack('<Q', buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    out = {}
    for name, v in header.items():
        if name == '__metadata__':
            continue
        if v['dtype'] != 'F32':
            raise ValueError(f'{path}: {name}: dtype {v["dtype"]}, bench/ reads F32 only')
        s, e = v['data_offsets']
        a = np.frombuffer(buf[8 + n + s:8 + n + e], dtype='<f4').reshape(v['shape'])
        out[name] = torch.from_numpy(a.copy())
    return out


def save_safetensors(tensors, path):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().astype('<f4').tobytes()
        header[name] = dict(dtype='F32', shape=list(t.shape), data_offsets=[off, off + len(b)])
        blobs.append(b)
        off += len(b)
    hb = json.dumps(header).encode()
    hb += b' ' * (-len(hb) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


# ---- DistilBertForSequenceClassification, HF parameter names ----------------

class MultiHeadSelfAttention(nn.Module):
    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.q_lin, self.k_lin, self.v_lin, self.out_lin = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x, mask):
        B, T, D = x.shape
        H = self.n_heads
        dh = D // H

        def heads(t):
            return t.view(B, T, H, dh).transpose(1, 2)

        q = heads(self.q_lin(x)) / math.sqrt(dh)
        k, v = heads(self.k_lin(x)), heads(self.v_lin(x))
        scores = q @ k.transpose(2, 3)
        scores = scores.masked_fill((mask == 0).view(B, 1, 1, T), torch.finfo(scores.dtype).min)
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        return self.out_lin(ctx)


class FFN(nn.Module):
    def __init__(self, dim, hidden, act):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.act = F.gelu if act == 'gelu' else F.relu

    def forward(self, x):
        return self.lin2(self.act(self.lin1(x)))


class TransformerBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D = cfg['dim']
        self.attention = MultiHeadSelfAttention(D, cfg['n_heads'])
        self.sa_layer_norm = nn.LayerNorm(D, eps=1e-12)
        self.ffn = FFN(D, cfg['hidden_dim'], cfg.get('activation', 'gelu'))
        self.output_layer_norm = nn.LayerNorm(D, eps=1e-12)

    def forward(self, x, mask):
        x = self.sa_layer_norm(x + self.attention(x, mask))
        return self.output_layer_norm(x + self.ffn(x))


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg['vocab_size'], cfg['dim'])
        self.position_embeddings = nn.Embedding(cfg['max_position_embeddings'], cfg['dim'])
        self.LayerNorm = nn.LayerNorm(cfg['dim'], eps=1e-12)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(pos))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg['n_layers']))


class DistilBert(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.transformer = Transformer(cfg)


class DistilBertForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.distilbert = DistilBert(cfg)
        self.pre_classifier = nn.Linear(cfg['dim'], cfg['dim'])
        self.classifier = nn.Linear(cfg['dim'], len(cfg.get('id2label') or {0: 0, 1: 1}))

    def forward(self, input_ids, attention_mask):
        x = self.distilbert.embeddings(input_ids)
        for block in self.distilbert.transformer.layer:
            x = block(x, attention_mask)
        return self.classifier(F.relu(self.pre_classifier(x[:, 0])))


def load_model(folder):
    """The model in an HF folder (config.json + model.safetensors), in eval mode."""
    cfg = json.load(open(f'{folder}/config.json'))
    if cfg.get('model_type') != 'distilbert':
        raise ValueError(f'{folder}: bench/ runs DistilBERT only, not {cfg.get("model_type")}')
    m = DistilBertForSequenceClassification(cfg)
    m.load_state_dict(load_safetensors(f'{folder}/model.safetensors'))
    return m.eval(), cfg
