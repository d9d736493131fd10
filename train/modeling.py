"""Plain-torch DistilBERT / BERT for sequence classification.

state_dict() names and shapes are exactly HuggingFace's, so a model.safetensors written
from here loads in `transformers` and in the C engine, and HF checkpoints load here.
Exact erf GELU, LayerNorm eps 1e-12, padding mask on the keys.

    ids (B, T) --embeddings--> x (B, T, C) --n_layers blocks--> h (B, T, C)
    h[:, 0] --pre_classifier--> ReLU --classifier--> logits (B, num_labels)   (DistilBERT)
    h[:, 0] --pooler.dense--> tanh --classifier--> logits                     (BERT)
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

# Special ids of the bert-base-uncased vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK]
PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103
NOT_MASKED = (PAD, UNK, CLS, SEP, MASK)  # what masking (pretrain.py, --token-drop) never replaces


def maskable(ids):
    """Bool tensor, ids' shape: True where a token is not one of NOT_MASKED."""
    return ~torch.isin(ids, torch.tensor(NOT_MASKED, dtype=ids.dtype))


def load_config(folder):
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        return json.load(f)


def _num_labels(cfg):
    return len(cfg.get("id2label") or {"0": 0, "1": 1})


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, dim, n_heads, q, k, v, o, dropout):
        super().__init__()
        self.n_heads = n_heads
        self.dim = dim
        self._names = (q, k, v, o)
        for n in self._names:
            setattr(self, n, nn.Linear(dim, dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        # x (B, T, C); mask (B, T) 1 = token, 0 = padding
        B, T, C = x.shape
        H, D = self.n_heads, C // self.n_heads
        qn, kn, vn, on = self._names
        q = getattr(self, qn)(x).view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = getattr(self, kn)(x).view(B, T, H, D).transpose(1, 2)
        v = getattr(self, vn)(x).view(B, T, H, D).transpose(1, 2)
        q = q / math.sqrt(D)
        scores = q @ k.transpose(-1, -2)  # (B, H, T, T)
        if mask is not None:
            scores = scores.masked_fill((mask == 0)[:, None, None, :], torch.finfo(scores.dtype).min)
        w = self.dropout(F.softmax(scores, dim=-1))
        ctx = (w @ v).transpose(1, 2).reshape(B, T, C)
        return getattr(self, on)(ctx)


# ---------------------------------------------------------------- DistilBERT

class DistilEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim = cfg["dim"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], dim, padding_idx=cfg.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = nn.Dropout(cfg.get("dropout", 0.1))

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None]
        return self.dropout(self.LayerNorm(x))


class FFN(nn.Module):
    def __init__(self, dim, hidden, dropout):
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.lin2(F.gelu(self.lin1(x))))  # exact erf GELU


class TransformerBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim = cfg["dim"]
        self.attention = MultiHeadSelfAttention(dim, cfg["n_heads"], "q_lin", "k_lin", "v_lin", "out_lin",
                                                cfg.get("attention_dropout", 0.1))
        self.sa_layer_norm = nn.LayerNorm(dim, eps=1e-12)
        self.ffn = FFN(dim, cfg["hidden_dim"], cfg.get("dropout", 0.1))
        self.output_layer_norm = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, x, mask):
        x = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(x) + x)


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([TransformerBlock(cfg) for _ in range(cfg["n_layers"])])

    def forward(self, x, mask):
        for blk in self.layer:
            x = blk(x, mask)
        return x


class DistilBertModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = DistilEmbeddings(cfg)
        self.transformer = Transformer(cfg)

    def forward(self, ids, mask=None):
        return self.transformer(self.embeddings(ids), mask)


class DistilBertForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.get("sinusoidal_pos_embds"):
            raise ValueError("sinusoidal_pos_embds is not supported")
        if cfg.get("activation", "gelu") != "gelu":
            raise ValueError("activation %r is not supported" % cfg.get("activation"))
        self.config = cfg
        dim = cfg["dim"]
        self.distilbert = DistilBertModel(cfg)
        self.pre_classifier = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, _num_labels(cfg))
        self.dropout = nn.Dropout(cfg.get("seq_classif_dropout", 0.2))
        self.apply(lambda m: _init(m, cfg.get("initializer_range", 0.02)))

    def forward(self, ids, mask=None):
        h = self.distilbert(ids, mask)[:, 0]
        h = self.dropout(F.relu(self.pre_classifier(h)))
        return self.classifier(h)


# ---------------------------------------------------------------- BERT

class BertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], C, padding_idx=cfg.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], C)
        self.token_type_embeddings = nn.Embedding(cfg.get("type_vocab_size", 2), C)
        self.LayerNorm = nn.LayerNorm(C, eps=cfg.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class _Dense(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.dense = nn.Linear(i, o)


class _DenseLN(nn.Module):
    def __init__(self, i, o, eps, p):
        super().__init__()
        self.dense = nn.Linear(i, o)
        self.LayerNorm = nn.LayerNorm(o, eps=eps)
        self.dropout = nn.Dropout(p)

    def forward(self, h, resid):
        return self.LayerNorm(self.dropout(self.dense(h)) + resid)


class BertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["hidden_size"]
        self.self = MultiHeadSelfAttention(C, cfg["num_attention_heads"], "query", "key", "value", "_unused",
                                           cfg.get("attention_probs_dropout_prob", 0.1))
        del self.self._unused
        self.self._names = ("query", "key", "value", None)
        self.output = _DenseLN(C, C, cfg.get("layer_norm_eps", 1e-12), cfg.get("hidden_dropout_prob", 0.1))


class BertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, I = cfg["hidden_size"], cfg["intermediate_size"]
        self.attention = BertAttention(cfg)
        self.intermediate = _Dense(C, I)
        self.output = _DenseLN(I, C, cfg.get("layer_norm_eps", 1e-12), cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, x, mask):
        a = self.attention.self
        B, T, C = x.shape
        H, D = a.n_heads, C // a.n_heads
        q = a.query(x).view(B, T, H, D).transpose(1, 2) / math.sqrt(D)
        k = a.key(x).view(B, T, H, D).transpose(1, 2)
        v = a.value(x).view(B, T, H, D).transpose(1, 2)
        s = q @ k.transpose(-1, -2)
        if mask is not None:
            s = s.masked_fill((mask == 0)[:, None, None, :], torch.finfo(s.dtype).min)
        ctx = (a.dropout(F.softmax(s, dim=-1)) @ v).transpose(1, 2).reshape(B, T, C)
        x = self.attention.output(ctx, x)
        return self.output(F.gelu(self.intermediate.dense(x)), x)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg["num_hidden_layers"])])


class BertModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = _Dense(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, ids, mask=None):
        x = self.embeddings(ids)
        for blk in self.encoder.layer:
            x = blk(x, mask)
        return torch.tanh(self.pooler.dense(x[:, 0]))


class BertForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError("hidden_act %r is not supported" % cfg.get("hidden_act"))
        self.config = cfg
        self.bert = BertModel(cfg)
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))
        self.classifier = nn.Linear(cfg["hidden_size"], _num_labels(cfg))
        self.apply(lambda m: _init(m, cfg.get("initializer_range", 0.02)))

    def forward(self, ids, mask=None):
        return self.classifier(self.dropout(self.bert(ids, mask)))


# ---------------------------------------------------------------- helpers

def _init(m, std):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=std)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Embedding):
        nn.init.normal_(m.weight, std=std)
        if m.padding_idx is not None:
            with torch.no_grad():
                m.weight[m.padding_idx].zero_()
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def build(cfg):
    mt = cfg.get("model_type")
    if mt == "distilbert":
        return DistilBertForSequenceClassification(cfg)
    if mt == "bert":
        return BertForSequenceClassification(cfg)
    raise ValueError("unsupported model_type %r" % mt)


def from_pretrained(folder, dtype=torch.float32, strict=True):
    """Load an HF folder (config.json + model.safetensors). With strict=False, a checkpoint
    without the classification head (e.g. distilbert-base-uncased) loads with a fresh head."""
    from safetensors_io import load_torch
    cfg = load_config(folder)
    model = build(cfg)
    sd = load_torch(os.path.join(folder, "model.safetensors"), dtype=torch.float32)
    own = model.state_dict()
    bad = [k for k, v in sd.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    if bad:
        raise ValueError("shape mismatch for %s" % ", ".join(bad))
    missing, unexpected = model.load_state_dict({k: v for k, v in sd.items() if k in own}, strict=False)
    if strict and (missing or [k for k in sd if k not in own]):
        raise ValueError("missing %s; unexpected %s" % (missing, [k for k in sd if k not in own]))
    return model.to(dtype), cfg, missing


def pad_batch(seqs, pad_id=0):
    """list of 1-D int sequences -> (ids LongTensor (B, T), mask LongTensor (B, T))."""
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
        mask[i, :len(s)] = 1
    return ids, mask
