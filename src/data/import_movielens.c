/* Readers for the MovieLens releases (GroupLens, University of Minnesota):
 *
 * movielens-100k DIR: u.item ('|'-separated, Latin-1: id, title, release
 *   date, video date, IMDb URL, 19 genre flags), u.user (id, age, gender,
 *   occupation, zip code), u.data (tab-separated user, item, rating, unix
 *   time). Genres become the item's tags, the first one its category.
 * movielens-csv DIR: movies.csv (movieId, title, genres '|'-separated),
 *   tags.csv (userId, movieId, tag, timestamp: users' free-text tags, merged
 *   into the items' tags by frequency), ratings.csv (userId, movieId,
 *   rating, timestamp).
 * Ratings become events of type "rating" with the rating as value. */
#include "import_impl.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/text.h"

/* dir/name into buf; returns buf. */
static const char *join(char *buf, size_t cap, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    snprintf(buf, cap, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static rs_err need_dir(rs__importer *im, const char *dir, const char *must_have)
{
    struct stat st;
    char p[4096];
    if (stat(dir, &st) != 0)
        return rs_diag_fail(im->diag, RS_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return rs_diag_fail(im->diag, RS_EIO, "%s: not a folder (this format reads a folder)", dir);
    if (!exists(join(p, sizeof p, dir, must_have)))
        return rs_diag_fail(im->diag, RS_EIO, "%s: no %s in this folder", dir, must_have);
    return RS_OK;
}

/* Serialises a jansson object into the arena. */
static const char *json_in_arena(rs_arena *a, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    const char *out = rs_arena_strdup(a, s ? s : "{}");
    rs_free(s);
    json_decref(obj);
    return out;
}

/* Reads the rating rows shared by both releases: user, item, rating, time
 * in the columns given. */
static rs_err rating_row(rs__importer *im, const rs_csv_field *f, int cu, int ci, int cr, int ct)
{
    rs__field_ctx fc = {im, false};
    double rating;
    int64_t ts;
    rs_err e;
    if ((e = rs__field_id(&fc, "user", &f[cu])) || fc.skip ||
        (e = rs__field_id(&fc, "item", &f[ci])) || fc.skip ||
        (e = rs__field_double(&fc, "rating", &f[cr], NAN, &rating)) || fc.skip ||
        (e = rs__field_time(&fc, "timestamp", &f[ct], &ts)) || fc.skip)
        return e;
    if (rating != rating)
        return rs__import_bad_row(im, "rating: missing");
    return rs__import_event(im, f[cu].p, f[ci].p, "rating", rating, ts);
}

/* --- MovieLens 100K -------------------------------------------------------------- */

static const char *const ml100k_genres[19] = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
};

static const rs_csv_opts pipe_opts = {.delim = '|', .quotes = false};

static rs_err ml100k_items(rs__importer *im, const char *path)
{
    rs_err e = rs__import_open_file(im, path, "movielens-100k", &pipe_opts);
    if (e == RS_ENOTFOUND)
        return RS_OK;
    if (e)
        return e;
    rs_arena scratch;
    rs_arena_init(&scratch, 4096);
    const rs_csv_field *f;
    size_t n;
    while ((e = rs__import_next(im, &f, &n)) == RS_OK) {
        rs_arena_reset(&scratch);
        if (n != 24) {
            if ((e = rs__import_bad_row(im, "expected 24 fields, got %zu", n)))
                break;
            continue;
        }
        rs__field_ctx fc = {im, false};
        if ((e = rs__field_id(&fc, "movie id", &f[0])) || fc.skip)
            goto next;
        const char *tags[19];
        size_t n_tags = 0;
        const char *category = "";
        for (int g = 0; g < 19; g++) {
            const rs_csv_field *flag = &f[5 + g];
            if (flag->len != 1 || (flag->p[0] != '0' && flag->p[0] != '1')) {
                e = rs__import_bad_row(im, "genre flag %d: expected 0 or 1", g + 1);
                goto next;
            }
            if (flag->p[0] == '1' && g > 0) {
                tags[n_tags++] = ml100k_genres[g];
                if (!*category)
                    category = ml100k_genres[g];
            }
        }
        /* The file is Latin-1; store UTF-8. */
        const char *title = rs_latin1_to_utf8(&scratch, f[1].p, f[1].len);
        const char *why;
        if (rs_text_check(title, strlen(title), &why) != RS_OK) {
            e = rs__import_bad_row(im, "title: %s", why);
            goto next;
        }
        json_t *attrs = json_object();
        if (f[2].len) {
            json_object_set_new(attrs, "release_date",
                                json_string(rs_latin1_to_utf8(&scratch, f[2].p, f[2].len)));
            if (f[2].len >= 4) {
                long year = strtol(f[2].p + f[2].len - 4, NULL, 10);
                if (year > 1800 && year < 2100)
                    json_object_set_new(attrs, "year", json_integer(year));
            }
        }
        if (f[4].len)
            json_object_set_new(attrs, "imdb_url",
                                json_string(rs_latin1_to_utf8(&scratch, f[4].p, f[4].len)));
        rs_item it = {.id = f[0].p, .title = title, .category = category, .tags = tags,
                      .n_tags = n_tags, .attrs = json_in_arena(&scratch, attrs)};
        e = rs__import_item(im, &it);
    next:
        if (e)
            break;
    }
    rs_arena_destroy(&scratch);
    if (e != RS_ENOTFOUND)
        return e;
    return rs__import_close_file(im);
}

static rs_err ml100k_users(rs__importer *im, const char *path)
{
    rs_err e = rs__import_open_file(im, path, "movielens-100k", &pipe_opts);
    if (e == RS_ENOTFOUND)
        return RS_OK;
    if (e)
        return e;
    rs_arena scratch;
    rs_arena_init(&scratch, 4096);
    const rs_csv_field *f;
    size_t n;
    while ((e = rs__import_next(im, &f, &n)) == RS_OK) {
        rs_arena_reset(&scratch);
        if (n != 5) {
            if ((e = rs__import_bad_row(im, "expected 5 fields, got %zu", n)))
                break;
            continue;
        }
        rs__field_ctx fc = {im, false};
        double age;
        if ((e = rs__field_id(&fc, "user id", &f[0])) || fc.skip ||
            (e = rs__field_double(&fc, "age", &f[1], NAN, &age)) || fc.skip) {
            if (e)
                break;
            continue;
        }
        json_t *attrs = json_object();
        if (age == age)
            json_object_set_new(attrs, "age", json_integer((json_int_t)age));
        const char *keys[] = {NULL, NULL, "gender", "occupation", "zip"};
        for (int k = 2; k < 5; k++)
            if (f[k].len)
                json_object_set_new(attrs, keys[k],
                                    json_string(rs_latin1_to_utf8(&scratch, f[k].p, f[k].len)));
        rs_user u = {.id = f[0].p, .attrs = json_in_arena(&scratch, attrs)};
        if ((e = rs__import_user(im, &u)))
            break;
    }
    rs_arena_destroy(&scratch);
    if (e != RS_ENOTFOUND)
        return e;
    return rs__import_close_file(im);
}

static rs_err ml100k_ratings(rs__importer *im, const char *path)
{
    static const rs_csv_opts tab_opts = {.delim = '\t', .quotes = false};
    rs_err e = rs__import_open_file(im, path, "movielens-100k", &tab_opts);
    if (e == RS_ENOTFOUND)
        return RS_OK;
    if (e)
        return e;
    const rs_csv_field *f;
    size_t n;
    while ((e = rs__import_next(im, &f, &n)) == RS_OK) {
        e = n == 4 ? rating_row(im, f, 0, 1, 2, 3)
                   : rs__import_bad_row(im, "expected 4 fields, got %zu", n);
        if (e)
            return e;
    }
    if (e != RS_ENOTFOUND)
        return e;
    return rs__import_close_file(im);
}

rs_err rs__import_movielens_100k(rs__importer *im, const char *dir)
{
    char p[4096];
    rs_err e = need_dir(im, dir, "u.data");
    if (e == RS_OK && exists(join(p, sizeof p, dir, "u.item")))
        e = ml100k_items(im, p);
    if (e == RS_OK && exists(join(p, sizeof p, dir, "u.user")))
        e = ml100k_users(im, p);
    if (e == RS_OK)
        e = ml100k_ratings(im, join(p, sizeof p, dir, "u.data"));
    return e;
}

/* --- MovieLens latest (CSV) ---------------------------------------------------------- */

/* Users' tags per movie with their counts, to enrich the catalogue. */
typedef struct tag_use {
    uint32_t tag;    /* index in tag_set.names */
    uint32_t count;  /* users who gave it */
} tag_use;

typedef struct movie_tags {
    tag_use *uses;
    size_t n, cap;
} movie_tags;

typedef struct tag_set {
    rs_idmap *movies;   /* movieId -> index into per_movie */
    movie_tags *per_movie;
    size_t cap;
    rs_idmap *names;    /* lower-cased tag text */
} tag_set;

static void tag_set_free(tag_set *t)
{
    for (size_t i = 0; t->movies && i < rs_idmap_size(t->movies); i++)
        rs_free(t->per_movie[i].uses);
    rs_free(t->per_movie);
    rs_idmap_free(t->movies);
    rs_idmap_free(t->names);
}

static rs_err tag_add(tag_set *t, const char *movie, const char *tag, size_t tag_len)
{
    uint32_t m, k;
    bool added;
    rs_err e;
    if ((e = rs_idmap_intern(t->movies, movie, strlen(movie), &m, &added)))
        return e;
    if (m >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        t->per_movie = rs_xreallocarray(t->per_movie, cap, sizeof *t->per_movie);
        memset(t->per_movie + t->cap, 0, (cap - t->cap) * sizeof *t->per_movie);
        t->cap = cap;
    }
    if ((e = rs_idmap_intern(t->names, tag, tag_len, &k, &added)))
        return e;
    movie_tags *mt = &t->per_movie[m];
    for (size_t i = 0; i < mt->n; i++)
        if (mt->uses[i].tag == k) {
            mt->uses[i].count++;
            return RS_OK;
        }
    if (mt->n == mt->cap) {
        mt->cap = mt->cap ? mt->cap * 2 : 4;
        mt->uses = rs_xreallocarray(mt->uses, mt->cap, sizeof *mt->uses);
    }
    mt->uses[mt->n++] = (tag_use){k, 1};
    return RS_OK;
}

/* Reads tags.csv into t, reporting its bad rows under its own name. The
 * reader of movies.csv is parked meanwhile. */
static rs_err read_tags(rs__importer *im, const char *path, tag_set *t)
{
    static const char *const cols[] = {"userId", "movieId", "tag", "timestamp"};
    rs_csv *parked = im->csv;
    const char *parked_file = im->file;
    uint64_t parked_rows = im->file_rows;
    rs_csv_opts o = {.delim = ',', .quotes = true};
    rs_err e = rs_csv_open(path, &o, &im->csv, im->diag);
    if (e) {
        im->csv = parked;
        return e;
    }
    im->file = path;
    im->file_rows = 0;
    int col[4];
    size_t n_cols, n;
    const rs_csv_field *f;
    e = rs__import_header(im, cols, 4, 3, "userId,movieId,tag,timestamp", col, &n_cols);
    while (e == RS_OK && (e = rs__import_next(im, &f, &n)) == RS_OK) {
        if (n != n_cols) {
            e = rs__import_bad_row(im, "expected %zu fields, got %zu", n_cols, n);
            continue;
        }
        rs__field_ctx fc = {im, false};
        const rs_csv_field *tag = &f[col[2]];
        size_t len = tag->len;
        char *text = (char *)rs_trim(tag->p, &len);
        if ((e = rs__field_id(&fc, "movieId", &f[col[1]])) || fc.skip ||
            (e = rs__field_text(&fc, "tag", tag)) || fc.skip)
            continue;
        if (len == 0)
            continue;
        if (len > RS_TAG_MAX) {
            e = rs__import_bad_row(im, "tag: longer than 128 bytes");
            continue;
        }
        for (size_t i = 0; i < len; i++)
            if (text[i] >= 'A' && text[i] <= 'Z')
                text[i] = (char)(text[i] - 'A' + 'a');
        e = tag_add(t, f[col[1]].p, text, len);
    }
    if (e == RS_ENOTFOUND)
        e = RS_OK;
    rs_csv_close(im->csv);
    im->csv = parked;
    im->file = parked_file;
    im->file_rows = parked_rows;
    return e;
}

static int by_count(const void *pa, const void *pb)
{
    const tag_use *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return (a->tag > b->tag) - (a->tag < b->tag); /* first seen first */
}

/* Appends a movie's user tags (most frequent first) after its genres,
 * skipping repeats of a genre, up to RS_MAX_TAGS in all. */
static void add_user_tags(tag_set *t, const char *movie, const char **tags, size_t *n_tags)
{
    uint32_t m = t->movies ? rs_idmap_find(t->movies, movie, strlen(movie)) : RS_INDEX_NONE;
    if (m == RS_INDEX_NONE)
        return;
    movie_tags *mt = &t->per_movie[m];
    qsort(mt->uses, mt->n, sizeof *mt->uses, by_count);
    size_t n_genres = *n_tags;
    for (size_t i = 0; i < mt->n && *n_tags < RS_MAX_TAGS; i++) {
        const char *name = rs_idmap_get(t->names, mt->uses[i].tag, NULL);
        bool dup = false;
        for (size_t g = 0; g < n_genres && !dup; g++)
            dup = strcasecmp(tags[g], name) == 0;
        if (!dup)
            tags[(*n_tags)++] = name;
    }
}

/* The year in a title ending in "(1995)", or 0. */
static long title_year(const char *title, size_t len)
{
    while (len && title[len - 1] == ' ')
        len--;
    if (len < 6 || title[len - 1] != ')' || title[len - 6] != '(')
        return 0;
    long y = 0;
    for (size_t i = len - 5; i < len - 1; i++) {
        if (title[i] < '0' || title[i] > '9')
            return 0;
        y = y * 10 + (title[i] - '0');
    }
    return y;
}

static rs_err mlcsv_movies(rs__importer *im, const char *path, const char *tags_path)
{
    static const rs_csv_opts opts = {.delim = ',', .quotes = true};
    static const char *const cols[] = {"movieId", "title", "genres"};
    rs_err e = rs__import_open_file(im, path, "movielens-csv", &opts);
    if (e == RS_ENOTFOUND)
        return RS_OK;
    if (e)
        return e;
    tag_set ts = {.movies = rs_idmap_new(), .names = rs_idmap_new()};
    int col[3];
    size_t n_cols, n;
    if (tags_path)
        e = read_tags(im, tags_path, &ts);
    if (e == RS_OK)
        e = rs__import_header(im, cols, 3, 1, "movieId,title,genres", col, &n_cols);
    rs_arena scratch;
    rs_arena_init(&scratch, 4096);
    const rs_csv_field *f;
    while (e == RS_OK && (e = rs__import_next(im, &f, &n)) == RS_OK) {
        rs_arena_reset(&scratch);
        if (n != n_cols) {
            e = rs__import_bad_row(im, "expected %zu fields, got %zu", n_cols, n);
            continue;
        }
        rs__field_ctx fc = {im, false};
        const rs_csv_field *title = col[1] >= 0 ? &f[col[1]] : NULL;
        if ((e = rs__field_id(&fc, "movieId", &f[col[0]])) || fc.skip ||
            (title && ((e = rs__field_text(&fc, "title", title)) || fc.skip)))
            continue;
        const char *tags[RS_MAX_TAGS];
        size_t n_tags = 0;
        if (col[2] >= 0) {
            char *g = (char *)f[col[2]].p;
            while (g && *g && n_tags < RS_MAX_TAGS) {
                char *bar = strchr(g, '|');
                if (bar)
                    *bar = '\0';
                if (*g && strcmp(g, "(no genres listed)") != 0 && strlen(g) <= RS_TAG_MAX)
                    tags[n_tags++] = g;
                g = bar ? bar + 1 : NULL;
            }
        }
        const char *category = n_tags ? tags[0] : "";
        add_user_tags(&ts, f[col[0]].p, tags, &n_tags);
        json_t *attrs = json_object();
        long year = title ? title_year(title->p, title->len) : 0;
        if (year > 1800 && year < 2100)
            json_object_set_new(attrs, "year", json_integer(year));
        rs_item it = {.id = f[col[0]].p, .title = title ? title->p : NULL, .category = category,
                      .tags = tags, .n_tags = n_tags, .attrs = json_in_arena(&scratch, attrs)};
        e = rs__import_item(im, &it);
    }
    rs_arena_destroy(&scratch);
    tag_set_free(&ts);
    if (e != RS_ENOTFOUND)
        return e;
    return rs__import_close_file(im);
}

static rs_err mlcsv_ratings(rs__importer *im, const char *path)
{
    static const rs_csv_opts opts = {.delim = ',', .quotes = true};
    static const char *const cols[] = {"userId", "movieId", "rating", "timestamp"};
    rs_err e = rs__import_open_file(im, path, "movielens-csv", &opts);
    if (e == RS_ENOTFOUND)
        return RS_OK;
    if (e)
        return e;
    int col[4];
    size_t n_cols, n;
    const rs_csv_field *f;
    e = rs__import_header(im, cols, 4, 4, "userId,movieId,rating,timestamp", col, &n_cols);
    while (e == RS_OK && (e = rs__import_next(im, &f, &n)) == RS_OK)
        e = n == n_cols ? rating_row(im, f, col[0], col[1], col[2], col[3])
                        : rs__import_bad_row(im, "expected %zu fields, got %zu", n_cols, n);
    if (e != RS_ENOTFOUND)
        return e;
    return rs__import_close_file(im);
}

/* tags.csv is read only together with movies.csv: it enriches the
 * catalogue rows and is not an import of its own. */
rs_err rs__import_movielens_csv(rs__importer *im, const char *dir)
{
    char movies[4096], tags[4096], ratings[4096];
    rs_err e = need_dir(im, dir, "ratings.csv");
    join(movies, sizeof movies, dir, "movies.csv");
    join(tags, sizeof tags, dir, "tags.csv");
    if (e == RS_OK && exists(movies))
        e = mlcsv_movies(im, movies, exists(tags) ? tags : NULL);
    if (e == RS_OK)
        e = mlcsv_ratings(im, join(ratings, sizeof ratings, dir, "ratings.csv"));
    return e;
}
