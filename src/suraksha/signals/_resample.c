/*
 * Bicubic downscaling of 8-bit pictures, bit-exact with Pillow's Image.resize(size, BICUBIC, box).
 *
 * PDQ's reference preparation is PIL's thumbnail (a bicubic resize to fit 512x512), and the hash
 * must stay bit-exact with the published reference hashes, so the arithmetic is Pillow's own: the
 * same filter weights from the same (single-precision) box, normalised to 22-bit fixed point with
 * the same rounding, a horizontal pass over the rows the vertical pass needs, each pass rounded
 * and clipped to 8 bits, in the order Pillow runs the passes (the caller says which). What differs is only the loop order: the vertical pass runs eight or
 * sixteen outputs at once (AVX2), the horizontal pass eight rows at once on int32 columns. Pillow's loops are scalar, which made the resize most of a scan's CPU time.
 * Integer sums are exact in any order, so the results are identical (tests/signals/test_resample.py
 * compares every pixel against Pillow over random sizes, boxes and band counts).
 *
 * Only the plain CPython API and the buffer protocol are used (no numpy headers).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#define PRECISION_BITS (32 - 8 - 2)

static inline uint8_t clip8(int32_t ss) {
    int32_t v = ss >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

static inline double bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Weights of each output sample, as Pillow computes them. Returns ksize (0 on allocation failure).
 * bounds[2*i] = first input sample, bounds[2*i+1] = how many; kk[i*ksize + t] = fixed-point weight. */
static int coefficients(int in_size, float in0, float in1, int out_size, int **boundsp, int32_t **kkp) {
    double scale, filterscale, support;
    int ksize;
    double *pre;
    int32_t *kk;
    int *bounds;

    filterscale = scale = (double)(in1 - in0) / out_size;
    if (filterscale < 1.0) filterscale = 1.0;
    support = 2.0 * filterscale;
    ksize = (int)ceil(support) * 2 + 1;
    pre = malloc((size_t)out_size * ksize * sizeof(double));
    kk = malloc((size_t)out_size * ksize * sizeof(int32_t));
    bounds = malloc((size_t)out_size * 2 * sizeof(int));
    if (!pre || !kk || !bounds) {
        free(pre); free(kk); free(bounds);
        return 0;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = in0 + (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax, x;
        double *k = &pre[(size_t)xx * ksize];
        if (xmin < 0) xmin = 0;
        xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        for (x = 0; x < xmax; x++) {
            double w = bicubic((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++) {
            if (ww != 0.0) k[x] /= ww;
        }
        for (; x < ksize; x++) k[x] = 0;
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)out_size * ksize; i++) {
        kk[i] = pre[i] < 0 ? (int32_t)(-0.5 + pre[i] * (1 << PRECISION_BITS))
                           : (int32_t)(0.5 + pre[i] * (1 << PRECISION_BITS));
    }
    free(pre);
    *boundsp = bounds;
    *kkp = kk;
    return ksize;
}

/* ------------------------------------------------------------------------------- scalar passes */
static void horizontal_scalar(const uint8_t *in, int in_w, int bands, int rows, int row0, uint8_t *out,
                              int out_w, int ksize, const int *bounds, const int32_t *kk) {
    for (int y = 0; y < rows; y++) {
        const uint8_t *src = in + (size_t)(y + row0) * in_w * bands;
        uint8_t *dst = out + (size_t)y * out_w * bands;
        for (int xx = 0; xx < out_w; xx++) {
            int xmin = bounds[xx * 2], n = bounds[xx * 2 + 1];
            const int32_t *k = &kk[(size_t)xx * ksize];
            for (int c = 0; c < bands; c++) {
                int32_t ss = 1 << (PRECISION_BITS - 1);
                for (int x = 0; x < n; x++) ss += src[(x + xmin) * bands + c] * k[x];
                dst[xx * bands + c] = clip8(ss);
            }
        }
    }
}

static void vertical_scalar(const uint8_t *in, int width, int out_h, uint8_t *out, int ksize,
                            const int *bounds, const int32_t *kk) {
    /* width = samples per row (pixels x bands) */
    for (int yy = 0; yy < out_h; yy++) {
        int ymin = bounds[yy * 2], n = bounds[yy * 2 + 1];
        const int32_t *k = &kk[(size_t)yy * ksize];
        uint8_t *dst = out + (size_t)yy * width;
        for (int j = 0; j < width; j++) {
            int32_t ss = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++) ss += in[(size_t)(y + ymin) * width + j] * k[y];
            dst[j] = clip8(ss);
        }
    }
}

#ifdef HAVE_AVX2_PATH
/* ------------------------------------------------------------------------------- AVX2 passes */
__attribute__((target("avx2"))) static inline __m128i pack8(__m256i acc) {
    /* >> PRECISION_BITS, clip to 0..255, 8 int32 lanes -> 8 bytes (low half of the result) */
    __m256i v = _mm256_srai_epi32(acc, PRECISION_BITS);
    __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    __m128i w = _mm_packs_epi32(lo, hi);   /* saturating to int16 keeps the order of values */
    return _mm_packus_epi16(w, w);         /* saturating to 0..255 = clip8 */
}

__attribute__((target("avx2"))) static void vertical_avx2(const uint8_t *in, int width, int out_h, uint8_t *out,
                                                         int ksize, const int *bounds, const int32_t *kk) {
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int yy = 0; yy < out_h; yy++) {
        int ymin = bounds[yy * 2], n = bounds[yy * 2 + 1];
        const int32_t *k = &kk[(size_t)yy * ksize];
        uint8_t *dst = out + (size_t)yy * width;
        int j = 0;
        for (; j + 16 <= width; j += 16) {
            __m256i a0 = half, a1 = half;
            for (int y = 0; y < n; y++) {
                const uint8_t *p = in + (size_t)(y + ymin) * width + j;
                __m256i w = _mm256_set1_epi32(k[y]);
                __m128i b = _mm_loadu_si128((const __m128i *)p);
                a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(b), w));
                a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), w));
            }
            _mm_storel_epi64((__m128i *)(dst + j), pack8(a0));
            _mm_storel_epi64((__m128i *)(dst + j + 8), pack8(a1));
        }
        for (; j < width; j++) {
            int32_t ss = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++) ss += in[(size_t)(y + ymin) * width + j] * k[y];
            dst[j] = clip8(ss);
        }
    }
}

/* Horizontal pass, eight rows at a time: the block is turned into int32 columns (for each band and
 * input x, the eight rows' samples side by side), so each output sample of the eight rows is one
 * vector multiply-add per tap, with no gathers (slow on many CPUs); the results are turned back. */
__attribute__((target("avx2"))) static int horizontal_avx2(const uint8_t *in, int in_w, int bands, int rows, int row0,
                                                          uint8_t *out, int out_w, int ksize, const int *bounds,
                                                          const int32_t *kk) {
    int32_t *cols = malloc((size_t)bands * in_w * 8 * sizeof(int32_t));
    uint8_t *block = malloc((size_t)out_w * bands * 8);
    if (!cols || !block) {
        free(cols); free(block);
        return -1;
    }
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    const size_t row_len = (size_t)in_w * bands;
    for (int y0 = 0; y0 < rows; y0 += 8) {
        int nr = rows - y0 < 8 ? rows - y0 : 8;
        for (int r = 0; r < 8; r++) {
            const uint8_t *src = in + (size_t)(row0 + y0 + (r < nr ? r : nr - 1)) * row_len;
            for (int c = 0; c < bands; c++) {
                int32_t *col = cols + (size_t)c * in_w * 8 + r;
                for (int x = 0; x < in_w; x++) col[(size_t)x * 8] = src[x * bands + c];
            }
        }
        for (int xx = 0; xx < out_w; xx++) {
            int xmin = bounds[xx * 2], n = bounds[xx * 2 + 1];
            const int32_t *k = &kk[(size_t)xx * ksize];
            for (int c = 0; c < bands; c++) {
                const int32_t *p = cols + ((size_t)c * in_w + xmin) * 8;
                __m256i acc = half;
                for (int t = 0; t < n; t++)
                    acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(p + (size_t)t * 8)),
                                                                   _mm256_set1_epi32(k[t])));
                _mm_storel_epi64((__m128i *)(block + ((size_t)xx * bands + c) * 8), pack8(acc));
            }
        }
        const size_t out_len = (size_t)out_w * bands;
        for (int r = 0; r < nr; r++) {
            uint8_t *dst = out + (size_t)(y0 + r) * out_len;
            for (size_t j = 0; j < out_len; j++) dst[j] = block[j * 8 + r];
        }
    }
    free(cols); free(block);
    return 0;
}

static int use_avx2 = -1;
#endif

/* ---------------------------------------------------------------------------------- the call */
static PyObject *resample_bicubic(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer src;
    int in_w, in_h, bands, out_w, out_h, vertical_first = 0, force_scalar = 0;
    float box[4];
    if (!PyArg_ParseTuple(args, "y*iiiii(ffff)|pp", &src, &in_w, &in_h, &bands, &out_w, &out_h, &box[0], &box[1],
                          &box[2], &box[3], &vertical_first, &force_scalar))
        return NULL;
    if (bands < 1 || bands > 4 || in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 ||
        src.len != (Py_ssize_t)in_w * in_h * bands) {
        PyBuffer_Release(&src);
        PyErr_SetString(PyExc_ValueError, "resample_bicubic: buffer size does not match width x height x bands");
        return NULL;
    }
    int need_h = out_w != in_w || box[0] != 0 || box[2] != out_w;
    int need_v = out_h != in_h || box[1] != 0 || box[3] != out_h;
    int *bv = NULL, *bh = NULL;
    int32_t *kv = NULL, *kh = NULL;
    int ksv = 0, ksh = 0;
    uint8_t *temp = NULL, *dst = NULL;
    PyObject *result = NULL;
    int failed = 0;

    if (need_v && !(ksv = coefficients(in_h, box[1], box[3], out_h, &bv, &kv))) goto nomem;
    if (need_h && !(ksh = coefficients(in_w, box[0], box[2], out_w, &bh, &kh))) goto nomem;
    if (!need_h && !need_v) {
        result = PyBytes_FromStringAndSize(src.buf, src.len);
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)out_w * out_h * bands);
    if (!result) goto done;
    dst = (uint8_t *)PyBytes_AS_STRING(result);
#ifdef HAVE_AVX2_PATH
    if (use_avx2 < 0) {
        __builtin_cpu_init();
        use_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    int simd = use_avx2 && !force_scalar;
#define HPASS(in, w, rows, row0, out) \
    (simd && horizontal_avx2(in, w, bands, rows, row0, out, out_w, ksh, bh, kh) == 0 ? (void)0 \
          : horizontal_scalar(in, w, bands, rows, row0, out, out_w, ksh, bh, kh))
#define VPASS(in, w, out) \
    (simd ? vertical_avx2(in, (w) * bands, out_h, out, ksv, bv, kv) : vertical_scalar(in, (w) * bands, out_h, out, ksv, bv, kv))
#else
#define HPASS(in, w, rows, row0, out) horizontal_scalar(in, w, bands, rows, row0, out, out_w, ksh, bh, kh)
#define VPASS(in, w, out) vertical_scalar(in, (w) * bands, out_h, out, ksv, bv, kv)
#endif
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = src.buf;
    if (!need_v) {
        HPASS(in, in_w, in_h, 0, dst);
    } else if (!need_h) {
        VPASS(in, in_w, dst);
    } else if (vertical_first) {
        /* Pillow 13 runs the vertical pass first when the height shrinks over twice as much as the width */
        temp = malloc((size_t)in_w * out_h * bands + 16);
        if (temp) {
            VPASS(in, in_w, temp);
            HPASS(temp, in_w, out_h, 0, dst);
        } else failed = 1;
    } else {
        /* only the rows the vertical pass reads are resized horizontally */
        int first = bv[0], last = bv[out_h * 2 - 2] + bv[out_h * 2 - 1];
        temp = malloc((size_t)out_w * (last - first) * bands + 16);
        if (temp) {
            for (int i = 0; i < out_h; i++) bv[i * 2] -= first;
            HPASS(in, in_w, last - first, first, temp);
            VPASS(temp, out_w, dst);
        } else failed = 1;
    }
    Py_END_ALLOW_THREADS
#undef HPASS
#undef VPASS
    if (failed) {
        Py_CLEAR(result);
        goto nomem;
    }
    goto done;
nomem:
    PyErr_NoMemory();
done:
    free(bv); free(kv); free(bh); free(kh); free(temp);
    PyBuffer_Release(&src);
    return result;
}

static PyObject *simd_in_use(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(noargs)) {
#ifdef HAVE_AVX2_PATH
    if (use_avx2 < 0) {
        __builtin_cpu_init();
        use_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return PyBool_FromLong(use_avx2);
#else
    Py_RETURN_FALSE;
#endif
}

static PyMethodDef methods[] = {
    {"resample_bicubic", resample_bicubic, METH_VARARGS,
     "resample_bicubic(data, width, height, bands, out_width, out_height, box, vertical_first=False, force_scalar=False)"
     " -> bytes\nPillow's BICUBIC resize of packed 8-bit samples (bands 1-4), bit for bit; vertical_first says which"
     " pass Pillow runs first (Pillow 13 may run the vertical one first)."},
    {"simd_in_use", simd_in_use, METH_NOARGS, "True when the AVX2 loops run on this CPU."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_resample", NULL, -1, methods};

PyMODINIT_FUNC PyInit__resample(void) { return PyModule_Create(&module); }
