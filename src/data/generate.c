/* The synthetic shop behind rs_generate (see generate.h): a catalogue of
 * items in twelve categories with brands, titles, tags, latent vectors and
 * Zipf-like popularity, then users with hidden tastes whose events are
 * drawn one by one and streamed to events.csv, grouped by user. Every
 * random choice comes from rs_rng streams keyed by (seed, what, user), so
 * the files are a pure function of the options and memory stays
 * O(items x factors) whatever the number of users or events. */
#include "generate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/alias.h"

/* ---- The model's knobs ------------------------------------------------ */

#define N_CATEGORIES 12
#define MAX_BRANDS 8        /* brands per category: 3..MAX_BRANDS */
#define N_TAGS 8            /* tags per category */
#define CANDIDATES 8        /* popularity-sampled candidates per event */
#define BETA 5.0            /* weight of the affinity u.v in the choice */
#define EXPLORE 0.12        /* share of events outside the preferred categories */
#define AVOID_REPEAT 0.9    /* chance that an already-seen winner is passed over */
#define ACTIVITY_SIGMA 1.0  /* lognormal sigma of events per user */
#define ZIPF_S 1.0          /* popularity ~ 1 / (rank + q)^s */
#define SESSION_BREAK 0.3   /* chance that an event starts a new session */

/* Item vector mix: v = normalise(cat C + brand B + tags mean(T) + own E). */
#define MIX_CAT 0.60f
#define MIX_BRAND 0.35f
#define MIX_TAGS 0.30f
#define MIX_OWN 0.55f
/* User vector: u = sum_c w_c C_c + TASTE_OWN Z, Z ~ N(0, I / f). */
#define TASTE_OWN 0.8f

/* Ratings: stars = round(BASE + SLOPE * u.v + NOISE * N(0,1)) in 1..5. */
#define RATING_BASE 2.3
#define RATING_SLOPE 2.4
#define RATING_NOISE 0.7

/* The 180-day window ending 2026-01-01T00:00:00Z, in epoch seconds. */
#define WINDOW_END INT64_C(1767225600)
#define WINDOW_SECONDS (180.0 * 86400.0)
#define MIN_SPAN (3.0 * 86400.0) /* the shortest active period of a user */

#define STREAM_CATALOGUE UINT64_MAX
#define WRITE_BUF (1u << 20)

/* ---- Word lists ------------------------------------------------------- */

typedef struct category_words {
    const char *name;
    unsigned share; /* relative number of items */
    const char *adj[6];
    const char *mod[6];
    const char *noun[8];
    const char *tag[N_TAGS];
} category_words;

static const category_words words[N_CATEGORIES] = {
    {"Electronics", 11,
     {"Compact", "Portable", "Smart", "Ultra", "Pro", "Slim"},
     {"Wireless", "Bluetooth", "Noise-Cancelling", "4K", "USB-C", "Rechargeable"},
     {"Headphones", "Speaker", "Charger", "Keyboard", "Mouse", "Monitor", "Camera", "Earbuds"},
     {"wireless", "bluetooth", "gaming", "audio", "usb-c", "rechargeable", "hd", "smart-home"}},
    {"Books", 14,
     {"Illustrated", "Complete", "Essential", "Pocket", "Annotated", "Collected"},
     {"Mystery", "Fantasy", "History", "Science", "Cooking", "Travel"},
     {"Novel", "Guide", "Handbook", "Anthology", "Atlas", "Memoir", "Cookbook", "Workbook"},
     {"fiction", "nonfiction", "bestseller", "paperback", "hardcover", "kids", "classic",
      "award-winner"}},
    {"Home & Kitchen", 12,
     {"Nonstick", "Stainless", "Classic", "Modern", "Compact", "Deluxe"},
     {"Cast Iron", "Bamboo", "Glass", "Insulated", "Electric", "Stackable"},
     {"Frying Pan", "Kettle", "Knife Set", "Blender", "Cutting Board", "Coffee Maker",
      "Storage Jars", "Toaster"},
     {"kitchen", "cookware", "dishwasher-safe", "eco", "bpa-free", "gift", "storage",
      "small-appliance"}},
    {"Clothing", 12,
     {"Classic", "Slim-Fit", "Relaxed", "Lightweight", "Vintage", "Everyday"},
     {"Cotton", "Denim", "Linen", "Wool", "Fleece", "Merino"},
     {"T-Shirt", "Jeans", "Hoodie", "Jacket", "Sweater", "Dress", "Shorts", "Socks"},
     {"cotton", "casual", "summer", "winter", "unisex", "organic", "slim", "outdoor"}},
    {"Sports & Outdoors", 8,
     {"Lightweight", "Waterproof", "Durable", "Foldable", "Pro", "Trail"},
     {"Hiking", "Yoga", "Running", "Camping", "Cycling", "Fitness"},
     {"Backpack", "Mat", "Water Bottle", "Tent", "Dumbbells", "Helmet", "Jump Rope", "Gloves"},
     {"outdoor", "fitness", "camping", "running", "yoga", "waterproof", "cycling",
      "lightweight"}},
    {"Beauty", 8,
     {"Gentle", "Hydrating", "Natural", "Daily", "Soothing", "Radiant"},
     {"Vitamin C", "Aloe", "Argan Oil", "Rose", "Charcoal", "Shea"},
     {"Face Cream", "Serum", "Shampoo", "Lip Balm", "Cleanser", "Body Lotion", "Face Mask",
      "Conditioner"},
     {"skincare", "haircare", "vegan", "cruelty-free", "fragrance-free", "organic",
      "sensitive-skin", "travel-size"}},
    {"Toys & Games", 7,
     {"Classic", "Deluxe", "Mini", "Creative", "Giant", "Magnetic"},
     {"Wooden", "Puzzle", "Building", "Plush", "Remote-Control", "Strategy"},
     {"Blocks", "Board Game", "Puzzle", "Teddy Bear", "Race Car", "Card Game", "Train Set",
      "Doll"},
     {"kids", "family", "educational", "stem", "ages-3-plus", "party", "collectible",
      "outdoor-play"}},
    {"Grocery", 8,
     {"Organic", "Roasted", "Premium", "Whole", "Classic", "Spicy"},
     {"Dark Roast", "Green", "Sea Salt", "Honey", "Almond", "Whole Grain"},
     {"Coffee Beans", "Tea", "Olive Oil", "Pasta", "Granola", "Chocolate", "Peanut Butter",
      "Crackers"},
     {"organic", "gluten-free", "vegan", "snack", "breakfast", "fair-trade", "bulk",
      "sugar-free"}},
    {"Garden", 5,
     {"Heavy-Duty", "Ergonomic", "Solar", "Weatherproof", "Compact", "Classic"},
     {"Stainless", "Bamboo", "Ceramic", "Cordless", "Raised", "Hanging"},
     {"Planter", "Pruning Shears", "Garden Hose", "Watering Can", "Bird Feeder", "Lights",
      "Trowel", "Seed Kit"},
     {"garden", "outdoor", "solar", "plants", "tools", "patio", "eco", "watering"}},
    {"Automotive", 5,
     {"Heavy-Duty", "Universal", "Premium", "Compact", "Portable", "All-Weather"},
     {"Microfiber", "LED", "Magnetic", "Digital", "Leather", "12V"},
     {"Floor Mats", "Phone Mount", "Tire Inflator", "Seat Covers", "Dash Cam", "Jump Starter",
      "Wiper Blades", "Car Vacuum"},
     {"car", "accessories", "cleaning", "safety", "universal-fit", "led", "travel", "tools"}},
    {"Pet Supplies", 5,
     {"Cozy", "Durable", "Interactive", "Natural", "Orthopedic", "Portable"},
     {"Grain-Free", "Chew", "Plush", "Self-Cleaning", "Reflective", "Salmon"},
     {"Dog Bed", "Cat Tree", "Leash", "Dog Food", "Cat Litter", "Chew Toy", "Pet Carrier",
      "Treats"},
     {"dog", "cat", "toys", "food", "grooming", "training", "small-pets", "travel"}},
    {"Office", 5,
     {"Ergonomic", "Adjustable", "Classic", "Compact", "Premium", "Refillable"},
     {"Gel", "Mesh", "Leather", "Wireless", "Recycled", "Magnetic"},
     {"Notebook", "Desk Chair", "Pen Set", "Planner", "Desk Lamp", "Stapler", "Whiteboard",
      "File Organizer"},
     {"office", "school", "stationery", "ergonomic", "organization", "recycled", "desk",
      "gift"}},
};

/* Syllables for pronounceable brand names: onset + vowel, twice or three
 * times, and an optional final consonant ("Brelox", "Tamira"). */
static const char *const onsets[] = {"b",  "c",  "d",  "f",  "g",  "k",  "l",  "m",
                                     "n",  "p",  "r",  "s",  "t",  "v",  "z",  "br",
                                     "cr", "dr", "fl", "gr", "pl", "sh", "st", "tr"};
static const char *const vowels[] = {"a", "e", "i", "o", "u", "ai", "ea", "io", "ou"};
static const char *const codas[] = {"", "", "", "n", "r", "x", "l", "s", "m", "k"};

static const char *const type_names[] = {"view", "click", "like", "purchase", "rating"};
enum { T_VIEW, T_CLICK, T_LIKE, T_PURCHASE, T_RATING, T__N };

/* ---- The catalogue ---------------------------------------------------- */

#define NO_WORD 0xff

typedef struct catalogue {
    uint32_t n_items, n_cats, f;
    uint8_t *cat;         /* n_items category indices */
    uint8_t *brand;       /* n_items brand indices within the category */
    uint8_t *text;        /* (n_items, 6): adj, mod, noun, tag0..2 (NO_WORD if none) */
    float *V;             /* (n_items, f) unit item vectors */
    float *C;             /* (n_cats, f) unit category vectors */
    uint32_t *cat_items;  /* items grouped by category, ascending within one */
    uint32_t cat_start[N_CATEGORIES + 1]; /* category c is cat_items[start[c]..start[c+1]) */
    double cat_mass[N_CATEGORIES];        /* summed popularity of each category */
    rs_alias cats;                        /* categories by mass */
    rs_alias by_cat[N_CATEGORIES];        /* positions in a category by popularity */
    uint8_t n_brands[N_CATEGORIES];
    char brand_names[N_CATEGORIES][MAX_BRANDS][16];
} catalogue;

static void catalogue_destroy(catalogue *c)
{
    rs_free(c->cat);
    rs_free(c->brand);
    rs_free(c->text);
    rs_free(c->V);
    rs_free(c->C);
    rs_free(c->cat_items);
    rs_alias_destroy(&c->cats);
    for (int i = 0; i < N_CATEGORIES; i++)
        rs_alias_destroy(&c->by_cat[i]);
}

/* x . y over f floats. One product per statement so that no compiler may
 * fuse it into an FMA: the files must not depend on the compiler. */
static float dot(const float *x, const float *y, uint32_t f)
{
    float acc = 0.0f;
    for (uint32_t k = 0; k < f; k++) {
        float p = x[k] * y[k];
        acc += p;
    }
    return acc;
}

/* Scales x[0..f) to unit length (leaves a zero vector alone). */
static void normalise(float *x, uint32_t f)
{
    float n = sqrtf(dot(x, x, f));
    if (n > 0.0f)
        for (uint32_t k = 0; k < f; k++)
            x[k] /= n;
}

/* A random direction: f standard normals, normalised. */
static void random_unit(rs_rng *r, float *x, uint32_t f)
{
    for (uint32_t k = 0; k < f; k++)
        x[k] = (float)rs_rng_normal(r);
    normalise(x, f);
}

/* Writes a pronounceable capitalised name into out (16 bytes). */
static void brand_name(rs_rng *r, char *out)
{
    size_t len = 0;
    int syllables = 2 + (rs_rng_below(r, 10) < 3);
    for (int s = 0; s < syllables; s++) {
        const char *on = onsets[rs_rng_below(r, RS_ARRAY_LEN(onsets))];
        const char *vo = vowels[rs_rng_below(r, RS_ARRAY_LEN(vowels))];
        memcpy(out + len, on, strlen(on));
        len += strlen(on);
        memcpy(out + len, vo, strlen(vo));
        len += strlen(vo);
    }
    const char *co = codas[rs_rng_below(r, RS_ARRAY_LEN(codas))];
    memcpy(out + len, co, strlen(co));
    len += strlen(co);
    out[len] = '\0';
    out[0] = (char)(out[0] - 'a' + 'A');
}

/* Gives every category 3..MAX_BRANDS brands with names unique across the
 * catalogue (a clash is redrawn; 96 names out of ~10^5 rarely clash). */
static void make_brands(catalogue *c, rs_rng *r)
{
    for (uint32_t k = 0; k < c->n_cats; k++) {
        c->n_brands[k] = (uint8_t)(3 + rs_rng_below(r, MAX_BRANDS - 2));
        for (int b = 0; b < c->n_brands[k]; b++) {
            for (;;) {
                brand_name(r, c->brand_names[k][b]);
                int clash = 0;
                for (uint32_t k2 = 0; k2 <= k && !clash; k2++)
                    for (int b2 = 0; b2 < (k2 < k ? c->n_brands[k2] : b) && !clash; b2++)
                        clash = !strcmp(c->brand_names[k2][b2], c->brand_names[k][b]);
                if (!clash)
                    break;
            }
        }
    }
}

/* Draws from cumulative shares cum[0..n) (cum[n-1] is the total). */
static uint32_t draw_cumulative(rs_rng *r, const double *cum, uint32_t n)
{
    double x = rs_rng_uniform(r) * cum[n - 1];
    for (uint32_t i = 0; i + 1 < n; i++)
        if (x < cum[i])
            return i;
    return n - 1;
}

/* Builds the whole catalogue from one rng stream: categories, brands and
 * tags with their latent vectors, then every item's category (each used
 * category gets at least one item), brand (Zipf over the category's brands),
 * title words, 1-3 tags, latent vector and popularity rank, and finally the
 * per-category alias tables. The latent vector of an item mixes those of
 * its category, brand and tags with its own, so content features and
 * co-occurrence both carry the taste signal. Errors: RS_ENOMEM. */
static rs_err catalogue_build(catalogue *c, uint32_t n_items, uint32_t f, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->n_items = n_items;
    c->f = f;
    c->n_cats = n_items < N_CATEGORIES ? n_items : N_CATEGORIES;
    const uint32_t nc = c->n_cats;
    rs_rng r;
    rs_rng_init_stream(&r, seed, STREAM_CATALOGUE);

    float *B = rs_try_calloc((size_t)nc * MAX_BRANDS, (size_t)f * sizeof(float));
    float *T = rs_try_calloc((size_t)nc * N_TAGS, (size_t)f * sizeof(float));
    double *pop = rs_try_calloc(n_items, sizeof(double));
    uint32_t *rank = rs_try_calloc(n_items, sizeof(uint32_t));
    c->cat = rs_try_calloc(n_items, 1);
    c->brand = rs_try_calloc(n_items, 1);
    c->text = rs_try_calloc(n_items, 6);
    c->V = rs_try_calloc(n_items, (size_t)f * sizeof(float));
    c->C = rs_try_calloc(nc, (size_t)f * sizeof(float));
    c->cat_items = rs_try_calloc(n_items, sizeof(uint32_t));
    rs_err e = RS_ENOMEM;
    if (!B || !T || !pop || !rank || !c->cat || !c->brand || !c->text || !c->V || !c->C ||
        !c->cat_items)
        goto out;

    for (uint32_t k = 0; k < nc; k++)
        random_unit(&r, c->C + (size_t)k * f, f);
    make_brands(c, &r);
    for (uint32_t k = 0; k < nc * MAX_BRANDS; k++)
        random_unit(&r, B + (size_t)k * f, f);
    for (uint32_t k = 0; k < nc * N_TAGS; k++)
        random_unit(&r, T + (size_t)k * f, f);

    /* Categories: the first nc items take one category each (in shuffled
     * order), the rest follow the catalogue shares. */
    double cum[N_CATEGORIES];
    uint32_t order[N_CATEGORIES];
    for (uint32_t k = 0; k < nc; k++) {
        cum[k] = (k ? cum[k - 1] : 0.0) + words[k].share;
        order[k] = k;
    }
    rs_rng_shuffle_u32(&r, order, nc);
    for (uint32_t i = 0; i < n_items; i++)
        c->cat[i] = (uint8_t)(i < nc ? order[i] : draw_cumulative(&r, cum, nc));

    /* Popularity: a random rank per item, weight 1 / (rank + q)^s with
     * q = 1 + items / 200, a Zipf-Mandelbrot law whose flattened head
     * gives the top 10% of items about half of the events at any size. */
    for (uint32_t i = 0; i < n_items; i++)
        rank[i] = i;
    rs_rng_shuffle_u32(&r, rank, n_items);
    const double q = 1.0 + n_items / 200.0;
    for (uint32_t i = 0; i < n_items; i++)
        pop[i] = pow(rank[i] + q, -ZIPF_S);

    /* Brand, words, tags and vector of each item. */
    float *tmean = rs_try_calloc(f, sizeof(float));
    float *own = rs_try_calloc(f, sizeof(float));
    if (!tmean || !own) {
        rs_free(tmean);
        rs_free(own);
        goto out;
    }
    for (uint32_t i = 0; i < n_items; i++) {
        uint32_t k = c->cat[i];
        double bcum[MAX_BRANDS];
        for (int b = 0; b < c->n_brands[k]; b++)
            bcum[b] = (b ? bcum[b - 1] : 0.0) + 1.0 / (b + 1);
        c->brand[i] = (uint8_t)draw_cumulative(&r, bcum, c->n_brands[k]);

        uint8_t *t = c->text + (size_t)i * 6;
        uint32_t pattern = rs_rng_below(&r, 4); /* 1: no modifier, 2: no adjective */
        t[0] = (uint8_t)rs_rng_below(&r, 6);
        t[1] = (uint8_t)rs_rng_below(&r, 6);
        t[2] = (uint8_t)rs_rng_below(&r, 8);
        if (pattern == 1)
            t[1] = NO_WORD;
        if (pattern == 2)
            t[0] = NO_WORD;
        uint32_t n_tags = 1 + rs_rng_below(&r, 3);
        uint32_t tags[N_TAGS];
        for (uint32_t j = 0; j < N_TAGS; j++)
            tags[j] = j;
        for (uint32_t j = 0; j < 3; j++) {
            /* Partial Fisher-Yates: distinct tags. */
            uint32_t pick = j + rs_rng_below(&r, N_TAGS - j);
            uint32_t tmp = tags[j];
            tags[j] = tags[pick];
            tags[pick] = tmp;
            t[3 + j] = j < n_tags ? (uint8_t)tags[j] : NO_WORD;
        }

        memset(tmean, 0, f * sizeof(float));
        for (uint32_t j = 0; j < n_tags; j++)
            for (uint32_t d = 0; d < f; d++)
                tmean[d] += T[((size_t)k * N_TAGS + tags[j]) * f + d] / (float)n_tags;
        random_unit(&r, own, f);
        float *v = c->V + (size_t)i * f;
        const float *cv = c->C + (size_t)k * f;
        const float *bv = B + ((size_t)k * MAX_BRANDS + c->brand[i]) * f;
        for (uint32_t d = 0; d < f; d++) {
            float a = MIX_CAT * cv[d];
            float b = MIX_BRAND * bv[d];
            float tt = MIX_TAGS * tmean[d];
            float o = MIX_OWN * own[d];
            v[d] = a + b + tt + o;
        }
        normalise(v, f);
    }
    rs_free(tmean);
    rs_free(own);

    /* Group the items by category (counting sort keeps ids ascending) and
     * build the popularity samplers. */
    for (uint32_t i = 0; i < n_items; i++)
        c->cat_start[c->cat[i] + 1]++;
    for (uint32_t k = 0; k < nc; k++)
        c->cat_start[k + 1] += c->cat_start[k];
    for (uint32_t k = nc; k < N_CATEGORIES; k++)
        c->cat_start[k + 1] = c->cat_start[k];
    uint32_t fill[N_CATEGORIES];
    memcpy(fill, c->cat_start, sizeof fill);
    for (uint32_t i = 0; i < n_items; i++)
        c->cat_items[fill[c->cat[i]]++] = i;
    /* The popularity in category order: wcat[j] is the weight of
     * cat_items[j]. */
    double *wcat = rs_try_calloc(n_items, sizeof(double));
    if (!wcat)
        goto out;
    e = RS_OK;
    for (uint32_t k = 0; k < nc; k++) {
        uint32_t lo = c->cat_start[k], hi = c->cat_start[k + 1];
        c->cat_mass[k] = 0.0;
        for (uint32_t j = lo; j < hi; j++) {
            wcat[j] = pop[c->cat_items[j]];
            c->cat_mass[k] += wcat[j];
        }
        if ((e = rs_alias_init(&c->by_cat[k], wcat + lo, hi - lo)))
            break;
    }
    rs_free(wcat);
    if (!e)
        e = rs_alias_init(&c->cats, c->cat_mass, nc);
out:
    rs_free(B);
    rs_free(T);
    rs_free(pop);
    rs_free(rank);
    if (e)
        catalogue_destroy(c);
    return e;
}

/* ---- Users ------------------------------------------------------------ */

/* One user's hidden profile, rebuilt from the user's own rng stream
 * whenever it is needed (nothing per user is kept in memory). */
typedef struct user {
    double activity;       /* lognormal weight of the user's share of events */
    uint32_t n_pref;       /* preferred categories, 1..3 */
    uint8_t pref[3];
    double pref_cum[3];    /* cumulative preference weights; pref_cum[n_pref-1] = 1 */
    float *u;              /* f taste dimensions; borrowed scratch */
} user;

/* An exponential variate with mean 1. */
static double expo(rs_rng *r)
{
    return -log1p(-rs_rng_uniform(r));
}

/* The stream for one purpose (0 profile, 1 events, 2 clock) of one user. */
static void user_stream(rs_rng *r, uint64_t seed, uint32_t index, unsigned what)
{
    rs_rng_init_stream(r, seed, (uint64_t)index * 4 + what);
}

/* The user's activity weight: the first draw of the profile stream, so the
 * counting pass can get it without building the whole profile. */
static double user_activity(uint64_t seed, uint32_t index)
{
    rs_rng r;
    user_stream(&r, seed, index, 0);
    return exp(ACTIVITY_SIGMA * rs_rng_normal(&r));
}

/* Builds the profile of user `index`: activity, 1-3 preferred categories
 * drawn by catalogue mass without replacement, with weights 0.2 + Exp(1)
 * normalised, and the taste vector u = sum_c w_c C_c + TASTE_OWN Z with
 * Z ~ N(0, I / f), so that u points towards the preferred categories and
 * has a personal part that ranks items within a category. */
static void user_make(const catalogue *c, uint64_t seed, uint32_t index, user *p)
{
    rs_rng r;
    user_stream(&r, seed, index, 0);
    p->activity = exp(ACTIVITY_SIGMA * rs_rng_normal(&r));
    double x = rs_rng_uniform(&r);
    uint32_t n = x < 0.35 ? 1 : x < 0.75 ? 2 : 3;
    if (n > c->n_cats)
        n = c->n_cats;
    uint8_t taken[N_CATEGORIES] = {0};
    double total = 0.0;
    for (uint32_t j = 0; j < n; j++) {
        double left = 0.0;
        uint32_t pick = N_CATEGORIES;
        for (uint32_t k = 0; k < c->n_cats; k++)
            if (!taken[k]) {
                left += c->cat_mass[k];
                pick = k; /* the last one open, should rounding run past */
            }
        double y = rs_rng_uniform(&r) * left;
        for (uint32_t k = 0; k < c->n_cats; k++) {
            if (taken[k])
                continue;
            if (y < c->cat_mass[k]) {
                pick = k;
                break;
            }
            y -= c->cat_mass[k];
        }
        taken[pick] = 1;
        p->pref[j] = (uint8_t)pick;
        total += 0.2 + expo(&r);
        p->pref_cum[j] = total;
    }
    p->n_pref = n;
    for (uint32_t j = 0; j < n; j++)
        p->pref_cum[j] /= total;
    p->pref_cum[n - 1] = 1.0;

    const uint32_t f = c->f;
    const float zscale = TASTE_OWN / sqrtf((float)f);
    for (uint32_t d = 0; d < f; d++)
        p->u[d] = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float wj = (float)(p->pref_cum[j] - (j ? p->pref_cum[j - 1] : 0.0));
        const float *cv = c->C + (size_t)p->pref[j] * f;
        for (uint32_t d = 0; d < f; d++) {
            float t = wj * cv[d];
            p->u[d] += t;
        }
    }
    for (uint32_t d = 0; d < f; d++) {
        float z = zscale * (float)rs_rng_normal(&r);
        p->u[d] += z;
    }
}

/* ---- Time ------------------------------------------------------------- */

/* A user's clock. Events come in sessions: each event after the first
 * starts a new session with chance SESSION_BREAK (gap ~ Exp(1) units),
 * otherwise it follows 10..299 s after the previous one. The session gaps
 * are scaled so that the events fill the user's active period [lo, hi)
 * inside the window. That needs the sum of all gaps before the first
 * timestamp, so clock_plan runs the gap stream once to add them up and
 * clock_next replays it: O(1) memory for any number of events. */
typedef struct user_clock {
    rs_rng r;          /* the gap stream being replayed */
    double t;          /* current event, in seconds since the window start */
    double unit;       /* seconds per unit of session gap */
    double in_scale;   /* factor on in-session gaps (1 unless the period is short) */
} user_clock;

/* One gap: session gaps in units (brk = 1), in-session gaps in seconds. */
static double clock_gap(rs_rng *r, int *brk)
{
    if (rs_rng_uniform(r) < SESSION_BREAK) {
        *brk = 1;
        return expo(r);
    }
    *brk = 0;
    return 10.0 + rs_rng_below(r, 290);
}

/* Prepares the clock of user `index` for n >= 1 events and sets the time
 * of the first. */
static void clock_plan(user_clock *k, uint64_t seed, uint32_t index, uint64_t n)
{
    rs_rng r;
    user_stream(&r, seed, index, 2);
    double a = rs_rng_uniform(&r) * WINDOW_SECONDS, b = rs_rng_uniform(&r) * WINDOW_SECONDS;
    double lo = a < b ? a : b, hi = a < b ? b : a;
    if (hi - lo < MIN_SPAN) {
        hi = lo + MIN_SPAN;
        if (hi > WINDOW_SECONDS) {
            hi = WINDOW_SECONDS;
            lo = WINDOW_SECONDS - MIN_SPAN;
        }
    }
    k->r = r; /* the replay starts here */
    double lead = expo(&r), units = 0.0, secs = 0.0;
    for (uint64_t i = 1; i < n; i++) {
        int brk;
        double g = clock_gap(&r, &brk);
        if (brk)
            units += g;
        else
            secs += g;
    }
    double trail = expo(&r);
    double span = hi - lo, avail = span - secs;
    k->in_scale = 1.0;
    if (avail < 0.0) {
        k->in_scale = span / secs;
        avail = 0.0;
    }
    double total_units = lead + units + trail;
    k->unit = total_units > 0.0 ? avail / total_units : 0.0;
    k->t = lo + expo(&k->r) * k->unit;
}

/* Advances to the next event's time. */
static void clock_next(user_clock *k)
{
    int brk;
    double g = clock_gap(&k->r, &brk);
    k->t += brk ? g * k->unit : g * k->in_scale;
}

/* The current time in epoch seconds, inside the window. */
static int64_t clock_now(const user_clock *k)
{
    int64_t t = WINDOW_END - (int64_t)WINDOW_SECONDS + (int64_t)floor(k->t);
    return t < WINDOW_END ? t : WINDOW_END - 1;
}

/* ---- Events ----------------------------------------------------------- */

/* Draws an index from weights w[0..n) summing to total, skipping zeros. */
static int draw_weighted(rs_rng *r, const double *w, int n, double total)
{
    double x = rs_rng_uniform(r) * total;
    int last = 0;
    for (int k = 0; k < n; k++) {
        if (w[k] <= 0.0)
            continue;
        last = k;
        if (x < w[k])
            return k;
        x -= w[k];
    }
    return last;
}

/* Picks the item of one event and returns it, with the affinity u.v in
 * *aff. The category comes from the user's preferences (or, with chance
 * EXPLORE, from the whole shop by mass); then CANDIDATES items are drawn
 * from the category by popularity and one is chosen with probability
 * proportional to exp(BETA u.v). Because the candidates already follow
 * popularity, this is sampling-importance-resampling of
 * pop(i) exp(BETA u.v_i): adding log-popularity to the score as well
 * would count popularity twice. (It is the same law as Gumbel-max over
 * BETA u.v, with CANDIDATES exps instead of 2 x CANDIDATES logs.)
 * A winner the user has seen (seen[item] == mark) is passed over with
 * chance AVOID_REPEAT, so repeats stay rare. Work: O(CANDIDATES x f). */
static uint32_t pick_item(const catalogue *c, const user *p, rs_rng *r, const uint32_t *seen,
                          uint32_t mark, float *aff)
{
    uint32_t k;
    double x = rs_rng_uniform(r);
    if (x < EXPLORE) {
        k = rs_alias_sample(&c->cats, r);
    } else {
        x = (x - EXPLORE) / (1.0 - EXPLORE);
        uint32_t j = 0;
        while (j + 1 < p->n_pref && x >= p->pref_cum[j])
            j++;
        k = p->pref[j];
    }
    const uint32_t *items = c->cat_items + c->cat_start[k];
    uint32_t cand[CANDIDATES];
    float a[CANDIDATES];
    double w[CANDIDATES], total = 0.0;
    for (int i = 0; i < CANDIDATES; i++) {
        cand[i] = items[rs_alias_sample(&c->by_cat[k], r)];
        a[i] = dot(p->u, c->V + (size_t)cand[i] * c->f, c->f);
        w[i] = exp(BETA * a[i]);
        total += w[i];
    }
    int left = CANDIDATES;
    for (;;) {
        int i = draw_weighted(r, w, CANDIDATES, total);
        if (seen[cand[i]] != mark || left == 1 || rs_rng_uniform(r) >= AVOID_REPEAT) {
            *aff = a[i];
            return cand[i];
        }
        /* Pass over this one and draw again among the rest. */
        w[i] = 0.0;
        left--;
        total = 0.0;
        for (int j = 0; j < CANDIDATES; j++)
            total += w[j];
    }
}

/* The event type: mostly views, then clicks; likes and purchases grow
 * with the affinity (times e^{2(a - 0.5)}), so they carry extra signal. */
static int pick_type(rs_rng *r, float aff)
{
    double boost = exp(2.0 * (aff - 0.5));
    double w[T__N] = {0.62, 0.18, 0.07 * boost, 0.05 * boost, 0.08};
    double total = w[0] + w[1] + w[2] + w[3] + w[4];
    return draw_weighted(r, w, T__N, total);
}

/* Stars 1..5 for a rating event: a noisy, rounded linear function of the
 * affinity. */
static int rating_stars(rs_rng *r, float aff)
{
    double s = floor(RATING_BASE + RATING_SLOPE * aff + RATING_NOISE * rs_rng_normal(r) + 0.5);
    return s < 1.0 ? 1 : s > 5.0 ? 5 : (int)s;
}

/* ---- Output ----------------------------------------------------------- */

/* A file written under a temporary name in the target folder and renamed
 * into place by writer_commit. Output goes through our own 1 MiB buffer
 * in whole blocks (stdio only passes them on), so a line costs a few
 * stores and no stdio call. The first OS error is kept in err and later
 * writes are skipped; writer_close reports it. */
typedef struct writer {
    FILE *f;
    char *path;   /* final path; owned */
    char *tmp;    /* temporary path, NULL once renamed; owned */
    char *buf;    /* WRITE_BUF bytes; owned */
    size_t len;
    int err;      /* errno of the first failure, 0 if none */
} writer;

/* "dir/name" or, with tmp, "dir/.name.PID.tmp" (hidden, and distinct for
 * concurrent processes). The result is owned by the caller. */
static char *join_path(const char *dir, const char *name, int tmp)
{
    size_t size = strlen(dir) + strlen(name) + 48;
    char *p = rs_xmalloc(size);
    if (tmp)
        snprintf(p, size, "%s/.%s.%ld.tmp", dir, name, (long)getpid());
    else
        snprintf(p, size, "%s/%s", dir, name);
    return p;
}

/* Frees the writer; removes the temporary file unless it was committed. */
static void writer_discard(writer *w)
{
    if (w->f)
        fclose(w->f);
    if (w->tmp)
        remove(w->tmp);
    rs_free(w->path);
    rs_free(w->tmp);
    rs_free(w->buf);
    memset(w, 0, sizeof *w);
}

/* Creates dir/.name.PID.tmp. Errors: RS_EIO naming dir/name. */
static rs_err writer_open(writer *w, const char *dir, const char *name, rs_diag *diag)
{
    memset(w, 0, sizeof *w);
    w->path = join_path(dir, name, 0);
    w->tmp = join_path(dir, name, 1);
    w->buf = rs_xmalloc(WRITE_BUF);
    w->f = fopen(w->tmp, "wb");
    if (!w->f) {
        rs_err e = rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", w->path, strerror(errno));
        rs_free(w->tmp); /* never created: nothing to remove */
        w->tmp = NULL;
        writer_discard(w);
        return e;
    }
    return RS_OK;
}

static void writer_flush(writer *w)
{
    if (w->len && !w->err && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->err = errno ? errno : EIO;
    w->len = 0;
}

/* Room for n <= WRITE_BUF bytes at the end of the buffer. */
static char *writer_reserve(writer *w, size_t n)
{
    if (w->len + n > WRITE_BUF)
        writer_flush(w);
    return w->buf + w->len;
}

static void writer_put(writer *w, const char *s, size_t n)
{
    memcpy(writer_reserve(w, n), s, n);
    w->len += n;
}

/* Flushes and closes the temporary file. Errors: RS_EIO with the reason. */
static rs_err writer_close(writer *w, rs_diag *diag)
{
    writer_flush(w);
    if (fclose(w->f) != 0 && !w->err)
        w->err = errno ? errno : EIO;
    w->f = NULL;
    if (w->err)
        return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", w->path, strerror(w->err));
    return RS_OK;
}

/* Renames the closed temporary file over the final path. */
static rs_err writer_commit(writer *w, rs_diag *diag)
{
    if (rename(w->tmp, w->path) != 0)
        return rs_diag_fail(diag, RS_EIO, "cannot write %s: %s", w->path, strerror(errno));
    rs_free(w->tmp);
    w->tmp = NULL;
    return RS_OK;
}

/* Writes v in decimal at p and returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Writes one CSV field, quoted per RFC 4180 only when it holds a comma,
 * a quote or a line break. Our word lists need none, but brand and title
 * text must stay valid CSV whatever the lists become. */
static void put_field(writer *w, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"\r\n")) {
        writer_put(w, s, n);
        return;
    }
    writer_put(w, "\"", 1);
    for (const char *q = s; *q; q++) {
        if (*q == '"')
            writer_put(w, "\"", 1);
        writer_put(w, q, 1);
    }
    writer_put(w, "\"", 1);
}

/* Appends s and a separator to a bounded text buffer. */
static void append(char *dst, size_t cap, const char *s, const char *sep)
{
    size_t len = strlen(dst);
    snprintf(dst + len, cap - len, "%s%s", len ? sep : "", s);
}

/* items.csv: one line per item, "i1".."iM" in order. */
static void write_items(const catalogue *c, writer *w)
{
    static const char header[] = "item_id,title,category,brand,tags\n";
    writer_put(w, header, sizeof header - 1);
    for (uint32_t i = 0; i < c->n_items; i++) {
        const category_words *cw = &words[c->cat[i]];
        const uint8_t *t = c->text + (size_t)i * 6;
        char title[128] = "", tags[128] = "";
        if (t[0] != NO_WORD)
            append(title, sizeof title, cw->adj[t[0]], " ");
        if (t[1] != NO_WORD)
            append(title, sizeof title, cw->mod[t[1]], " ");
        append(title, sizeof title, cw->noun[t[2]], " ");
        for (int j = 3; j < 6; j++)
            if (t[j] != NO_WORD)
                append(tags, sizeof tags, cw->tag[t[j]], "|");

        char *p = writer_reserve(w, 16);
        *p++ = 'i';
        p = put_u64(p, (uint64_t)i + 1);
        *p++ = ',';
        w->len = (size_t)(p - w->buf);
        put_field(w, title);
        writer_put(w, ",", 1);
        put_field(w, cw->name);
        writer_put(w, ",", 1);
        put_field(w, c->brand_names[c->cat[i]][c->brand[i]]);
        writer_put(w, ",", 1);
        put_field(w, tags);
        writer_put(w, "\n", 1);
    }
}

/* Progress reporting every ~1% of the events. */
typedef struct progress {
    const rs_gen_opts *o;
    uint64_t step, next;
} progress;

/* events.csv, grouped by user (u1 first), each user's events in time
 * order. Grouping is what lets the generator stream with O(1) memory per
 * user, and it is the order the CSR builder consumes; a time-interleaved
 * file would need all events in memory and a sort.
 *
 * Counts: with R = events - users (or events when there are fewer events
 * than users, and no floor of 1), user u gets floor(R S_u / S) -
 * floor(R S_{u-1} / S) on top of the floor, where S_u is the running sum
 * of the lognormal activities: the counts are heavy-tailed and add up to
 * exactly `events` without storing any of them. */
static void write_events(const catalogue *c, const rs_gen_opts *o, writer *w, uint32_t *seen,
                         float *u, rs_gen_report *rep)
{
    static const char header[] = "user_id,item_id,value,timestamp,type\n";
    writer_put(w, header, sizeof header - 1);
    size_t type_len[T__N];
    for (int t = 0; t < T__N; t++)
        type_len[t] = strlen(type_names[t]);

    double s_total = 0.0;
    for (uint32_t i = 0; i < o->users; i++)
        s_total += user_activity(o->seed, i);
    const uint64_t base = o->events >= o->users ? 1 : 0;
    const uint64_t rest = o->events - base * o->users;
    progress pr = {o, o->events / 100 ? o->events / 100 : 1, 0};
    pr.next = pr.step;
    uint64_t written = 0, reported = 0, floor_prev = 0;
    double s_run = 0.0;
    user p = {.u = u};

    for (uint32_t i = 0; i < o->users && !w->err; i++) {
        s_run += user_activity(o->seed, i);
        uint64_t fl = rest;
        if (i + 1 < o->users) {
            double x = floor((double)rest * (s_run / s_total));
            fl = x < (double)rest ? (uint64_t)x : rest;
            if (fl < floor_prev)
                fl = floor_prev;
        }
        uint64_t n = base + (fl - floor_prev);
        floor_prev = fl;
        if (n == 0)
            continue;
        rep->users_with_events++;
        user_make(c, o->seed, i, &p);
        rs_rng r;
        user_stream(&r, o->seed, i, 1);
        user_clock clk;
        clock_plan(&clk, o->seed, i, n);
        const uint32_t mark = i + 1;

        for (uint64_t e = 0; e < n; e++) {
            if (e)
                clock_next(&clk);
            float aff;
            uint32_t item = pick_item(c, &p, &r, seen, mark, &aff);
            seen[item] = mark;
            int type = pick_type(&r, aff);
            int value = type == T_RATING ? rating_stars(&r, aff) : 1;

            /* u<id>,i<id>,<value>,<ts>,<type>\n: at most 80 bytes. */
            char *q = writer_reserve(w, 96);
            *q++ = 'u';
            q = put_u64(q, (uint64_t)i + 1);
            *q++ = ',';
            *q++ = 'i';
            q = put_u64(q, (uint64_t)item + 1);
            *q++ = ',';
            *q++ = (char)('0' + value);
            *q++ = ',';
            q = put_u64(q, (uint64_t)clock_now(&clk));
            *q++ = ',';
            memcpy(q, type_names[type], type_len[type]);
            q += type_len[type];
            *q++ = '\n';
            w->len = (size_t)(q - w->buf);

            if (++written >= pr.next && o->progress) {
                o->progress(o->progress_ctx, written, o->events);
                reported = written;
                pr.next += pr.step;
            }
        }
    }
    if (o->progress && reported != written && !w->err)
        o->progress(o->progress_ctx, written, o->events);
    rep->events_written = written;
}

rs_err rs_generate(const char *dir, const rs_gen_opts *opts, rs_gen_report *report, rs_diag *diag)
{
    rs_gen_report rep = {0};
    if (report)
        *report = rep;
    if (!dir || !opts)
        return rs_diag_fail(diag, RS_EINVAL, "no folder or options given");
    if (opts->users == 0)
        return rs_diag_fail(diag, RS_EINVAL, "users must be at least 1");
    if (opts->items == 0)
        return rs_diag_fail(diag, RS_EINVAL, "items must be at least 1");
    if (opts->events == 0)
        return rs_diag_fail(diag, RS_EINVAL, "events must be at least 1");
    const uint32_t f = opts->factors ? opts->factors : 8;

    catalogue c;
    rs_err e = catalogue_build(&c, opts->items, f, opts->seed);
    if (e)
        return rs_diag_fail(diag, e, "cannot build a catalogue of %u items with %u factors",
                            opts->items, f);
    /* seen[i] == user index + 1 when that user already has item i. */
    uint32_t *seen = rs_try_calloc(opts->items, sizeof *seen);
    float *u = rs_try_calloc(f, sizeof *u);
    writer items = {0}, events = {0};
    if (!seen || !u) {
        e = rs_diag_fail(diag, RS_ENOMEM, "cannot allocate the generator's state");
        goto out;
    }

    if ((e = writer_open(&items, dir, "items.csv", diag)))
        goto out;
    write_items(&c, &items);
    if ((e = writer_close(&items, diag)))
        goto out;
    rep.items_written = c.n_items;
    rep.categories = c.n_cats;

    if ((e = writer_open(&events, dir, "events.csv", diag)))
        goto out;
    write_events(&c, opts, &events, seen, u, &rep);
    if ((e = writer_close(&events, diag)))
        goto out;
    /* Both files are complete before either is renamed. A failure of the
     * second rename (same folder, so rare) would pair the new events with
     * the old items; both temporary files are removed either way. */
    if ((e = writer_commit(&events, diag)) || (e = writer_commit(&items, diag)))
        goto out;
    if (report)
        *report = rep;
out:
    writer_discard(&items);
    writer_discard(&events);
    rs_free(seen);
    rs_free(u);
    catalogue_destroy(&c);
    return e;
}
