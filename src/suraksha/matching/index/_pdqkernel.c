/*
 * Hot loops of the PDQ multi-index-hashing index (see pdq.py for the design).
 *
 * Only the plain CPython API and the buffer protocol are used (no numpy headers), so the module
 * builds with nothing but a C compiler and the Python headers. Every function has a numpy
 * twin in pdq.py that gives identical results; this file only makes them fast.
 *
 * A hash is 32 bytes, read as four little-endian uint64 words; bit b of the hash is bit (b & 63)
 * of word (b >> 6). A chunk is `width` (<= 32) consecutive bits starting at bit `bitoff`.
 * A segment's table for chunk j: offsets[base_j + v] .. offsets[base_j + v + 1] is the range of
 * entries (positions into the segment, `pos_bytes` little-endian bytes each, table j's entries
 * start at j * n) whose chunk j equals v.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

/* popcnt is in every x86-64 CPU since 2008 but not in the x86-64 baseline the compiler targets;
 * enable it here and refuse to import (-> numpy fallback) on a CPU without it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__)
#pragma GCC target("popcnt")
#define SURAKSHA_CHECK_POPCNT 1
#endif

#define MAXCHUNKS 64

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* little-endian hosts only; checked at import */
}

static inline uint32_t chunk_value(const uint64_t w[4], int bitoff, int width) {
    int idx = bitoff >> 6, sh = bitoff & 63;
    uint64_t v = w[idx] >> sh;
    if (sh + width > 64) v |= w[idx + 1] << (64 - sh);
    return (uint32_t)(v & ((width == 32) ? 0xFFFFFFFFull : ((1ull << width) - 1)));
}

static inline uint32_t read_pos(const uint8_t *p, int64_t k, int pos_bytes) {
    if (pos_bytes == 4) {
        uint32_t v;
        memcpy(&v, p + 4 * k, 4);
        return v;
    }
    const uint8_t *q = p + 3 * k;
    return (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16);
}

static inline int dist256(const uint8_t *h, const uint64_t q[4]) {
    return __builtin_popcountll(load64(h) ^ q[0]) + __builtin_popcountll(load64(h + 8) ^ q[1]) +
           __builtin_popcountll(load64(h + 16) ^ q[2]) + __builtin_popcountll(load64(h + 24) ^ q[3]);
}

/* ---- growable result list of (pos, dist) ---- */
typedef struct {
    int64_t *pos;
    int32_t *dist;
    Py_ssize_t n, cap;
    int oom;
} results_t;

static void res_push(results_t *r, int64_t pos, int dist) {
    if (r->oom) return;
    if (r->n == r->cap) {
        Py_ssize_t cap = r->cap ? r->cap * 2 : 64;
        int64_t *p = realloc(r->pos, cap * sizeof(int64_t));
        if (!p) { r->oom = 1; return; }
        r->pos = p;
        int32_t *d = realloc(r->dist, cap * sizeof(int32_t));
        if (!d) { r->oom = 1; return; }
        r->dist = d;
        r->cap = cap;
    }
    r->pos[r->n] = pos;
    r->dist[r->n] = dist;
    r->n++;
}

static PyObject *res_to_list(results_t *r) {
    if (r->oom) {
        free(r->pos); free(r->dist);
        return PyErr_NoMemory();
    }
    PyObject *list = PyList_New(r->n);
    if (!list) goto done;
    for (Py_ssize_t i = 0; i < r->n; i++) {
        PyObject *t = Py_BuildValue("(Li)", (long long)r->pos[i], (int)r->dist[i]);
        if (!t) { Py_CLEAR(list); goto done; }
        PyList_SET_ITEM(list, i, t);
    }
done:
    free(r->pos); free(r->dist);
    return list;
}

/* ---- query context ---- */
typedef struct {
    const uint8_t *hashes, *alive, *pos_tab;
    const uint32_t *offsets;
    int64_t n;
    int m, pos_bytes, threshold;
    const int32_t *bitoff, *width, *radius;
    const int64_t *base;
    uint64_t q[4];
    uint32_t qchunk[MAXCHUNKS];
    results_t res;
    int corrupt; /* an offset or position outside the segment: the persisted form was damaged */
    int64_t max_cand; /* < 0: no limit; else give up (over = 1) once the buckets hold more */
    int over;         /* the probed buckets hold more than max_cand entries: the caller scans */
} ctx_t;

/* A candidate within the threshold found through table j is reported only if no earlier probed
 * table would also have found it: each match is reported once, without a hash set. */
static inline int first_table(const ctx_t *c, const uint8_t *h, int j) {
    uint64_t w[4];
    w[0] = load64(h); w[1] = load64(h + 8); w[2] = load64(h + 16); w[3] = load64(h + 24);
    for (int i = 0; i < j; i++) {
        if (c->radius[i] < 0) continue;
        uint32_t v = chunk_value(w, c->bitoff[i], c->width[i]);
        if (__builtin_popcount(v ^ c->qchunk[i]) <= c->radius[i]) return 0;
    }
    return 1;
}

/* ---- growable arrays for the pipelined query ---- */
typedef struct {
    uint32_t *val;  /* probe value, later reused as bucket start */
    uint32_t *end;  /* bucket end */
    uint8_t *tab;   /* chunk table index */
    size_t n, cap;
    int oom;
} probes_t;

static void probes_push(probes_t *p, uint32_t v, uint8_t j) {
    if (p->oom) return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        uint32_t *a = realloc(p->val, cap * sizeof(uint32_t));
        if (!a) { p->oom = 1; return; }
        p->val = a;
        uint32_t *e = realloc(p->end, cap * sizeof(uint32_t));
        if (!e) { p->oom = 1; return; }
        p->end = e;
        uint8_t *t = realloc(p->tab, cap);
        if (!t) { p->oom = 1; return; }
        p->tab = t;
        p->cap = cap;
    }
    p->val[p->n] = v;
    p->tab[p->n] = j;
    p->n++;
}

/* every value within `left` more flipped bits of v, flipping only bits >= start */
static void enumerate(probes_t *p, int j, int width, uint32_t v, int start, int left) {
    probes_push(p, v, (uint8_t)j);
    if (left == 0) return;
    for (int b = start; b < width; b++) enumerate(p, j, width, v ^ (1u << b), b + 1, left - 1);
}

/* The query runs in passes so that the random reads of each pass overlap (software prefetch a
 * fixed distance ahead) instead of waiting on one cache miss at a time:
 *   1. enumerate probe values; 2. read each bucket's bounds; 3. gather candidate positions;
 *   4. verify candidates against the stored hashes. */
static void run_query(ctx_t *c) {
    const int PF = 16;
    probes_t p;
    memset(&p, 0, sizeof p);
    for (int j = 0; j < c->m; j++)
        if (c->radius[j] >= 0) enumerate(&p, j, c->width[j], c->qchunk[j], 0, c->radius[j]);
    if (p.oom) { c->res.oom = 1; goto done; }
    /* 2: bucket bounds */
    size_t ncand = 0;
    for (size_t k = 0; k < p.n; k++) {
        if (k + PF < p.n) __builtin_prefetch(c->offsets + c->base[p.tab[k + PF]] + p.val[k + PF]);
        const uint32_t *off = c->offsets + c->base[p.tab[k]] + p.val[k];
        uint32_t lo = off[0], hi = off[1];
        if (hi < lo || (int64_t)hi > c->n) { lo = hi = 0; c->corrupt = 1; } /* never read outside */
        p.val[k] = lo;
        p.end[k] = hi;
        ncand += hi - lo;
        /* the real bucket occupancy, known before any candidate is read: overfull -> scan */
        if (c->max_cand >= 0 && (int64_t)ncand > c->max_cand) { c->over = 1; goto done; }
    }
    uint32_t *cand = malloc((ncand ? ncand : 1) * sizeof(uint32_t));
    uint8_t *ctab = malloc(ncand ? ncand : 1);
    if (!cand || !ctab) { free(cand); free(ctab); c->res.oom = 1; goto done; }
    /* 3: gather positions */
    size_t nc = 0;
    const size_t tabstride = (size_t)c->n * (size_t)c->pos_bytes;
    for (size_t k = 0; k < p.n; k++) {
        if (k + PF < p.n)
            __builtin_prefetch(c->pos_tab + p.tab[k + PF] * tabstride + (size_t)p.val[k + PF] * c->pos_bytes);
        const uint8_t *tab = c->pos_tab + p.tab[k] * tabstride;
        for (uint32_t e = p.val[k]; e < p.end[k]; e++) {
            cand[nc] = read_pos(tab, e, c->pos_bytes);
            ctab[nc] = p.tab[k];
            nc++;
        }
    }
    /* 4: verify */
    for (size_t k = 0; k < nc; k++) {
        if (k + PF < nc) __builtin_prefetch(c->hashes + (size_t)cand[k + PF] * 32);
        uint32_t pos = cand[k];
        if ((int64_t)pos >= c->n) { c->corrupt = 1; continue; }
        const uint8_t *h = c->hashes + (size_t)pos * 32;
        int d = dist256(h, c->q);
        if (d > c->threshold) continue;
        if (c->alive && !c->alive[pos]) continue;
        if (!first_table(c, h, ctab[k])) continue;
        res_push(&c->res, pos, d);
    }
    free(cand);
    free(ctab);
done:
    free(p.val);
    free(p.end);
    free(p.tab);
}

static int get_buf(PyObject *obj, Py_buffer *view, Py_ssize_t min_len, const char *what, int writable) {
    if (PyObject_GetBuffer(obj, view, writable ? (PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) : PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->len < min_len) {
        PyErr_Format(PyExc_ValueError, "%s buffer too short (%zd < %zd bytes)", what, view->len, min_len);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* mih_query(hashes, alive|None, n, bitoff, width, radius, base, offsets, pos, pos_bytes, q, threshold
 *           [, max_cand])
 *   -> [(pos, dist), ...] (unsorted), or None when the probed buckets hold more than max_cand
 *      entries (checked as the bucket bounds are read, before any candidate): scan instead. */
static PyObject *mih_query(PyObject *self, PyObject *args) {
    PyObject *o_h, *o_a, *o_bo, *o_w, *o_r, *o_b, *o_off, *o_pos, *o_q;
    long long n, max_cand = -1;
    int pos_bytes, threshold;
    if (!PyArg_ParseTuple(args, "OOLOOOOOOiOi|L", &o_h, &o_a, &n, &o_bo, &o_w, &o_r, &o_b, &o_off, &o_pos,
                          &pos_bytes, &o_q, &threshold, &max_cand))
        return NULL;
    Py_buffer bh = {0}, ba = {0}, bbo = {0}, bw = {0}, br = {0}, bb = {0}, boff = {0}, bpos = {0}, bq = {0};
    PyObject *out = NULL;
    int have_alive = (o_a != Py_None);
    if (get_buf(o_h, &bh, n * 32, "hashes", 0) < 0) return NULL;
    if (have_alive && get_buf(o_a, &ba, n, "alive", 0) < 0) goto end;
    if (get_buf(o_bo, &bbo, 0, "bitoff", 0) < 0) goto end;
    Py_ssize_t m = bbo.len / 4;
    if (m > MAXCHUNKS) { PyErr_SetString(PyExc_ValueError, "too many chunks"); goto end; }
    if (get_buf(o_w, &bw, m * 4, "width", 0) < 0) goto end;
    if (get_buf(o_r, &br, m * 4, "radius", 0) < 0) goto end;
    if (get_buf(o_b, &bb, m * 8, "base", 0) < 0) goto end;
    if (get_buf(o_off, &boff, 0, "offsets", 0) < 0) goto end;
    if (get_buf(o_pos, &bpos, m * n * pos_bytes, "positions", 0) < 0) goto end;
    if (get_buf(o_q, &bq, 32, "query", 0) < 0) goto end;
    if (pos_bytes != 3 && pos_bytes != 4) { PyErr_SetString(PyExc_ValueError, "pos_bytes must be 3 or 4"); goto end; }
    {
        ctx_t c;
        memset(&c, 0, sizeof c);
        c.hashes = bh.buf; c.alive = have_alive ? ba.buf : NULL; c.pos_tab = bpos.buf;
        c.offsets = boff.buf; c.n = n; c.m = (int)m; c.pos_bytes = pos_bytes; c.threshold = threshold;
        c.bitoff = bbo.buf; c.width = bw.buf; c.radius = br.buf; c.base = bb.buf;
        c.max_cand = max_cand;
        for (int i = 0; i < 4; i++) c.q[i] = load64((const uint8_t *)bq.buf + 8 * i);
        for (int j = 0; j < m; j++) {
            if (c.width[j] < 1 || c.width[j] > 32 || c.bitoff[j] < 0 || c.bitoff[j] + c.width[j] > 256) {
                PyErr_SetString(PyExc_ValueError, "bad chunk layout");
                goto end;
            }
            /* the last offset of each table must lie inside the offsets buffer */
            if ((c.base[j] + ((int64_t)1 << c.width[j]) + 1) * 4 > boff.len) {
                PyErr_SetString(PyExc_ValueError, "offsets buffer too short");
                goto end;
            }
            c.qchunk[j] = chunk_value(c.q, c.bitoff[j], c.width[j]);
        }
        if (n > 0) {
            Py_BEGIN_ALLOW_THREADS
            run_query(&c);
            Py_END_ALLOW_THREADS
        }
        if (c.corrupt) {
            free(c.res.pos); free(c.res.dist);
            PyErr_SetString(PyExc_ValueError, "PDQ index segment is corrupt: an offset or position is out of range");
            goto end;
        }
        if (c.over) {
            free(c.res.pos); free(c.res.dist);
            Py_INCREF(Py_None);
            out = Py_None;
            goto end;
        }
        out = res_to_list(&c.res);
    }
end:
    if (bh.obj) PyBuffer_Release(&bh);
    if (ba.obj) PyBuffer_Release(&ba);
    if (bbo.obj) PyBuffer_Release(&bbo);
    if (bw.obj) PyBuffer_Release(&bw);
    if (br.obj) PyBuffer_Release(&br);
    if (bb.obj) PyBuffer_Release(&bb);
    if (boff.obj) PyBuffer_Release(&boff);
    if (bpos.obj) PyBuffer_Release(&bpos);
    if (bq.obj) PyBuffer_Release(&bq);
    return out;
}

/* brute(hashes, alive|None, n, q, threshold) -> [(pos, dist), ...] in position order */
static PyObject *brute(PyObject *self, PyObject *args) {
    PyObject *o_h, *o_a, *o_q;
    long long n;
    int threshold;
    if (!PyArg_ParseTuple(args, "OOLOi", &o_h, &o_a, &n, &o_q, &threshold)) return NULL;
    Py_buffer bh = {0}, ba = {0}, bq = {0};
    PyObject *out = NULL;
    int have_alive = (o_a != Py_None);
    if (get_buf(o_h, &bh, n * 32, "hashes", 0) < 0) return NULL;
    if (have_alive && get_buf(o_a, &ba, n, "alive", 0) < 0) goto end;
    if (get_buf(o_q, &bq, 32, "query", 0) < 0) goto end;
    {
        results_t r;
        memset(&r, 0, sizeof r);
        uint64_t q[4];
        for (int i = 0; i < 4; i++) q[i] = load64((const uint8_t *)bq.buf + 8 * i);
        const uint8_t *h = bh.buf, *alive = have_alive ? ba.buf : NULL;
        Py_BEGIN_ALLOW_THREADS
        for (int64_t i = 0; i < n; i++) {
            int d = dist256(h + (size_t)i * 32, q);
            if (d <= threshold && (!alive || alive[i])) res_push(&r, i, d);
        }
        Py_END_ALLOW_THREADS
        out = res_to_list(&r);
    }
end:
    if (bh.obj) PyBuffer_Release(&bh);
    if (ba.obj) PyBuffer_Release(&ba);
    if (bq.obj) PyBuffer_Release(&bq);
    return out;
}

/* brute_many(hashes, alive|None, n, queries, k, threshold) -> [[(pos, dist), ...] per query]
 * A linear scan for k queries at once, blocked so that each block of stored hashes is read from
 * memory once and compared with every query while it sits in cache (one query at a time is bound
 * by memory bandwidth; a block of queries by popcount). */
static PyObject *brute_many(PyObject *self, PyObject *args) {
    PyObject *o_h, *o_a, *o_q;
    long long n, k;
    int threshold;
    if (!PyArg_ParseTuple(args, "OOLOLi", &o_h, &o_a, &n, &o_q, &k, &threshold)) return NULL;
    if (n < 0 || k < 0) { PyErr_SetString(PyExc_ValueError, "negative size"); return NULL; }
    Py_buffer bh = {0}, ba = {0}, bq = {0};
    PyObject *out = NULL;
    int have_alive = (o_a != Py_None);
    if (get_buf(o_h, &bh, n * 32, "hashes", 0) < 0) return NULL;
    if (have_alive && get_buf(o_a, &ba, n, "alive", 0) < 0) goto end;
    if (get_buf(o_q, &bq, k * 32, "queries", 0) < 0) goto end;
    {
        results_t *r = calloc((size_t)(k ? k : 1), sizeof(results_t));
        uint64_t *q = malloc((size_t)(k ? k : 1) * 4 * sizeof(uint64_t));
        if (!r || !q) { free(r); free(q); PyErr_NoMemory(); goto end; }
        for (int64_t i = 0; i < 4 * k; i++) q[i] = load64((const uint8_t *)bq.buf + 8 * i);
        const uint8_t *h = bh.buf, *alive = have_alive ? ba.buf : NULL;
        const int64_t B = 2048; /* 64 KiB of hashes: stays in L2 while every query passes over it */
        Py_BEGIN_ALLOW_THREADS
        for (int64_t s = 0; s < n; s += B) {
            int64_t e = s + B < n ? s + B : n;
            for (int64_t j = 0; j < k; j++) {
                const uint64_t *qj = q + 4 * j;
                for (int64_t i = s; i < e; i++) {
                    int d = dist256(h + (size_t)i * 32, qj);
                    if (d <= threshold && (!alive || alive[i])) res_push(&r[j], i, d);
                }
            }
        }
        Py_END_ALLOW_THREADS
        free(q);
        out = PyList_New(k);
        for (int64_t j = 0; j < k; j++) {
            PyObject *lst = res_to_list(&r[j]); /* frees r[j]'s arrays, even on failure */
            if (out && lst) PyList_SET_ITEM(out, j, lst);
            else { Py_XDECREF(lst); Py_CLEAR(out); }
        }
        free(r);
    }
end:
    if (bh.obj) PyBuffer_Release(&bh);
    if (ba.obj) PyBuffer_Release(&ba);
    if (bq.obj) PyBuffer_Release(&bq);
    return out;
}

/* build(hashes, n, bitoff, width, base, offsets_out, pos_out, pos_bytes): counting sort per chunk;
 * within a bucket entries stay in position order (stable), like the numpy twin. */
static PyObject *build(PyObject *self, PyObject *args) {
    PyObject *o_h, *o_bo, *o_w, *o_b, *o_off, *o_pos;
    long long n;
    int pos_bytes;
    if (!PyArg_ParseTuple(args, "OLOOOOOi", &o_h, &n, &o_bo, &o_w, &o_b, &o_off, &o_pos, &pos_bytes)) return NULL;
    Py_buffer bh = {0}, bbo = {0}, bw = {0}, bb = {0}, boff = {0}, bpos = {0};
    PyObject *out = NULL;
    if (get_buf(o_h, &bh, n * 32, "hashes", 0) < 0) return NULL;
    if (get_buf(o_bo, &bbo, 0, "bitoff", 0) < 0) goto end;
    Py_ssize_t m = bbo.len / 4;
    if (get_buf(o_w, &bw, m * 4, "width", 0) < 0) goto end;
    if (get_buf(o_b, &bb, m * 8, "base", 0) < 0) goto end;
    if (get_buf(o_off, &boff, 0, "offsets", 1) < 0) goto end;
    if (get_buf(o_pos, &bpos, m * n * pos_bytes, "positions", 1) < 0) goto end;
    if (pos_bytes != 3 && pos_bytes != 4) { PyErr_SetString(PyExc_ValueError, "pos_bytes must be 3 or 4"); goto end; }
    if (pos_bytes == 3 && n > (1 << 24)) { PyErr_SetString(PyExc_ValueError, "too many entries for 3-byte positions"); goto end; }
    {
        const int32_t *bitoff = bbo.buf, *width = bw.buf;
        const int64_t *base = bb.buf;
        for (int j = 0; j < m; j++) {
            if (width[j] < 1 || width[j] > 32 || bitoff[j] < 0 || bitoff[j] + width[j] > 256 ||
                (base[j] + ((int64_t)1 << width[j]) + 1) * 4 > boff.len) {
                PyErr_SetString(PyExc_ValueError, "bad chunk layout");
                goto end;
            }
        }
        int fail = 0;
        Py_BEGIN_ALLOW_THREADS
        uint32_t *vals = malloc((size_t)(n ? n : 1) * sizeof(uint32_t));
        if (!vals) fail = 1;
        for (int j = 0; j < m && !fail; j++) {
            uint32_t *off = (uint32_t *)boff.buf + base[j];
            uint8_t *tab = (uint8_t *)bpos.buf + (size_t)j * (size_t)n * (size_t)pos_bytes;
            size_t nb = (size_t)1 << width[j];
            memset(off, 0, (nb + 1) * sizeof(uint32_t));
            for (int64_t i = 0; i < n; i++) {
                const uint8_t *h = (const uint8_t *)bh.buf + (size_t)i * 32;
                uint64_t w[4] = {load64(h), load64(h + 8), load64(h + 16), load64(h + 24)};
                vals[i] = chunk_value(w, bitoff[j], width[j]);
                off[vals[i] + 1]++;
            }
            for (size_t v = 0; v < nb; v++) off[v + 1] += off[v];
            /* fill using off[v] as a cursor, then shift back */
            for (int64_t i = 0; i < n; i++) {
                uint32_t k = off[vals[i]]++;
                uint8_t *d = tab + (size_t)k * pos_bytes;
                uint32_t p = (uint32_t)i;
                d[0] = p & 0xFF; d[1] = (p >> 8) & 0xFF; d[2] = (p >> 16) & 0xFF;
                if (pos_bytes == 4) d[3] = (p >> 24) & 0xFF;
            }
            for (size_t v = nb; v > 0; v--) off[v] = off[v - 1];
            off[0] = 0;
        }
        free(vals);
        Py_END_ALLOW_THREADS
        if (fail) { PyErr_NoMemory(); goto end; }
        Py_INCREF(Py_None);
        out = Py_None;
    }
end:
    if (bh.obj) PyBuffer_Release(&bh);
    if (bbo.obj) PyBuffer_Release(&bbo);
    if (bw.obj) PyBuffer_Release(&bw);
    if (bb.obj) PyBuffer_Release(&bb);
    if (boff.obj) PyBuffer_Release(&boff);
    if (bpos.obj) PyBuffer_Release(&bpos);
    return out;
}

static PyMethodDef methods[] = {
    {"mih_query", mih_query, METH_VARARGS, "Multi-index-hashing probe of one segment."},
    {"brute", brute, METH_VARARGS, "Linear scan of one segment."},
    {"brute_many", brute_many, METH_VARARGS, "Blocked linear scan of one segment for many queries."},
    {"build", build, METH_VARARGS, "Build the chunk tables of one segment (counting sort)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pdqkernel", "PDQ index hot loops.", -1, methods};

PyMODINIT_FUNC PyInit__pdqkernel(void) {
#ifdef SURAKSHA_CHECK_POPCNT
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("popcnt")) {
        PyErr_SetString(PyExc_ImportError, "_pdqkernel needs a CPU with POPCNT");
        return NULL;
    }
#endif
    const uint16_t probe_le = 1;
    if (*(const uint8_t *)&probe_le != 1) {
        PyErr_SetString(PyExc_ImportError, "_pdqkernel supports little-endian hosts only");
        return NULL;
    }
    return PyModule_Create(&module);
}
