/* The fixtures the registry's unit tests share: a fresh SQLite store and a
 * fresh file:// model store, each in its own place in the test folder.
 * Include after cmocka.h. */
#ifndef RS_TEST_REGISTRY_FIXTURES_H
#define RS_TEST_REGISTRY_FIXTURES_H

#include "../test_util.h"
#include "registry/objstore.h"
#include "store/store.h"

static int fixture_counter;
static char store_url[700]; /* of the store open_store opened last */

/* A fresh, empty SQLite store in the test folder. */
static inline rs_store *open_store(void)
{
    snprintf(store_url, sizeof store_url, "sqlite://%s/store-%d.db", rs_test_dir(),
             ++fixture_counter);
    rs_store *s = NULL;
    rs_diag d = {{0}};
    if (rs_store_open(store_url, &s, &d))
        fail_msg("open %s: %s", store_url, d.msg);
    return s;
}

/* A fresh file:// model store in its own folder, whose path goes to dir. */
static inline rs_objstore *open_objects(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/models-%d", rs_test_dir(), ++fixture_counter);
    char url[700];
    snprintf(url, sizeof url, "file://%s", dir);
    rs_objstore *o = NULL;
    rs_diag d = {{0}};
    if (rs_objstore_open(url, &o, &d))
        fail_msg("open %s: %s", url, d.msg);
    return o;
}

#endif
