/* io.h — readers and writers of text: the YAML tree with line numbers, typed readers that
 * name file:line:key, the JSON writer.  Knows nothing of chips or models. */
#ifndef SL_IO_H
#define SL_IO_H

#include "core/core.h"

/* ---- io: YAML tree ----------------------------------------------------------------------------
 * A parsed YAML (or JSON) document: maps keep their key order and line numbers; each map entry
 * has a `used` flag so that readers can report unknown keys.  Aliases are expanded (bounded). */
typedef enum yt_type { YT_SCALAR, YT_MAP, YT_SEQ } yt_type;

typedef struct yt_node yt_node;
typedef struct yt_pair {
  const char *key;
  int key_line;
  int used;
  yt_node *value;
} yt_pair;

struct yt_node {
  yt_type type;
  int line;        /* 1-based */
  int quoted;      /* scalar was quoted: never a number/bool */
  const char *str; /* scalar text */
  size_t n;
  yt_pair *pairs;   /* YT_MAP: n pairs */
  yt_node **items;  /* YT_SEQ: n items */
  const char *file; /* file the node came from (for errors) */
};

/* Parses YAML text into a tree allocated in `a`.  `file` names the source in errors. */
sl_status yt_parse(arena *a, const char *text, size_t len, const char *file, yt_node **out, sl_error *err);
/* Reads a whole file (bounded size) and parses it. */
sl_status yt_parse_file(arena *a, const char *path, yt_node **out, sl_error *err);
yt_pair *yt_find(yt_node *map, const char *key); /* NULL if absent or not a map */
yt_node *yt_get(yt_node *map, const char *key);  /* value, marks the entry used */
/* The keys readers asked a map for (yt_get notes each, present or not, in a bounded per-thread
 * ring without allocating): the known keys that an unknown one is compared with. */
void yt_asked_note(const yt_node *map, const char *key);
/* The asked key of `map` closest to `word` (edit distance within a third of its length, at
 * least 1, at most 3), or NULL. */
const char *yt_asked_closest(const yt_node *map, const char *word);
/* Edit distance (Levenshtein, insert/delete/replace/swap of neighbours) of two short words;
 * words longer than 63 characters count as far apart. */
int io_edit_distance(const char *a, const char *b);
/* The candidate closest to `word` if close enough to be a typo of it (see yt_asked_closest), or
 * NULL.  `cands` has n entries (NULL entries are skipped). */
const char *io_closest(const char *word, const char *const *cands, size_t n);
yt_node *yt_scalar_new(arena *a, const char *str, const char *file, int line);
yt_node *yt_map_new(arena *a, const char *file, int line);
/* Sets map[key] = value (replacing, or appending).  Returns 0 or -1 (out of memory). */
int yt_map_set(arena *a, yt_node *map, const char *key, yt_node *value);
yt_node *yt_clone(arena *a, const yt_node *n);

/* ---- io: typed readers over the tree ----------------------------------------------------------
 * A reader carries the error sink and the dotted key path; every helper reports
 * "file:line: path.key: message" with SL_ERR_INPUT. */
typedef struct reader {
  sl_error *err;
  arena *a;
  char path[128];
} reader;

typedef struct rd_mark {
  size_t len;
} rd_mark;
rd_mark rd_push(reader *r, const char *key); /* path += ".key" */
rd_mark rd_push_index(reader *r, size_t i);  /* path += "[i]" */
void rd_pop(reader *r, rd_mark m);
sl_status rd_fail(reader *r, const yt_node *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Each getter: `map` must be a map.  Missing and required -> error "missing key"; missing and
 * optional -> *out untouched, returns SL_OK.  Values outside [lo, hi] -> error. */
sl_status rd_map(reader *r, const yt_node *n); /* error unless a map */
sl_status rd_double(reader *r, yt_node *map, const char *key, int required, double lo, double hi,
                    double *out);
sl_status rd_int(reader *r, yt_node *map, const char *key, int required, long lo, long hi, long *out);
sl_status rd_bool(reader *r, yt_node *map, const char *key, int required, int *out);
sl_status rd_string(reader *r, yt_node *map, const char *key, int required, const char **out);
/* One of the NULL-terminated `names`; *out gets its index. */
sl_status rd_enum(reader *r, yt_node *map, const char *key, int required, const char *const *names, int *out);
/* Scalar conversion without a key: used for sequences. */
sl_status rd_scalar_double(reader *r, const yt_node *n, double lo, double hi, double *out);
/* The error for a required `key` absent from `map`: "unknown key (did you mean ...?)" on a key of
 * the map that is a typo of it, else `msg` at the map. */
sl_status rd_missing(reader *r, const yt_node *map, const char *key, const char *msg);
/* Error on the first entry of `map` whose `used` flag is 0 ("unknown key"). */
sl_status rd_done(reader *r, const yt_node *map);
int yt_is_auto(const yt_node *n); /* scalar "auto" */

/* ---- io: JSON writer ------------------------------------------------------------------------- */
typedef struct jbuf {
  char *s;
  size_t len, cap;
  int oom;
  int need_comma[64];
  int depth;
} jbuf;
void jb_init(jbuf *b);
void jb_free(jbuf *b);
void jb_raw(jbuf *b, const char *s);
void jb_obj_begin(jbuf *b, const char *key); /* key NULL inside arrays / at top */
void jb_obj_end(jbuf *b);
void jb_arr_begin(jbuf *b, const char *key);
void jb_arr_end(jbuf *b);
void jb_str(jbuf *b, const char *key, const char *v);
void jb_num(jbuf *b, const char *key, double v); /* NaN/inf written as null */
void jb_bool(jbuf *b, const char *key, int v);
void jb_null(jbuf *b, const char *key);
void jb_node(jbuf *b, const char *key, const yt_node *n); /* a YAML tree as JSON */

/* Writes `json`, an already formatted JSON value, as the next member (NULL or "" -> null). */
void jb_value_raw(jbuf *b, const char *key, const char *json);
/* 1 when jb_node writes this plain scalar as something other than a string (number, bool, null). */
int jb_scalar_is_special(const char *s);
/* The text jb_num writes for v: shortest round-trip form, integers without exponent, "null". */
void jb_format_number(double v, char out[32]);

#endif /* SL_IO_H */
