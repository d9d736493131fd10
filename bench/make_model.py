#!/usr/bin/env python3
"""bench/make_model.py — the models bench/run.sh feeds every engine.

    python3 bench/make_model.py random OUT VOCAB.txt   # DistilBERT-base, random weights
    python3 bench/make_model.py export SRC OUT          # ONNX files for the model in SRC

`random` writes OUT/config.json, OUT/vocab.txt, OUT/model.safetensors: dim 768,
6 layers, 12 heads, FFN 3072, vocab 30522 (66,955,010 parameters), weights
N(0, 0.02), LayerNorm gains 1 ± 0.02, seed 1234 — then exports it like `export`.

`export` writes, from the same weights:
  OUT/model.onnx        torch.onnx.export, opset 17, dynamic batch and sequence
  OUT/model.fused.onnx  the graph ORT's transformer optimizer would produce,
                        built with python3-onnx: com.microsoft Attention (one
                        QKV MatMul, mask as lengths), SkipLayerNormalization,
                        BiasGelu. ORT's own session optimizer does not fuse the
                        attention of the torch export; this is the fast graph.
  OUT/model.int8.onnx   the same graph with ORT's dynamic int8 operators, what
                        onnxruntime.quantization.quantize_dynamic emits: each
                        MatMul a DynamicQuantizeMatMul, Attention a
                        DynamicQuantizeLinear + QAttention; weights int8,
                        symmetric, per tensor; activations u8, quantized at
                        run time. The head (Gemm) stays F32.
Inputs input_ids, attention_mask (int64, batch × seq); output logits.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

# The project's one plain-torch DistilBERT (HF names) and safetensors writer.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'train'))
import modeling  # noqa: E402
from safetensors_io import save_torch  # noqa: E402

BASE = dict(architectures=['DistilBertForSequenceClassification'], model_type='distilbert',
            activation='gelu', dim=768, hidden_dim=3072, n_heads=12, n_layers=6,
            max_position_embeddings=512, vocab_size=30522, pad_token_id=0,
            sinusoidal_pos_embds=False, id2label={'0': 'NEGATIVE', '1': 'POSITIVE'},
            label2id={'NEGATIVE': 0, 'POSITIVE': 1}, torch_dtype='float32')


def make_random(out, vocab):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1234)
    m = modeling.build(BASE).eval()
    with torch.no_grad():  # every parameter random (biases too), so no term is trivially 0
        for name, p in m.named_parameters():
            if 'LayerNorm' in name or 'layer_norm' in name:
                p.copy_((1.0 if name.endswith('weight') else 0.0) + 0.02 * torch.randn_like(p))
            else:
                p.copy_(0.02 * torch.randn_like(p))
    with open(f'{out}/config.json', 'w') as f:
        json.dump(BASE, f, indent=2)
    shutil.copy(vocab, f'{out}/vocab.txt')
    save_torch(m.state_dict(), f'{out}/model.safetensors', dtype='F32')
    print(f'{out}: {sum(p.numel() for p in m.parameters()):,} parameters', file=sys.stderr)


def export_torch(m, path):
    ids = torch.randint(1000, 2000, (2, 16))
    axes = {0: 'batch', 1: 'seq'}
    torch.onnx.export(m, (ids, torch.ones_like(ids)), path, opset_version=17,
                      input_names=['input_ids', 'attention_mask'], output_names=['logits'],
                      dynamic_axes={'input_ids': axes, 'attention_mask': axes, 'logits': {0: 'batch'}})


def q8(a):
    """Symmetric per-tensor int8, as quantize_dynamic's weights: (q, scale)."""
    scale = np.float32(max(np.abs(a).max(), 1e-12) / 127.0)
    return np.clip(np.rint(a / scale), -127, 127).astype(np.int8), scale


def export_fused(m, cfg, path, int8=False):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    W = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    D, L, H = cfg['dim'], cfg['n_layers'], cfg['n_heads']
    inits, nodes = [], []

    def init(name, a):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(a), name))
        return name

    def node(op, ins, out, domain='', **attrs):
        nodes.append(helper.make_node(op, ins, [out], domain=domain, **attrs))
        return out

    ms = 'com.microsoft'

    def matmul(a, name, w):  # a (…, K) · w (K, N)
        if not int8:
            return node('MatMul', [a, init(name, w)], f'{name}_y')
        q, sc = q8(w)
        return node('DynamicQuantizeMatMul', [a, init(name, q), init(f'{name}_s', np.array(sc)),
                                              init(f'{name}_z', np.array(0, np.int8))], f'{name}_y', ms)

    def attention(x, i, wqkv, bqkv, mask, H):
        if not int8:
            return node('Attention', [x, init(f'wqkv{i}', wqkv), init(f'bqkv{i}', bqkv), mask], f'att{i}', ms,
                        num_heads=H)
        nodes.append(helper.make_node('DynamicQuantizeLinear', [x], [f'xq{i}', f'xs{i}', f'xz{i}']))
        q, sc = q8(wqkv)
        return node('QAttention', [f'xq{i}', init(f'wqkv{i}', q), init(f'bqkv{i}', bqkv), f'xs{i}',
                                   init(f'wqkv{i}_s', np.array(sc)), mask, f'xz{i}',
                                   init(f'wqkv{i}_z', np.array(0, np.int8))], f'att{i}', ms, num_heads=H)

    e = 'distilbert.embeddings.'
    # embeddings: word[ids] + position[:T], LayerNorm
    node('Shape', ['input_ids'], 'T', start=1, end=2)
    pe = node('Slice', [init('pos', W[e + 'position_embeddings.weight']),
                        init('zero1', np.array([0], np.int64)), 'T',
                        init('axis0', np.array([0], np.int64))], 'pe')
    we = node('Gather', [init('word', W[e + 'word_embeddings.weight']), 'input_ids'], 'we')
    x = node('LayerNormalization', [node('Add', [we, pe], 'emb'), init('emb_g', W[e + 'LayerNorm.weight']),
                                    init('emb_b', W[e + 'LayerNorm.bias'])], 'x0', axis=-1, epsilon=1e-12)
    # mask as lengths (right padding)
    lens = node('ReduceSum', ['attention_mask', init('axis1', np.array([1], np.int64))], 'lens', keepdims=0)
    mask = node('Cast', [lens], 'mask_index', to=TensorProto.INT32)
    for i in range(L):
        p = f'distilbert.transformer.layer.{i}.'
        wqkv = np.concatenate([W[p + f'attention.{n}_lin.weight'].T for n in 'qkv'], axis=1)
        bqkv = np.concatenate([W[p + f'attention.{n}_lin.bias'] for n in 'qkv'])
        a = attention(x, i, wqkv, bqkv, mask, H)
        o = matmul(a, f'wo{i}', W[p + 'attention.out_lin.weight'].T)
        x1 = node('SkipLayerNormalization',
                  [o, x, init(f'g1_{i}', W[p + 'sa_layer_norm.weight']), init(f'b1_{i}', W[p + 'sa_layer_norm.bias']),
                   init(f'bo{i}', W[p + 'attention.out_lin.bias'])], f'x1_{i}', ms, epsilon=1e-12)
        f1 = matmul(x1, f'w1_{i}', W[p + 'ffn.lin1.weight'].T)
        g = node('BiasGelu', [f1, init(f'bf1_{i}', W[p + 'ffn.lin1.bias'])], f'g{i}', ms)
        f2 = matmul(g, f'w2_{i}', W[p + 'ffn.lin2.weight'].T)
        x = node('SkipLayerNormalization',
                 [f2, x1, init(f'g2_{i}', W[p + 'output_layer_norm.weight']),
                  init(f'b2_{i}', W[p + 'output_layer_norm.bias']), init(f'bf2_{i}', W[p + 'ffn.lin2.bias'])],
                 f'x{i + 1}', ms, epsilon=1e-12)
    cls = node('Reshape', [node('Gather', [x, init('zero', np.array(0, np.int64))], 'cls0', axis=1),
                           init('cls_shape', np.array([-1, D], np.int64))], 'cls')
    pc = node('Gemm', [cls, init('wpc', W['pre_classifier.weight']), init('bpc', W['pre_classifier.bias'])],
              'pc', transB=1)
    node('Gemm', [node('Relu', [pc], 'pcr'), init('wc', W['classifier.weight']), init('bc', W['classifier.bias'])],
         'logits', transB=1)
    C = W['classifier.weight'].shape[0]
    g = helper.make_graph(nodes, 'distilbert_fused',
                          [helper.make_tensor_value_info('input_ids', TensorProto.INT64, ['batch', 'seq']),
                           helper.make_tensor_value_info('attention_mask', TensorProto.INT64, ['batch', 'seq'])],
                          [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', C])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid(ms, 1)],
                              producer_name='sentiment bench/make_model.py')
    model.ir_version = 8
    onnx.save(model, path)


def export(src, out):
    os.makedirs(out, exist_ok=True)
    m, cfg, _ = modeling.from_pretrained(src)
    m.eval()
    if cfg.get('model_type') != 'distilbert':
        sys.exit(f'{src}: bench/ exports DistilBERT only, not {cfg.get("model_type")}')
    export_torch(m, f'{out}/model.onnx')
    export_fused(m, cfg, f'{out}/model.fused.onnx')
    export_fused(m, cfg, f'{out}/model.int8.onnx', int8=True)
    print(f'{out}: model.onnx, model.fused.onnx, model.int8.onnx', file=sys.stderr)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'random':
        make_random(sys.argv[2], sys.argv[3])
        export(sys.argv[2], sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == 'export':
        export(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
