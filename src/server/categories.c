/* GET /v1/categories: the catalogue's categories with their item counts,
 * in byte order, a page at a time (what a category filter offers). */
#include "server/handlers.h"

#define MAX_LIMIT 1000

typedef struct list_categories {
    const char *after;
    size_t limit;
    rs_arena arena;
    rs_category *cats;
    size_t n;
} list_categories;

static rs_err do_list(rs_store *st, void *ctx)
{
    list_categories *l = ctx;
    return rs_store_list_categories(st, l->after, l->limit, &l->arena, &l->cats, &l->n);
}

void rs__h_categories(rs_service *s, const rs_http_request *req, const char *arg,
                      rs_http_response *resp)
{
    (void)arg;
    static const char *const params[] = {"limit", "cursor", NULL};
    list_categories l = {0};
    int64_t limit;
    if (!rs__query_only(req, resp, params) ||
        !rs__query_text(req, resp, "cursor", 1024, &l.after) ||
        !rs__query_int(req, resp, "limit", 100, 1, MAX_LIMIT, &limit))
        return;
    l.limit = (size_t)limit;
    rs_arena_init(&l.arena, 16384);
    if (rs__store_read(s, do_list, &l, resp)) {
        json_t *arr = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:I}", "category", l.cats[i].name,
                                                 "items", (json_int_t)l.cats[i].items));
        json_t *next = l.n == l.limit ? json_string(l.cats[l.n - 1].name) : json_null();
        rs__reply_json(resp, 200,
                       json_pack("{s:o,s:o}", "categories", arr, "next_cursor", next));
    }
    rs_arena_destroy(&l.arena);
}
