/* Internal to the server: the request handlers and the query-string
 * helpers they share. Each handler fills resp completely, with a
 * problem+json body for every error. */
#ifndef RS_SERVER_HANDLERS_H
#define RS_SERVER_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/http.h"
#include "server/service.h"

typedef void (*rs__handler)(rs_service *s, const rs_http_request *req, rs_http_response *resp);

/* recs.c */
void rs__h_recommend(rs_service *s, const rs_http_request *req, rs_http_response *resp);
void rs__h_similar(rs_service *s, const rs_http_request *req, rs_http_response *resp);
void rs__h_popular(rs_service *s, const rs_http_request *req, rs_http_response *resp);

/* events.c */
void rs__h_events(rs_service *s, const rs_http_request *req, rs_http_response *resp);

/* ops.c */
void rs__h_healthz(rs_service *s, const rs_http_request *req, rs_http_response *resp);
void rs__h_readyz(rs_service *s, const rs_http_request *req, rs_http_response *resp);
void rs__h_metrics(rs_service *s, const rs_http_request *req, rs_http_response *resp);
void rs__h_later(rs_service *s, const rs_http_request *req, rs_http_response *resp);

/* Sets resp to 200 (or status) with the JSON object o (consumed). */
void rs__reply_json(rs_http_response *resp, int status, json_t *o);

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

#endif
