/*
** model_hash.h — which weights a model name stands for: the SHA-256 of its
** model.safetensors (the sha256 column of sentiment_models), and of the
** embedded model's bytes (the same file, built in; sentiment_version()).
**
** Hashing reads the whole file (17.5 MB for the default model); both are
** computed on first use and remembered: the embedded one once per process,
** a folder's per entry until the file's identity (device, inode, size,
** mtime) changes.
*/
#ifndef SNT_MODEL_HASH_H
#define SNT_MODEL_HASH_H

#include "registry.h"

/* The hex SHA-256 of the embedded model.safetensors, or NULL when the build
** embeds none. Thread-safe; the string is static. */
const char *sntEmbeddedSha256(void);

/* The hex SHA-256 of e's weights into *pzHex (e's own buffer, or the static
** embedded one), or NULL when the folder's model.safetensors cannot be read.
** Returns SQLITE_OK, or SQLITE_NOMEM. */
int sntEntrySha256(SntEntry *e, const char **pzHex);

#endif
