# Included by _kernel.pyx (textually): the training step's elementwise helpers (src/_step.h):
# the optimizer step of the training plans' flat update (fastrnn/optimizers/flat.py) and
# the logistic loss's parts around NumPy's exp and log1p (fastrnn/losses/crossentropy.py).

cdef extern from "_step.h" nogil:
    enum:
        FR_SGD
        FR_SGD_MOMENTUM
        FR_RMSPROP
        FR_ADAM
    int fr_all_finite_f32(const float *g, Py_ssize_t n)
    int fr_all_finite_f64(const double *g, Py_ssize_t n)
    void fr_weight_decay_f32(Py_ssize_t n, float *w, double weight_decay, double lr)
    void fr_weight_decay_f64(Py_ssize_t n, double *w, double weight_decay, double lr)
    void fr_optim_step_f32(int rule, Py_ssize_t n, float *w, const float *g, float *s0,
                           float *s1, float *s2, const double *c)
    void fr_optim_step_f64(int rule, Py_ssize_t n, double *w, const double *g, double *s0,
                           double *s1, double *s2, const double *c)
    void fr_neg_abs_f32(Py_ssize_t n, const float *p, float *e)
    void fr_neg_abs_f64(Py_ssize_t n, const double *p, double *e)
    void fr_sigmoid_tail_f32(Py_ssize_t n, const float *x, const float *e, float *y)
    void fr_sigmoid_tail_f64(Py_ssize_t n, const double *x, const double *e, double *y)
    void fr_add_rows_f32(Py_ssize_t rows, Py_ssize_t n, float *z, const float *b)
    void fr_add_rows_f64(Py_ssize_t rows, Py_ssize_t n, double *z, const double *b)
    void fr_bce_terms_f32(Py_ssize_t n, Py_ssize_t k, const float *p, const float *t,
                          const float *e, const float *l, const float *w, int plus_zero,
                          float *elem, float *grad)
    void fr_bce_terms_f64(Py_ssize_t n, Py_ssize_t k, const double *p, const double *t,
                          const double *e, const double *l, const double *w,
                          int plus_zero, double *elem, double *grad)

OPTIMIZER_RULES = {"sgd": FR_SGD, "sgd_momentum": FR_SGD_MOMENTUM, "rmsprop": FR_RMSPROP,
                   "adam": FR_ADAM}


cdef void *_flat_part(a, str name, int typenum, Py_ssize_t n, bint writeable,
                      str where="optimizer_step") except NULL:
    """The data of a C-contiguous aligned native array of typenum and n elements."""
    cdef cnp.ndarray arr
    if type(a) is not np.ndarray:
        raise ValueError(f"{where}: `{name}` must be a NumPy array, got "
                         f"{type(a).__name__}")
    arr = <cnp.ndarray>a
    if (cnp.PyArray_TYPE(arr) != typenum or cnp.PyArray_SIZE(arr) != n
            or not cnp.PyArray_IS_C_CONTIGUOUS(arr)
            or not cnp.PyArray_ISBEHAVED_RO(arr)
            or (writeable and not cnp.PyArray_ISWRITEABLE(arr))):
        raise ValueError(f"{where}: `{name}` must be a C-contiguous aligned "
                         f"{'writeable ' if writeable else ''}native array of the "
                         f"gradient's dtype with {n} elements, got {a.dtype} {a.shape}")
    return cnp.PyArray_DATA(arr)


def optimizer_step(int rule, list variables, gradient, tuple slots, tuple scalars,
                   decay=None, bint check_finite=True):
    """One step of an elementwise optimizer rule (src/_step.h) on ``variables`` in
    place: the NumPy ``update_step`` operations of fastrnn.optimizers, bit for bit.

    Args:
        rule: a value of ``OPTIMIZER_RULES``.
        variables: C-contiguous writeable float32 or float64 arrays, updated in place.
        gradient: their gradients raveled and concatenated (1-D, the same dtype).
        slots: three 1-D arrays of the gradient's size (or None where the rule reads
            none): the slots, concatenated in the variables' order.
        scalars: the rule's scalars (at most 8 floats), rounded to the dtype.
        decay: None, or ``(weight_decay, lr)`` (rounded to the dtype): first
            ``w -= w * weight_decay * lr``, as ``Optimizer.apply``.
        check_finite: False to step whatever the gradient holds (the caller checked the
            gradients before scaling or clipping them).

    Returns:
        True; False, with nothing changed, when a gradient is not finite (and
        ``check_finite``).

    Raises:
        ValueError: arrays of another dtype, layout or size, a slot the rule needs
            missing, or an unknown rule.
    """
    cdef double c[8]
    cdef int k, typenum, i
    cdef Py_ssize_t n, off = 0, size
    cdef void *g
    cdef void *s[3]
    cdef void *w
    cdef cnp.ndarray v
    cdef bint need[3]
    cdef double wd = 0, wd_lr = 0
    if decay is not None:
        wd, wd_lr = decay
    if type(gradient) is not np.ndarray:
        raise ValueError("optimizer_step: `gradient` must be a NumPy array")
    typenum = cnp.PyArray_TYPE(<cnp.ndarray>gradient)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError(f"optimizer_step: `gradient` must be float32 or float64, got "
                         f"{gradient.dtype}")
    n = gradient.size
    g = _flat_part(gradient, "gradient", typenum, n, False)
    if len(slots) != 3 or len(scalars) > 8:
        raise ValueError("optimizer_step: expected 3 slots and at most 8 scalars")
    for k in range(8):
        c[k] = scalars[k] if k < len(scalars) else 0.0
    need[0] = need[1] = need[2] = False
    if rule == FR_SGD_MOMENTUM:
        need[0] = True
    elif rule == FR_RMSPROP:
        need[0] = True
        need[1] = c[5] != 0
        need[2] = c[6] != 0
    elif rule == FR_ADAM:
        need[0] = need[1] = True
        need[2] = c[4] != 0
    elif rule != FR_SGD:
        raise ValueError(f"optimizer_step: unknown rule {rule}")
    for k in range(3):
        s[k] = NULL
        if need[k]:
            if slots[k] is None:
                raise ValueError(f"optimizer_step: rule {rule} needs slot {k}")
            s[k] = _flat_part(slots[k], "slots", typenum, n, True)
    for i in range(len(variables)):
        a = variables[i]
        if type(a) is not np.ndarray:
            raise ValueError(f"optimizer_step: variable {i} is not a NumPy array")
        v = <cnp.ndarray>a
        if (cnp.PyArray_TYPE(v) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(v)
                or not cnp.PyArray_ISBEHAVED(v)):
            raise ValueError(f"optimizer_step: variable {i} must be a C-contiguous "
                             "aligned writeable native array of the gradient's dtype")
        off += cnp.PyArray_SIZE(v)
    if off != n:
        raise ValueError(f"optimizer_step: the variables have {off} elements, the "
                         f"gradient {n}")
    if check_finite:
        if typenum == cnp.NPY_FLOAT32:
            if not fr_all_finite_f32(<const float *>g, n):
                return False
        elif not fr_all_finite_f64(<const double *>g, n):
            return False
    off = 0
    for i in range(len(variables)):
        v = <cnp.ndarray>variables[i]
        size = cnp.PyArray_SIZE(v)
        w = cnp.PyArray_DATA(v)
        if typenum == cnp.NPY_FLOAT32:
            if decay is not None:
                fr_weight_decay_f32(size, <float *>w, wd, wd_lr)
            fr_optim_step_f32(rule, size, <float *>w, <const float *>g + off,
                              <float *>s[0] + off if s[0] != NULL else NULL,
                              <float *>s[1] + off if s[1] != NULL else NULL,
                              <float *>s[2] + off if s[2] != NULL else NULL, c)
        else:
            if decay is not None:
                fr_weight_decay_f64(size, <double *>w, wd, wd_lr)
            fr_optim_step_f64(rule, size, <double *>w, <const double *>g + off,
                              <double *>s[0] + off if s[0] != NULL else NULL,
                              <double *>s[1] + off if s[1] != NULL else NULL,
                              <double *>s[2] + off if s[2] != NULL else NULL, c)
        off += size
    return True


def all_finite(a):
    """Whether every element of ``a`` is finite (``np.isfinite(a).all()``), in one pass
    without a boolean temporary (the GIL released) for C-contiguous float32/float64
    arrays; NumPy for anything else."""
    cdef cnp.ndarray arr
    cdef Py_ssize_t n
    cdef int ok
    if (type(a) is not np.ndarray or not (<cnp.ndarray>a).flags.c_contiguous
            or a.dtype.num not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64)):
        return bool(np.isfinite(a).all())
    arr = <cnp.ndarray>a
    n = arr.size
    with nogil:
        if cnp.PyArray_TYPE(arr) == cnp.NPY_FLOAT32:
            ok = fr_all_finite_f32(<const float *>cnp.PyArray_DATA(arr), n)
        else:
            ok = fr_all_finite_f64(<const double *>cnp.PyArray_DATA(arr), n)
    return bool(ok)


def neg_abs(p, e):
    """``e[...] = -abs(p)``: C-contiguous arrays of one float dtype and size."""
    cdef int typenum = _float_typenum(p, "neg_abs")
    cdef Py_ssize_t n = p.size
    cdef void *pp = _flat_part(p, "p", typenum, n, False, "neg_abs")
    cdef void *ep = _flat_part(e, "e", typenum, n, True, "neg_abs")
    if typenum == cnp.NPY_FLOAT32:
        fr_neg_abs_f32(n, <const float *>pp, <float *>ep)
    else:
        fr_neg_abs_f64(n, <const double *>pp, <double *>ep)


def bce_terms(p, t, e, l, w, bint plus_zero, elem, grad):
    """The logistic loss's elementwise terms (src/_step.h), for logits ``p`` and targets
    ``t`` of shape (..., k), ``e = exp(-|p|)``, ``l = log1p(e)``, ``w`` (..., 1) the
    mean weights: ``elem = max(p, 0) - p * t + l`` (``+ 0.0`` with plus_zero) and
    ``grad = (where(p >= 0, 1, e) / (e + 1) - t) * w``, written into ``elem`` and
    ``grad``. C-contiguous arrays of one float dtype; ValueError otherwise."""
    cdef int typenum = _float_typenum(p, "bce_terms")
    cdef Py_ssize_t n = p.size, k
    if p.ndim < 1 or p.shape[p.ndim - 1] < 1:
        raise ValueError("bce_terms: `p` must have a non-empty last axis")
    k = p.shape[p.ndim - 1]
    cdef void *pp = _flat_part(p, "p", typenum, n, False, "bce_terms")
    cdef void *tp = _flat_part(t, "t", typenum, n, False, "bce_terms")
    cdef void *ep = _flat_part(e, "e", typenum, n, False, "bce_terms")
    cdef void *lp = _flat_part(l, "l", typenum, n, False, "bce_terms")
    cdef void *wp = _flat_part(w, "w", typenum, n // k, False, "bce_terms")
    cdef void *op = _flat_part(elem, "elem", typenum, n, True, "bce_terms")
    cdef void *gp = _flat_part(grad, "grad", typenum, n, True, "bce_terms")
    if typenum == cnp.NPY_FLOAT32:
        fr_bce_terms_f32(n, k, <const float *>pp, <const float *>tp, <const float *>ep,
                         <const float *>lp, <const float *>wp, plus_zero, <float *>op,
                         <float *>gp)
    else:
        fr_bce_terms_f64(n, k, <const double *>pp, <const double *>tp, <const double *>ep,
                         <const double *>lp, <const double *>wp, plus_zero, <double *>op,
                         <double *>gp)


def sigmoid_tail(x, e, y):
    """``y[...] = where(x >= 0, 1 / (1 + e), e / (1 + e))`` for ``e = exp(-|x|)``:
    C-contiguous arrays of one float dtype and size (ValueError otherwise)."""
    cdef int typenum = _float_typenum(x, "sigmoid_tail")
    cdef Py_ssize_t n = x.size
    cdef void *xp = _flat_part(x, "x", typenum, n, False, "sigmoid_tail")
    cdef void *ep = _flat_part(e, "e", typenum, n, False, "sigmoid_tail")
    cdef void *yp = _flat_part(y, "y", typenum, n, True, "sigmoid_tail")
    if typenum == cnp.NPY_FLOAT32:
        fr_sigmoid_tail_f32(n, <const float *>xp, <const float *>ep, <float *>yp)
    else:
        fr_sigmoid_tail_f64(n, <const double *>xp, <const double *>ep, <double *>yp)


def add_rows(z, b):
    """``z += b`` for a C-contiguous float array ``z`` (..., n) and ``b`` (n,) of its
    dtype, C-contiguous (ValueError otherwise): NumPy's broadcast add."""
    cdef int typenum = _float_typenum(z, "add_rows")
    cdef Py_ssize_t size = z.size, n
    if z.ndim < 1:
        raise ValueError("add_rows: `z` must have at least one axis")
    n = z.shape[z.ndim - 1]
    cdef void *zp = _flat_part(z, "z", typenum, size, True, "add_rows")
    cdef void *bp = _flat_part(b, "b", typenum, n, False, "add_rows")
    if b.ndim != 1:
        raise ValueError("add_rows: `b` must be 1-D")
    if n == 0:
        return
    if typenum == cnp.NPY_FLOAT32:
        fr_add_rows_f32(size // n, n, <float *>zp, <const float *>bp)
    else:
        fr_add_rows_f64(size // n, n, <double *>zp, <const double *>bp)


cdef int _float_typenum(a, str where) except -1:
    if type(a) is not np.ndarray:
        raise ValueError(f"{where}: expected a NumPy array, got {type(a).__name__}")
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray>a)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError(f"{where}: expected float32 or float64, got {a.dtype}")
    return typenum
