/* suggest.c — "did you mean": the known word closest to a mistyped one.  Readers note the keys
 * they ask each map for; an unknown key is compared with them. */
#include "io/io.h"

#include <string.h>

enum { WORD_MAX = 64, RING = 512 };

int io_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la >= WORD_MAX || lb >= WORD_MAX) return WORD_MAX;
  int d[WORD_MAX][WORD_MAX];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int c = a[i - 1] != b[j - 1];
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + c < v) v = d[i - 1][j - 1] + c;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1; /* two neighbours swapped */
      d[i][j] = v;
    }
  return d[la][lb];
}

static int close_enough(const char *word, int dist) {
  int limit = (int)strlen(word) / 3;
  if (limit < 1) limit = 1;
  if (limit > 3) limit = 3;
  return dist <= limit;
}

const char *io_closest(const char *word, const char *const *cands, size_t n) {
  const char *best = NULL;
  int best_d = WORD_MAX;
  for (size_t i = 0; i < n; i++) {
    if (!cands[i] || strcmp(cands[i], word) == 0) continue;
    int d = io_edit_distance(word, cands[i]);
    if (d < best_d) best_d = d, best = cands[i];
  }
  return best && close_enough(word, best_d) ? best : NULL;
}

/* The ring of (map, key) pairs asked for, newest last; a map's entries outlive it only as
 * candidates that no longer match a map address in use. */
static _Thread_local struct {
  const yt_node *map;
  char key[WORD_MAX];
} ring[RING];
static _Thread_local size_t ring_next;

void yt_asked_note(const yt_node *map, const char *key) {
  if (!map || !key || strlen(key) >= WORD_MAX) return;
  /* a key asked again (the same map read twice) is noted once */
  for (size_t k = 0, i = ring_next; k < 64 && k < RING; k++) {
    i = (i + RING - 1) % RING;
    if (ring[i].map == map && strcmp(ring[i].key, key) == 0) return;
  }
  ring[ring_next].map = map;
  strcpy(ring[ring_next].key, key);
  ring_next = (ring_next + 1) % RING;
}

const char *yt_asked_closest(const yt_node *map, const char *word) {
  static _Thread_local char found[WORD_MAX];
  const char *best = NULL;
  int best_d = WORD_MAX;
  for (size_t i = 0; i < RING; i++) {
    if (ring[i].map != map || !ring[i].key[0] || strcmp(ring[i].key, word) == 0) continue;
    int d = io_edit_distance(word, ring[i].key);
    if (d < best_d) best_d = d, best = ring[i].key;
  }
  if (!best || !close_enough(word, best_d)) return NULL;
  strcpy(found, best);
  return found;
}
