/* The server's roles (--roles): which groups of routes a process mounts,
 * so that one binary runs as separate services (service.h). */
#include <stdio.h>
#include <string.h>

#include "server/service.h"

static const struct {
    const char *name;
    unsigned flag;
} roles[] = {
    {"input", RS_ROLE_INPUT},       {"collab", RS_ROLE_COLLAB},
    {"hybrid", RS_ROLE_HYBRID},     {"popularity", RS_ROLE_POPULARITY},
    {"admin", RS_ROLE_ADMIN},       {"all", RS_ROLES_ALL},
};

rs_err rs_roles_parse(const char *list, unsigned *out, rs_diag *diag)
{
    *out = 0;
    for (const char *p = list; *p;) {
        const size_t len = strcspn(p, ",");
        unsigned flag = 0;
        for (size_t i = 0; i < RS_ARRAY_LEN(roles) && !flag; i++)
            if (strlen(roles[i].name) == len && !strncmp(roles[i].name, p, len))
                flag = roles[i].flag;
        if (!flag && len)
            return rs_diag_fail(diag, RS_EINVAL,
                                "unknown role '%.*s' (roles: input, collab, hybrid, popularity, "
                                "admin, or all)",
                                (int)(len > 40 ? 40 : len), p);
        *out |= flag;
        p += len + (p[len] == ',');
    }
    if (!*out)
        return rs_diag_fail(diag, RS_EINVAL, "no role given (roles: input, collab, hybrid, "
                                             "popularity, admin, or all)");
    return RS_OK;
}

size_t rs_roles_format(unsigned set, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    if (set == RS_ROLES_ALL)
        return (size_t)snprintf(buf, cap, "all");
    for (size_t i = 0; i + 1 < RS_ARRAY_LEN(roles); i++)
        if ((set & roles[i].flag) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", roles[i].name);
    return n;
}
