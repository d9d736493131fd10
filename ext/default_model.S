/*
** default_model.S — the default model, embedded in sentiment.so so that
** `.load ./sentiment` then `SELECT sentiment('great film')` needs no files:
**
**   models/default/config.json        → sntDefaultConfig  .. sntDefaultConfigEnd
**   models/default/vocab.txt          → sntDefaultVocab   .. sntDefaultVocabEnd
**   models/default/model.safetensors  → sntDefaultWeights .. sntDefaultWeightsEnd
**   sntDefaultPresent                 → 1, or 0 when the build has no default model
**
** The bytes go to read-only data (shared between processes by the page cache,
** like the rest of the .so), 64-byte aligned so that the F32 tensors of the
** safetensors file (whose data starts at a multiple of 8) are used in place.
** Every symbol is hidden: the only symbol sentiment.so exports is
** sqlite3_sentiment_init. Until models/default/ holds all three files the
** build embeds nothing and sentiment() says how to configure a model.
**
** .incbin paths are relative to the directory make runs in (the repository
** root); __has_include paths to this file's directory.
*/
#if defined(__has_include)
#if __has_include("../models/default/config.json") && \
    __has_include("../models/default/vocab.txt") && \
    __has_include("../models/default/model.safetensors")
#define HAVE_DEFAULT_MODEL 1
#endif
#endif

#define BLOB(name, file)            \
        .balign 64;                 \
        .globl name, name##End;     \
        .hidden name, name##End;    \
        .type name, @object;        \
name:   .incbin file;               \
name##End:                          \
        .byte 0

#define EMPTY(name)                 \
        .globl name, name##End;     \
        .hidden name, name##End;    \
name:                               \
name##End:                          \
        .byte 0

        .section .rodata.sentiment_default, "a", @progbits
        .balign 4
        .globl sntDefaultPresent
        .hidden sntDefaultPresent
        .type sntDefaultPresent, @object
sntDefaultPresent:
#ifdef HAVE_DEFAULT_MODEL
        .long 1
        BLOB(sntDefaultConfig, "models/default/config.json")
        BLOB(sntDefaultVocab, "models/default/vocab.txt")
        BLOB(sntDefaultWeights, "models/default/model.safetensors")
#else
        .long 0
        EMPTY(sntDefaultConfig)
        EMPTY(sntDefaultVocab)
        EMPTY(sntDefaultWeights)
#endif

/* No executable stack. */
        .section .note.GNU-stack, "", @progbits
