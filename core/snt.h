/*
** snt.h — the sentiment inference core: a BERT WordPiece tokenizer and a
** DistilBERT/BERT sequence classifier on the CPU. No SQLite in here; this is
** the only header ext/ includes.
**
**   text ─► snt_tokenize ─► ids ─► snt_forward ─► logits
**
** Conventions
**   - Functions that can fail return an int code (SNT_OK = 0) or NULL, and
**     fill the caller's snt_error (which may be NULL) with a message that
**     names the cause (and the path or tensor, where there is one).
**   - Nothing in core/ aborts, exits or asserts on input.
**   - Objects come in _new/_open … _free pairs; _free(NULL) is a no-op.
**   - A loaded snt_model (and its snt_vocab) is read-only after open: any
**     number of threads may use one at once, each with its own snt_state.
*/
#ifndef SNT_H
#define SNT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

enum {
  SNT_OK = 0,
  SNT_ERR_NOMEM,        /* an allocation failed */
  SNT_ERR_IO,           /* a file could not be opened, read or mapped */
  SNT_ERR_FORMAT,       /* a file is malformed (JSON, safetensors, vocab) */
  SNT_ERR_UNSUPPORTED,  /* well-formed but not something we run */
  SNT_ERR_SHAPE,        /* a tensor is missing or has the wrong shape/dtype */
  SNT_ERR_ARG,          /* bad argument from the caller */
  SNT_ERR_TOO_BIG,      /* input over a documented limit */
  SNT_ERR_CHANGED,      /* a loaded model's file was changed on disk */
  SNT_ERR_INTERRUPTED   /* the state's cancel callback asked to stop */
};

typedef struct snt_error {
  int code;
  char msg[1024];
} snt_error;

/* Set err (if not NULL) to code and a printf-formatted message; returns code. */
int snt_error_set(snt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- vocabulary + tokenizer (core/vocab.c, core/wordpiece.c) ----------- */

typedef struct snt_vocab snt_vocab;

/* vocab.txt: one piece per line, line number = id. */
snt_vocab *snt_vocab_load(const char *path, snt_error *err);
snt_vocab *snt_vocab_parse_txt(const char *buf, size_t n, snt_error *err);
/* tokenizer.json: the WordPiece vocabulary in model.vocab. */
snt_vocab *snt_vocab_load_tokenizer_json(const char *path, snt_error *err);
snt_vocab *snt_vocab_parse_tokenizer_json(const char *buf, size_t n,
                                          snt_error *err);
void snt_vocab_free(snt_vocab *v);

int snt_vocab_size(const snt_vocab *v);
/* The piece of id as a NUL-terminated string; NULL when id is out of range. */
const char *snt_vocab_piece(const snt_vocab *v, int id);
/* The id of piece[0..n); -1 when absent. */
int snt_vocab_id(const snt_vocab *v, const char *piece, size_t n);

/* One token the model sees. start/end are byte offsets [start, end) into the
** text given to snt_tokenize; both -1 for [CLS] and [SEP]. word is the index
** (0, 1, … in text order) of the pre-tokenizer word the piece was cut from
** (BertPreTokenizer: whitespace ends a word, each punctuation character and
** CJK ideograph is a word, as is a special token typed in the text); the
** pieces of one word are consecutive and share it; -1 for [CLS] and [SEP]. */
typedef struct snt_token {
  int32_t id;
  int32_t word;
  int64_t start, end;
} snt_token;

/* A growable token list, reused across calls. Zero-initialise it; free its
** storage with snt_tokens_free. */
typedef struct snt_tokens {
  snt_token *tok;
  int n;          /* tokens in tok, [CLS] and [SEP] included */
  int cap;
  int truncated;  /* 1 when pieces were dropped to fit max_len */
} snt_tokens;

/* Tokenize text[0..n) the way HuggingFace's bert-base-uncased tokenizer does
** (BertNormalizer lowercase + strip accents, BertPreTokenizer, WordPiece,
** [CLS] … [SEP]). text may hold any bytes, NULs included; invalid UTF-8 is
** handled as documented in wordpiece.c, never read past n.
** max_len counts [CLS] and [SEP] (so max_len 512 keeps the first 510
** pieces); 0 means no limit. Replaces out's contents. */
int snt_tokenize(const snt_vocab *v, const char *text, size_t n, int max_len,
                 snt_tokens *out, snt_error *err);
void snt_tokens_free(snt_tokens *t);

/* ---- model configuration (core/config.c) ------------------------------- */

enum { SNT_ARCH_DISTILBERT = 1, SNT_ARCH_BERT = 2 };
enum { SNT_ACT_GELU = 1, SNT_ACT_RELU = 2 };

typedef struct snt_config {
  int arch;             /* SNT_ARCH_* from model_type */
  int vocab_size;
  int dim;              /* D: hidden size */
  int n_layers;         /* L */
  int n_heads;          /* H; D % H == 0 */
  int ffn_dim;          /* F: hidden_dim / intermediate_size */
  int max_pos;          /* max_position_embeddings */
  int type_vocab_size;  /* BERT token types; 0 for DistilBERT */
  int act;              /* SNT_ACT_* */
  float ln_eps;         /* 1e-12 for DistilBERT */
  int pad_id;
  int n_labels;         /* C */
  char **labels;        /* C names, id2label order; LABEL_i when absent */
} snt_config;

/* Parse a HuggingFace config.json. Fills cfg (free with snt_config_free). */
int snt_config_parse(const char *json, size_t n, snt_config *cfg,
                     snt_error *err);
/* Read and parse dir/config.json, as snt_model_open does (same size cap, same
** messages: SNT_ERR_IO/SNT_ERR_TOO_BIG name the file, a parse error is
** "<dir>/config.json: <cause>"). Reads no weights. On error cfg is left empty. */
int snt_config_load(const char *dir, snt_config *cfg, snt_error *err);
void snt_config_free(snt_config *cfg);

/* ---- model (core/safetensors.c, core/model.c, core/ops.c) -------------- */

typedef struct snt_model snt_model;

/* Limits a model must fit before anything big is read or allocated, all
** computed from config.json alone (see docs/reliability.md):
**   params  weights in the tensors the model uses;
**   flops   multiply-adds × 2 per token of an input at the model's longest
**           length (max_position_embeddings), attention included;
**   bytes   weights copied or converted into memory (F32 copies, F16/BF16
**           conversions).
** The SQLite extension reads them from $SENTIMENT_MAX_PARAMS,
** $SENTIMENT_MAX_FLOPS and $SENTIMENT_MAX_MODEL_BYTES. DistilBERT-base is
** 67 M parameters, 0.16 GFLOP per token, 268 MB; BERT-large 335 M, 0.7 GFLOP,
** 1.3 GB. */
#define SNT_DEFAULT_MAX_PARAMS 1000000000ull       /* 1e9 */
#define SNT_DEFAULT_MAX_FLOPS 2000000000ull        /* 2e9 per token */
#define SNT_DEFAULT_MAX_BYTES 4294967296ull        /* 4 GiB */

typedef struct snt_open_opts {
  uint64_t max_params;  /* 0: SNT_DEFAULT_MAX_PARAMS */
  uint64_t max_flops;   /* 0: SNT_DEFAULT_MAX_FLOPS */
  uint64_t max_bytes;   /* 0: SNT_DEFAULT_MAX_BYTES */
  /* 0 (the default): every weight is read (pread, never a mapping) into
  ** memory the model owns, and the file is closed: whatever happens to the
  ** file afterwards (truncated, rewritten in place, deleted) cannot change
  ** or crash a loaded model. 1: F32 tensors are used in place from a
  ** read-only mapping (no copy, pages shared with the page cache), the file
  ** held open; then the file must only ever be replaced by rename, and
  ** snt_model_check_file tells whether it was changed in place. */
  int map_weights;
} snt_open_opts;

/* Open a HuggingFace model folder: config.json, vocab.txt (else
** tokenizer.json), model.safetensors (F32 copied, F16 and BF16 converted).
** Every file is opened non-blocking and must be a regular file (a FIFO or a
** device is refused by name, without blocking); a model.safetensors mostly
** made of holes (sparse: under a quarter of its size on disk) is refused;
** the limits above are checked on config.json before the weights are read.
** Every tensor is validated against the config. A file that changes while
** it is read is an error (SNT_ERR_CHANGED), never a crash. opts may be NULL
** (the defaults). */
snt_model *snt_model_open_ex(const char *dir, const snt_open_opts *opts, snt_error *err);
/* snt_model_open_ex(dir, NULL, err). */
snt_model *snt_model_open(const char *dir, snt_error *err);

/* The same from memory (the embedded default model). The buffers must outlive
** the model; F32 tensors are used in place (safetensors must be 4-aligned).
** The default limits apply. */
snt_model *snt_model_open_memory(const char *config_json, size_t config_len,
                                 const char *vocab_txt, size_t vocab_len,
                                 const void *safetensors, size_t st_len,
                                 snt_error *err);
void snt_model_free(snt_model *m);

/* Turns m into the opt-in int8 model (core/quant.c), in place: the weights
** of every linear layer of the transformer blocks and the word embeddings
** quantized once, now (symmetric int8 per output row / per token, F32
** scales); activations are quantized per token row at run time. Position and
** token-type embeddings, LayerNorm, biases, softmax, GELU and the classifier
** head stay F32. The F32 bytes of the quantized tensors are freed (read or
** converted) or never read again (mapped), so the model then holds about a
** quarter of its F32 weight bytes. Logits move by about 1e-2 (a measured bound
** in tests/test_model.c). On failure (out of memory) m is left as it was.
** Not for a model other threads are using. */
int snt_model_quantize(snt_model *m, snt_error *err);
/* 1 for a model snt_model_quantize turned int8. */
int snt_model_is_int8(const snt_model *m);
/* Bytes of weights the model allocated itself (anonymous memory: weights
** read or converted to F32, the int8 copies), not counting a mapped file or
** the caller's buffer. */
size_t snt_model_owned_bytes(const snt_model *m);
/* Bytes of every tensor the model binds, counted as F32. */
size_t snt_model_weight_bytes(const snt_model *m);

/* Has model.safetensors changed on disk since snt_model_open_ex mapped it
** (map_weights 1)? F32 weights are then read from the mapping, so a file
** truncated in place makes the next forward pass read past its end: SIGBUS.
** Call this before using the weights: SNT_OK when the file (through the
** descriptor held since open) has the size and mtime it had then; else
** SNT_ERR_CHANGED with a message naming the file and saying what to do
** (replace by rename, load the model again), also when fstat fails. A model
** whose weights are in memory (the default, or from snt_model_open_memory)
** always gives SNT_OK. One fstat, no allocation, safe from any number of
** threads. It cannot help a forward pass already running when the file is
** truncated: that is what map_weights 0 is for. */
int snt_model_check_file(const snt_model *m, snt_error *err);

const snt_config *snt_model_config(const snt_model *m);
const snt_vocab *snt_model_vocab(const snt_model *m);
/* Longest input in tokens ([CLS] and [SEP] included): max_position_embeddings. */
int snt_model_max_len(const snt_model *m);

/* Per-call scratch. One state serves one thread at a time. Sized for batches
** of up to max_tokens tokens in all (at least snt_model_max_len). */
typedef struct snt_state snt_state;
snt_state *snt_state_new(const snt_model *m, int max_tokens, snt_error *err);
void snt_state_free(snt_state *s);
/* Split each forward pass on s over up to n threads (this one and n - 1
** helpers, core/pool.c): every matrix product by output columns, attention
** by heads, each thread running OpenBLAS on its own. Helpers come from one
** process-wide budget (snt_pool_set_budget: callers and helpers in forward
** passes at most that many; default the CPU count): a call that finds it
** spent runs with fewer, or alone. Logits do not depend on n beyond float
** rounding. Default 1. Allocates n - 1 attention scratch buffers. */
int snt_state_set_threads(snt_state *s, int n, snt_error *err);
/* The process-wide budget of snt_state_set_threads (0: the CPU count). */
void snt_pool_set_budget(int n);

/* Cancellation: a forward pass on s calls cancel(arg) before each layer
** (and before the classifier head); when it returns nonzero, the pass stops
** there and returns SNT_ERR_INTERRUPTED ("interrupted"), the logits
** unwritten. So a pass stops within one layer of being asked. cancel runs on
** the thread that called snt_forward*; NULL (the default) never cancels. */
void snt_state_set_cancel(snt_state *s, int (*cancel)(void *arg), void *arg);

/* Logits of one sequence ids[0..n) (1 ≤ n ≤ max_len): logits is (C). */
int snt_forward(const snt_model *m, snt_state *s, const int32_t *ids, int n,
                float *logits, snt_error *err);

/* Many sequences at once, packed: sequence i is ids[off[i] .. off[i+1]),
** off has n_seq + 1 entries, off[n_seq] ≤ the state's max_tokens.
** logits is (n_seq, C). Gives the same logits as snt_forward one by one. */
int snt_forward_batch(const snt_model *m, snt_state *s, int n_seq,
                      const int32_t *ids, const int *off, float *logits,
                      snt_error *err);

/* SHA-256 (core/sha256.c): which weights produced a score (the sha256 column
** of sentiment_models, the model part of sentiment_version()). */
typedef struct snt_sha256_ctx {
  uint32_t h[8];
  uint64_t n;          /* bytes hashed so far */
  uint8_t buf[64];     /* the partial block */
  size_t nBuf;
} snt_sha256_ctx;
void snt_sha256_init(snt_sha256_ctx *c);
void snt_sha256_update(snt_sha256_ctx *c, const void *data, size_t n);
void snt_sha256_final(snt_sha256_ctx *c, uint8_t digest[32]);
/* digest as 64 lowercase hex digits and a NUL. */
void snt_sha256_hex(const uint8_t digest[32], char hex[65]);
/* The SHA-256 of the file at path, in hex. SNT_ERR_IO (naming the path and
** strerror) or SNT_ERR_NOMEM on failure. Reads the file through (1 MiB at a
** time): on the order of 0.1 s per 20 MB (docs/packages.md). */
int snt_sha256_file(const char *path, char hex[65], snt_error *err);

#ifdef __cplusplus
}
#endif
#endif
