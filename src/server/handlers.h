/* Internal to the server: the request handlers and the helpers they
 * share. Each handler fills resp completely, with a problem+json body for
 * every error. arg is the route's path parameter ({id}, {version}, {file})
 * or NULL for routes without one. */
#ifndef RS_SERVER_HANDLERS_H
#define RS_SERVER_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/http.h"
#include "server/service.h"

/* The 503 detail while there is no snapshot to answer from. */
#define RS_NOTHING_TO_SERVE                                                                   \
    "nothing to serve yet: no model is published and the store has no events to compute "     \
    "popularity from (import events or run recsys train)"

typedef void (*rs__handler)(rs_service *s, const rs_http_request *req, const char *arg,
                            rs_http_response *resp);

/* recs.c */
#define RS_MAX_N 1000
/* The served snapshot, or NULL after answering 503 when there is none. */
rs_snapshot *rs__serving(rs_service *s, rs_http_response *resp);
/* The snapshot's version as the decimal string the responses carry. */
const char *rs__version_text(const rs_snapshot *snap, char buf[24]);
/* The category filter: RS_INDEX_NONE for none, or the category's index;
 * *empty is set for a category the model does not know (nothing can
 * match). */
uint32_t rs__category_filter(const rs_bundle *b, const char *name, bool *empty);
/* recommend.c */
void rs__h_recommend(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp);
void rs__h_similar(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp);
void rs__h_popular(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp);

/* events.c */
void rs__h_events(rs_service *s, const rs_http_request *req, const char *arg,
                  rs_http_response *resp);

/* users.c */
void rs__h_users_post(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp);
void rs__h_users_list(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp);
void rs__h_user_get(rs_service *s, const rs_http_request *req, const char *arg,
                    rs_http_response *resp);
void rs__h_user_events(rs_service *s, const rs_http_request *req, const char *arg,
                       rs_http_response *resp);

/* items.c */
void rs__h_items_post(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp);
void rs__h_items_list(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp);
void rs__h_item_get(rs_service *s, const rs_http_request *req, const char *arg,
                    rs_http_response *resp);
void rs__h_item_patch(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp);

/* admin.c */
void rs__h_train(rs_service *s, const rs_http_request *req, const char *arg,
                 rs_http_response *resp);
void rs__h_runs_list(rs_service *s, const rs_http_request *req, const char *arg,
                     rs_http_response *resp);
void rs__h_run_get(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp);
void rs__h_models_list(rs_service *s, const rs_http_request *req, const char *arg,
                       rs_http_response *resp);
void rs__h_model_promote(rs_service *s, const rs_http_request *req, const char *arg,
                         rs_http_response *resp);
void rs__h_model_rollback(rs_service *s, const rs_http_request *req, const char *arg,
                          rs_http_response *resp);

/* ops.c */
void rs__h_healthz(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp);
void rs__h_readyz(rs_service *s, const rs_http_request *req, const char *arg,
                  rs_http_response *resp);
void rs__h_metrics(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp);

/* status.c */
void rs__h_status(rs_service *s, const rs_http_request *req, const char *arg,
                  rs_http_response *resp);

/* categories.c */
void rs__h_categories(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp);

/* ui.c */
void rs__h_ui(rs_service *s, const rs_http_request *req, const char *arg,
              rs_http_response *resp);

/* docs.c */
void rs__h_openapi(rs_service *s, const rs_http_request *req, const char *arg,
                   rs_http_response *resp);
void rs__h_docs(rs_service *s, const rs_http_request *req, const char *arg,
                rs_http_response *resp);

/* Sets resp to 200 (or status) with the JSON object o (consumed). */
void rs__reply_json(rs_http_response *resp, int status, json_t *o);

/* Parses the request body as JSON (duplicate keys refused); NULL after a
 * 400 that says where it is broken. */
json_t *rs__body_json(const rs_http_request *req, rs_http_response *resp);

/* Checks an id from JSON or the path (1..RS_ID_MAX bytes of UTF-8, no
 * control characters); false after a 400 naming what (field). */
bool rs__check_id(rs_http_response *resp, const char *what, const char *id, size_t len);

/* Attributes: the compact JSON text of an object for the store (*out,
 * in arena a), or the reason it cannot be stored. */
const char *rs__attrs_text(json_t *v, rs_arena *a, const char **out);
/* The stored text as a JSON object ({} when absent). */
json_t *rs__attrs_json(const char *text);

/* A body that is one record or {key: [...]} with 1..max of them: *list is
 * the array (NULL for one record) and *n the count; false after a 400
 * (or 413 past max). */
bool rs__batch(json_t *doc, const char *key, size_t max, json_t **list, size_t *n,
               rs_http_response *resp);
/* The body of a write route that takes no query parameters: JSON holding
 * one record or {key: [...]} (see rs__batch). NULL after the answer;
 * otherwise the caller owns the document. */
json_t *rs__write_body(const rs_http_request *req, rs_http_response *resp, const char *key,
                       size_t max, json_t **list, size_t *n);
/* The 400 for record i of a batch named list (NULL for a single record):
 * "list[i].why; nothing was written". */
void rs__batch_problem(rs_http_response *resp, const char *list, size_t i, const char *why);
/* Parses record i of a write body from o into the caller's ctx; on a bad
 * field writes "field: reason" into why (cap bytes) and returns false. */
typedef bool (*rs__record_fn)(void *ctx, json_t *o, size_t i, char *why, size_t cap);
/* Parses the n records of a write body (see rs__write_body: the elements
 * of list, or doc itself when list is NULL), in order; the first bad one
 * is answered with rs__batch_problem and stops the parse (false). */
bool rs__parse_records(json_t *doc, json_t *list, size_t n, const char *key,
                       rs__record_fn parse, void *ctx, rs_http_response *resp);
/* The answer of a committed create-or-replace write: for a batch 200
 * {"created", "updated"}; for one record 201 when it was created, 200 when
 * it replaced one, with the record as stored (one, taken over). */
void rs__reply_written(rs_http_response *resp, bool batch, size_t created, size_t updated,
                       json_t *one);

/* Store access under the store lock. rs__store_write runs fn in one
 * transaction (rolled back when fn fails); both answer a failure (404 for
 * RS_ENOTFOUND, 400 for RS_EINVAL, 503 otherwise, with the store's detail)
 * and return false. */
typedef rs_err (*rs__store_fn)(rs_store *st, void *ctx);
bool rs__store_write(rs_service *s, rs__store_fn fn, void *ctx, rs_http_response *resp);
bool rs__store_read(rs_service *s, rs__store_fn fn, void *ctx, rs_http_response *resp);

/* Query helpers: each returns false after setting a 400 problem that
 * names the parameter. */

/* Every parameter is one of allowed (NULL-terminated). */
bool rs__query_only(const rs_http_request *req, rs_http_response *resp,
                    const char *const *allowed);
/* An integer in [min, max]; def when absent. */
bool rs__query_int(const rs_http_request *req, rs_http_response *resp, const char *name,
                   int64_t def, int64_t min, int64_t max, int64_t *out);
/* true/false/1/0; def when absent. */
bool rs__query_bool(const rs_http_request *req, rs_http_response *resp, const char *name,
                    bool def, bool *out);
/* A required id (1..256 bytes of UTF-8, no control characters). */
bool rs__query_id(const rs_http_request *req, rs_http_response *resp, const char *name,
                  const char **out);
/* An optional string of at most max bytes of valid UTF-8 (*out NULL when
 * absent). */
bool rs__query_text(const rs_http_request *req, rs_http_response *resp, const char *name,
                    size_t max, const char **out);

#endif
