/* arena.c — chained bump allocator: one free for a whole loaded object, reset for scratch. */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

struct ar_block {
  ar_block *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};

enum { AR_MIN_BLOCK = 16384 };

void ar_init(arena *a) {
  a->head = NULL;
  a->used_total = 0;
}

void *ar_alloc(arena *a, size_t size) {
  if (sl_alloc_arena_fails()) return NULL;
  size = (size + 15u) & ~(size_t)15u;
  if (size == 0) size = 16;
  ar_block *b = a->head;
  if (!b || b->size - b->used < size) {
    size_t bs = size > AR_MIN_BLOCK ? size : AR_MIN_BLOCK;
    if (b && b->size * 2 > bs && b->size < (1u << 22)) bs = b->size * 2;
    if (bs > SIZE_MAX - sizeof(ar_block)) return NULL;
    ar_block *nb = malloc(sizeof(ar_block) + bs);
    if (!nb) return NULL;
    nb->size = bs;
    nb->used = 0;
    nb->next = b;
    a->head = nb;
    b = nb;
  }
  void *p = b->data + b->used;
  b->used += size;
  a->used_total += size;
  memset(p, 0, size);
  return p;
}

char *ar_strndup(arena *a, const char *s, size_t n) {
  char *p = ar_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *ar_strdup(arena *a, const char *s) {
  return s ? ar_strndup(a, s, strlen(s)) : NULL;
}

void ar_reset(arena *a) {
  ar_block *b = a->head;
  if (!b) return;
  while (b->next) {
    ar_block *n = b->next;
    b->next = n->next;
    free(n);
  }
  b->used = 0;
  a->used_total = 0;
}

void ar_free(arena *a) {
  ar_block *b = a->head;
  while (b) {
    ar_block *n = b->next;
    free(b);
    b = n;
  }
  a->head = NULL;
  a->used_total = 0;
}
