/* Model hyperparameters as JSON, both ways: what a training run records
 * and what `recsys train --params-from RUN` reads back. One table of
 * fields drives both directions, so they cannot drift apart. */
#include "models/fit.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"

typedef enum field_type { F_U32, F_FLOAT, F_DOUBLE, F_BOOL, F_ENUM } field_type;

typedef struct field {
    const char *section, *key;
    field_type type;
    size_t offset;  /* in rs_model_params */
    /* F_ENUM: the name of a value and back (-1 for unknown names). */
    const char *(*name)(int v);
    int (*parse)(const char *s);
} field;

static const char *conf_name(int v)
{
    return rs_als_conf_name((rs_als_conf)v);
}
static const char *solver_name(int v)
{
    return rs_als_solver_name((rs_als_solver)v);
}
static const char *mf_solver_name(int v)
{
    return rs_mf_solver_name((rs_mf_solver)v);
}
static const char *knn_weight_name(int v)
{
    return rs_knn_weight_name((rs_knn_weight)v);
}

#define P(member) offsetof(rs_model_params, member)

static const field fields[] = {
    {"als", "factors", F_U32, P(als.factors), NULL, NULL},
    {"als", "iterations", F_U32, P(als.iterations), NULL, NULL},
    {"als", "reg", F_FLOAT, P(als.reg), NULL, NULL},
    {"als", "reg_by_count", F_BOOL, P(als.reg_by_count), NULL, NULL},
    {"als", "reg_count", F_FLOAT, P(als.reg_count), NULL, NULL},
    {"als", "alpha", F_FLOAT, P(als.alpha), NULL, NULL},
    {"als", "confidence", F_ENUM, P(als.conf), conf_name, rs_als_conf_parse},
    {"als", "solver", F_ENUM, P(als.solver), solver_name, rs_als_solver_parse},
    {"als", "cg_steps", F_U32, P(als.cg_steps), NULL, NULL},
    {"mf", "solver", F_ENUM, P(mf.solver), mf_solver_name, rs_mf_solver_parse},
    {"mf", "factors", F_U32, P(mf.factors), NULL, NULL},
    {"mf", "iterations", F_U32, P(mf.iterations), NULL, NULL},
    {"mf", "burn_in", F_U32, P(mf.burn_in), NULL, NULL},
    {"mf", "reg", F_FLOAT, P(mf.reg), NULL, NULL},
    {"mf", "lr", F_FLOAT, P(mf.lr), NULL, NULL},
    {"knn", "neighbours", F_U32, P(knn.neighbours), NULL, NULL},
    {"knn", "weight", F_ENUM, P(knn.weight), knn_weight_name, rs_knn_weight_parse},
    {"knn", "bm25_k1", F_FLOAT, P(knn.bm25_k1), NULL, NULL},
    {"knn", "bm25_b", F_FLOAT, P(knn.bm25_b), NULL, NULL},
    {"similar", "neighbours", F_U32, P(similar.neighbours), NULL, NULL},
    {"hybrid", "reg", F_FLOAT, P(hybrid.reg), NULL, NULL},
    {"hybrid", "blend", F_FLOAT, P(hybrid.blend), NULL, NULL},
    {"hybrid", "min_count", F_U32, P(hybrid.min_count), NULL, NULL},
    {"hybrid", "min_df", F_U32, P(content.min_df), NULL, NULL},
    {"hybrid", "max_terms", F_U32, P(content.max_terms), NULL, NULL},
    {"popularity", "half_life_ms", F_DOUBLE, P(half_life_ms), NULL, NULL},
};

#undef P

static json_t *field_value(const field *f, const rs_model_params *p)
{
    const char *at = (const char *)p + f->offset;
    switch (f->type) {
    case F_U32: return json_integer(*(const uint32_t *)(const void *)at);
    case F_FLOAT: return json_real(*(const float *)(const void *)at);
    case F_DOUBLE: {
        /* Whole numbers (the half-life in ms) as integers, exactly. */
        const double v = *(const double *)(const void *)at;
        return v == floor(v) && fabs(v) < 9e15 ? json_integer((json_int_t)v) : json_real(v);
    }
    case F_BOOL: return json_boolean(*(const bool *)(const void *)at);
    case F_ENUM: return json_string(f->name(*(const int *)(const void *)at));
    }
    return json_null();
}

char *rs_model_params_json(const rs_model_params *p)
{
    json_t *root = json_object();
    for (size_t i = 0; i < RS_ARRAY_LEN(fields); i++) {
        const field *f = &fields[i];
        json_t *sec = json_object_get(root, f->section);
        if (!sec) {
            sec = json_object();
            json_object_set_new(root, f->section, sec);
        }
        json_object_set_new(sec, f->key, field_value(f, p));
    }
    char *dumped = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(root);
    return dumped ? dumped : rs_xstrdup("{}"); /* NULL only when out of memory */
}

/* Stores one JSON value into its field; false when it has the wrong type
 * or is out of range. */
static bool set_field(const field *f, json_t *v, rs_model_params *p)
{
    char *at = (char *)p + f->offset;
    switch (f->type) {
    case F_U32: {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > UINT32_MAX)
            return false;
        *(uint32_t *)(void *)at = (uint32_t)json_integer_value(v);
        return true;
    }
    case F_FLOAT:
    case F_DOUBLE: {
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return false;
        if (f->type == F_FLOAT && fabs(json_number_value(v)) > FLT_MAX)
            return false;
        if (f->type == F_FLOAT)
            *(float *)(void *)at = (float)json_number_value(v);
        else
            *(double *)(void *)at = json_number_value(v);
        return true;
    }
    case F_BOOL:
        if (!json_is_boolean(v))
            return false;
        *(bool *)(void *)at = json_is_true(v);
        return true;
    case F_ENUM: {
        const int e = json_is_string(v) ? f->parse(json_string_value(v)) : -1;
        if (e < 0)
            return false;
        *(int *)(void *)at = e;
        return true;
    }
    }
    return false;
}

static bool known_section(const char *section)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(fields); i++)
        if (!strcmp(fields[i].section, section))
            return true;
    return false;
}

static const field *find_field(const char *section, const char *key)
{
    for (size_t i = 0; i < RS_ARRAY_LEN(fields); i++)
        if (!strcmp(fields[i].section, section) && !strcmp(fields[i].key, key))
            return &fields[i];
    return NULL;
}

rs_err rs_model_params_from_json(const char *json, rs_model_params *p, rs_diag *diag)
{
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return rs_diag_fail(diag, RS_EINVAL, "parameters: %s",
                            root ? "not a JSON object" : jerr.text);
    }
    rs_model_params out = *p;
    rs_err e = RS_OK;
    const char *section;
    json_t *sec;
    json_object_foreach(root, section, sec) {
        const char *key;
        json_t *v;
        if (!known_section(section) && json_is_object(sec) && json_object_size(sec) == 0) {
            e = rs_diag_fail(diag, RS_EINVAL, "parameters: unknown section '%s'", section);
            break;
        }
        if (!json_is_object(sec)) {
            e = rs_diag_fail(diag, RS_EINVAL, "parameters: '%s' is not an object", section);
            break;
        }
        json_object_foreach(sec, key, v) {
            const field *f = find_field(section, key);
            if (!f) {
                e = rs_diag_fail(diag, RS_EINVAL, "parameters: unknown parameter %s.%s",
                                 section, key);
                break;
            }
            if (!set_field(f, v, &out)) {
                e = rs_diag_fail(diag, RS_EINVAL, "parameters: bad value for %s.%s", section,
                                 key);
                break;
            }
        }
        if (e)
            break;
    }
    json_decref(root);
    if (!e)
        *p = out;
    return e;
}
