/* The files the server serves from its own binary (the API docs page and
 * Swagger UI, the OpenAPI document): embedded at build time by
 * cmake/Embed.cmake, so the binary needs no files beside it and no CDN. */
#ifndef RS_SERVER_ASSETS_H
#define RS_SERVER_ASSETS_H

#include <stddef.h>

typedef struct rs_asset {
    const char *name;             /* the URL path, "/docs/swagger-ui.css" */
    const char *type;             /* the Content-Type */
    const unsigned char *start;   /* the bytes, followed by a NUL */
    const unsigned char *end;
} rs_asset;

/* Ends with an entry whose name is NULL. */
extern const rs_asset rs_assets[];

/* The asset served at name, or NULL. */
const rs_asset *rs_asset_find(const char *name);

#endif
