"""Pure-Python BERT uncased tokenizer (HuggingFace `tokenizers` semantics).

Pipeline, as in tokenizer.json of bert-base-uncased:
  added tokens ([CLS] [SEP] [PAD] [MASK] [UNK], matched verbatim before normalization)
  -> BertNormalizer (clean text, CJK spacing, NFD + strip Mn, lowercase)
  -> BertPreTokenizer (split on whitespace, isolate punctuation)
  -> WordPiece (greedy longest match, '##' continuation, > 100 chars -> [UNK])
  -> [CLS] ... [SEP]   (encode(..., max_len=512) keeps the first 510 pieces)

The golden file /work/shared/golden/tokenizer/bert-base-uncased.jsonl is the truth
(train/test_wordpiece.py checks every case).
"""
import re
import unicodedata

SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]")
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")

# Rust char::is_whitespace (Unicode White_Space); the control ones among them
# (\x0b \x0c \x1c-\x1f \x85) are removed by clean_text before this matters.
_WHITESPACE = set(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
                  + "".join(chr(c) for c in range(0x2000, 0x200B)))

_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
               (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))

# ASCII fast path: control chars except \t \n \r are dropped, words are [a-z0-9]+,
# every other printable ASCII char is punctuation (33-47, 58-64, 91-96, 123-126).
_ASCII_DROP = {c: None for c in list(range(0, 9)) + [11, 12] + list(range(14, 32)) + [127]}
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")


# Punctuation in Python's Unicode 14 tables but not in the (older) tables of the Rust
# `unicode_categories` crate that HF uses: U+061D ARABIC END OF TEXT MARK (new in 14.0).
_NOT_PUNCT_IN_HF = {"\u061d"}


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    cat = unicodedata.category(ch)
    return cat[0] == "C" and cat != "Cn"  # HF keeps unassigned code points


def _is_cjk(cp):
    for lo, hi in _CJK_RANGES:
        if lo <= cp <= hi:
            return True
    return False


def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    if ch in _NOT_PUNCT_IN_HF:
        return False
    return unicodedata.category(ch)[0] == "P"


def normalize(text):
    """BertNormalizer(clean_text, handle_chinese_chars, strip_accents, lowercase)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if ch in _WHITESPACE:
            out.append(" ")
        elif _is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    s = unicodedata.normalize("NFD", "".join(out))
    # per-character lowercase, as the Rust NormalizedString does (no final-sigma context)
    return "".join(c.lower() for c in s if unicodedata.category(c) != "Mn")


def pre_tokenize(norm):
    """BertPreTokenizer: split on whitespace, each punctuation char is its own word."""
    words, cur = [], []
    for ch in norm:
        if ch in _WHITESPACE:
            if cur:
                words.append("".join(cur))
                cur = []
        elif _is_punct(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def _segment_words(seg):
    if seg.isascii():
        return _ASCII_WORDS.findall(seg.translate(_ASCII_DROP).lower())
    return pre_tokenize(normalize(seg))


class WordPiece:
    def __init__(self, vocab_path, max_input_chars_per_word=100):
        with open(vocab_path, encoding="utf-8") as f:
            self.itos = [line.rstrip("\n") for line in f]
        self.vocab = {t: i for i, t in enumerate(self.itos)}
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        self.max_chars = max_input_chars_per_word
        self._cache = {}

    def word_ids(self, word):
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        ids = self._wordpiece(word)
        if len(self._cache) < 500000:
            self._cache[word] = ids
        return ids

    def _wordpiece(self, word):
        if len(word) > self.max_chars:
            return (self.unk_id,)
        vocab = self.vocab
        ids, start, n = [], 0, len(word)
        while start < n:
            end = n
            found = None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = "##" + sub
                found = vocab.get(sub)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return (self.unk_id,)
            ids.append(found)
            start = end
        return tuple(ids)

    def pieces(self, text):
        """Token ids without [CLS]/[SEP]."""
        ids = []
        for part in _SPECIAL_RE.split(text):
            if not part:
                continue
            if part in SPECIAL_TOKENS:
                ids.append(self.vocab[part])
                continue
            for w in _segment_words(part):
                ids.extend(self.word_ids(w))
        return ids

    def encode(self, text, max_len=None):
        """[CLS] pieces [SEP]; with max_len, keep the first max_len - 2 pieces."""
        p = self.pieces(text)
        if max_len is not None and len(p) > max_len - 2:
            p = p[: max_len - 2]
        return [self.cls_id] + p + [self.sep_id]

    def tokens(self, ids):
        return [self.itos[i] for i in ids]
