/* Readers for the two generic CSV formats: events (csv) and the item
 * catalogue (items-csv). Both need a header line naming their columns, in
 * any order; see import.h for the columns. */
#include "import_impl.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "core/text.h"

enum { EV_USER, EV_ITEM, EV_VALUE, EV_TIME, EV_TYPE, EV__N };
static const char *const event_columns[EV__N] = {"user_id", "item_id", "value", "timestamp",
                                                 "type"};
#define EVENT_HEADER "user_id,item_id[,value[,timestamp[,type]]]"

static const rs_csv_opts csv_opts = {.delim = ',', .quotes = true};

/* Without a type column, a file with values holds ratings and a file
 * without holds plain views. */
rs_err rs__import_events_csv(rs__importer *im, const char *path)
{
    rs_err e = rs__import_open_file(im, path, "csv", &csv_opts);
    if (e == RS_ENOTFOUND)
        return RS_OK;
    if (e)
        return e;
    int col[EV__N];
    size_t n_cols;
    if ((e = rs__import_header(im, event_columns, EV__N, 2, EVENT_HEADER, col, &n_cols)))
        return e;
    const char *default_type = col[EV_VALUE] >= 0 ? "rating" : "view";

    const rs_csv_field *f;
    size_t n;
    while ((e = rs__import_next(im, &f, &n)) == RS_OK) {
        if (n != n_cols) {
            if ((e = rs__import_bad_row(im, "expected %zu fields, got %zu", n_cols, n)))
                return e;
            continue;
        }
        rs__field_ctx fc = {im, false};
        double value = 1.0;
        int64_t ts = im->now_ms;
        if ((e = rs__field_id(&fc, "user_id", &f[col[EV_USER]])) || fc.skip ||
            (e = rs__field_id(&fc, "item_id", &f[col[EV_ITEM]])) || fc.skip ||
            (col[EV_VALUE] >= 0 && ((e = rs__field_double(&fc, "value", &f[col[EV_VALUE]], 1.0, &value)) || fc.skip)) ||
            (col[EV_TIME] >= 0 && ((e = rs__field_time(&fc, "timestamp", &f[col[EV_TIME]], &ts)) || fc.skip)) ||
            (col[EV_TYPE] >= 0 && ((e = rs__field_type(&fc, "type", &f[col[EV_TYPE]])) || fc.skip))) {
            if (e)
                return e;
            continue;
        }
        const char *type = col[EV_TYPE] >= 0 && f[col[EV_TYPE]].len ? f[col[EV_TYPE]].p : default_type;
        if ((e = rs__import_event(im, f[col[EV_USER]].p, f[col[EV_ITEM]].p, type, value, ts)))
            return e;
    }
    if (e != RS_ENOTFOUND)
        return e;
    return rs__import_close_file(im);
}

enum { IT_ID, IT_TITLE, IT_CATEGORY, IT_BRAND, IT_TAGS, IT_ATTRS, IT_HIDDEN, IT__N };
static const char *const item_columns[IT__N] = {"item_id", "title", "category", "brand",
                                                "tags", "attrs", "hidden"};
#define ITEM_HEADER "item_id[,title][,category][,brand][,tags][,attrs][,hidden]"

/* Splits '|'-separated tags in place into tags[] (at most RS_MAX_TAGS),
 * trimming spaces and dropping empty ones. Returns a reason when a tag is
 * unacceptable, else NULL. */
static const char *split_tags(char *s, const char **tags, size_t *n_tags)
{
    *n_tags = 0;
    while (s) {
        char *bar = strchr(s, '|');
        if (bar)
            *bar = '\0';
        size_t len = strlen(s);
        const char *t = rs_trim(s, &len);
        if (len > 0) {
            const char *why;
            if (*n_tags == RS_MAX_TAGS)
                return "more than 64 tags";
            if (len > RS_TAG_MAX)
                return "a tag is longer than 128 bytes";
            if (rs_text_check(t, len, &why) != RS_OK)
                return why;
            ((char *)t)[len] = '\0';
            tags[(*n_tags)++] = t;
        }
        s = bar ? bar + 1 : NULL;
    }
    return NULL;
}

/* Parses true/false, yes/no, 1/0 (empty is false). Returns -1 otherwise. */
static int parse_bool(const rs_csv_field *f)
{
    size_t len = f->len;
    const char *p = rs_trim(f->p, &len);
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0", ""};
    for (size_t i = 0; i < RS_ARRAY_LEN(yes); i++)
        if (strlen(yes[i]) == len && strncasecmp(p, yes[i], len) == 0)
            return 1;
    for (size_t i = 0; i < RS_ARRAY_LEN(no); i++)
        if (strlen(no[i]) == len && strncasecmp(p, no[i], len) == 0)
            return 0;
    return -1;
}

/* Checks an attrs field: empty, or a JSON object. */
static const char *check_attrs(const rs_csv_field *f)
{
    if (f->len == 0)
        return NULL;
    if (f->len > RS_ATTRS_MAX)
        return "attrs longer than 64 KiB";
    json_t *j = json_loadb(f->p, f->len, JSON_REJECT_DUPLICATES, NULL);
    int ok = json_is_object(j);
    json_decref(j);
    return ok ? NULL : "attrs is not a JSON object";
}

rs_err rs__import_items_csv(rs__importer *im, const char *path)
{
    rs_err e = rs__import_open_file(im, path, "items-csv", &csv_opts);
    if (e == RS_ENOTFOUND)
        return RS_OK;
    if (e)
        return e;
    int col[IT__N];
    size_t n_cols;
    if ((e = rs__import_header(im, item_columns, IT__N, 1, ITEM_HEADER, col, &n_cols)))
        return e;

    const rs_csv_field *f;
    size_t n;
    const char *tags[RS_MAX_TAGS];
    while ((e = rs__import_next(im, &f, &n)) == RS_OK) {
        if (n != n_cols) {
            if ((e = rs__import_bad_row(im, "expected %zu fields, got %zu", n_cols, n)))
                return e;
            continue;
        }
        rs__field_ctx fc = {im, false};
        const rs_csv_field *title = col[IT_TITLE] >= 0 ? &f[col[IT_TITLE]] : NULL;
        const rs_csv_field *cat = col[IT_CATEGORY] >= 0 ? &f[col[IT_CATEGORY]] : NULL;
        const rs_csv_field *brand = col[IT_BRAND] >= 0 ? &f[col[IT_BRAND]] : NULL;
        if ((e = rs__field_id(&fc, "item_id", &f[col[IT_ID]])) || fc.skip ||
            (title && ((e = rs__field_text(&fc, "title", title)) || fc.skip)) ||
            (cat && ((e = rs__field_text(&fc, "category", cat)) || fc.skip)) ||
            (brand && ((e = rs__field_text(&fc, "brand", brand)) || fc.skip))) {
            if (e)
                return e;
            continue;
        }
        rs_item it = {
            .id = f[col[IT_ID]].p,
            .title = title ? title->p : NULL,
            .category = cat ? cat->p : NULL,
            .brand = brand ? brand->p : NULL,
            .tags = tags,
        };
        const char *why = NULL;
        if (col[IT_TAGS] >= 0)
            why = split_tags((char *)f[col[IT_TAGS]].p, tags, &it.n_tags);
        if (!why && col[IT_ATTRS] >= 0) {
            why = check_attrs(&f[col[IT_ATTRS]]);
            it.attrs = f[col[IT_ATTRS]].p;
        }
        if (!why && col[IT_HIDDEN] >= 0) {
            int h = parse_bool(&f[col[IT_HIDDEN]]);
            why = h < 0 ? "hidden: expected true or false" : NULL;
            it.hidden = h == 1;
        }
        if (why) {
            if ((e = rs__import_bad_row(im, "%s", why)))
                return e;
            continue;
        }
        if ((e = rs__import_item(im, &it)))
            return e;
    }
    if (e != RS_ENOTFOUND)
        return e;
    return rs__import_close_file(im);
}
