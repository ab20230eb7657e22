# Included by _kernel.pyx (textually): entry points that take ndarrays checked here
# (dtype, layout, shapes) instead of typed memoryviews of a fused type, whose dispatch and
# acquisition cost microseconds per call: the training plans' lean backward for one set
# of weights (Backward), and forward / backward with the arguments of forward() and
# backward() (forward_arrays, backward_arrays), and pack (pack_array). Each makes the
# same calls as its memoryview twin, so the same numbers.


cdef class Backward:
    """``backward(...)`` for one set of weights and the common call: no initial state,
    mask or recurrent dropout, C-contiguous native arrays of the weights' dtype (checked
    here: a call that does not qualify raises ValueError, never reads out of bounds).

    The same ``drive_backward`` call with the same arguments as ``backward`` (weights
    packed transposed the same way, the same thread count and partial sums), so the same
    numbers; it skips the fused-type dispatch and a dozen memoryview acquisitions, and
    keeps its packed weights and scratch memory between calls (the weights are re-packed
    on every call, so in-place updates are seen).

    ``Backward(kernel (D, H), recurrent_kernel (H, H), act, packed, reverse,
    zero_output)``; calling it with ``(x (B, T, D), out (B, T, H), d_out (B, T, H) or
    None, d_last (B, H) or None, dx (B, T, D) or None (scratch), d_kernel (D, H),
    d_recurrent (H, H), d_bias (H,) or None (scratch), num_threads)`` writes the
    gradients and returns None.
    """
    cdef cnp.ndarray kernel, recurrent_kernel, rp, kp, dp, dx, work, db
    cdef int D, H, act, typenum
    cdef bint packed, reverse, zero_output
    cdef long long B, T  # the shape the scratch memory is for
    cdef Py_ssize_t bth, bh  # the work's parts (B*T*H and B*H rounded up)

    def __init__(self, kernel, recurrent_kernel, int act,
                 bint packed, bint reverse=False, bint zero_output=False):
        cdef cnp.npy_intp h
        if type(kernel) is not np.ndarray or kernel.ndim != 2 or \
                kernel.dtype not in (np.float32, np.float64):
            raise ValueError("Backward: `kernel` must be a 2-D float32 or float64 array")
        self.typenum = cnp.PyArray_TYPE(<cnp.ndarray>kernel)
        self.D = kernel.shape[0]
        self.H = kernel.shape[1]
        _check_array(kernel, "kernel", self.typenum, 2, self.D, self.H, 0)
        _check_array(recurrent_kernel, "recurrent_kernel", self.typenum, 2, self.H,
                     self.H, 0)
        self.kernel = kernel
        self.recurrent_kernel = recurrent_kernel
        self.act = act
        self.packed = packed
        self.reverse = reverse
        self.zero_output = zero_output
        self.B = self.T = -1
        if packed:
            single = self.typenum == cnp.NPY_FLOAT32
            dt = np.float32 if single else np.float64
            self.rp = np.empty(pack_size(self.H, self.H, single), dt)
            self.kp = np.empty(pack_size(self.H, self.D, single), dt)
        h = self.H
        self.db = cnp.PyArray_EMPTY(1, &h, self.typenum, 0)

    cdef _scratch(self, long long B, long long T):
        """d_pre, h_prev (B, T, H), d_carry, d_state_new, d_h0 (B, H) in one buffer; dx
        scratch (B, T, D); room for pack(d_pre)."""
        cdef cnp.npy_intp n
        cdef bint single = self.typenum == cnp.NPY_FLOAT32
        if B == self.B and T == self.T:
            return
        # each part starts at a multiple of 16 elements
        self.bth = (B * T * self.H + 15) // 16 * 16
        self.bh = (B * self.H + 15) // 16 * 16
        n = <cnp.npy_intp>(2 * self.bth + 3 * self.bh)
        self.work = cnp.PyArray_EMPTY(1, &n, self.typenum, 0)
        n = <cnp.npy_intp>(B * T * self.D)
        self.dx = cnp.PyArray_EMPTY(1, &n, self.typenum, 0)
        n = pack_size(B * T, self.H, single) if self.packed else 1
        self.dp = cnp.PyArray_EMPTY(1, &n, self.typenum, 0)
        self.B = B
        self.T = T

    def __call__(self, x, out, d_out, d_last, dx, d_kernel, d_recurrent, d_bias,
                 int num_threads):
        cdef int typenum = self.typenum, D = self.D, H = self.H
        cdef long long B, T, big = 2**31 - 1
        cdef cnp.ndarray xa
        _check_array(x, "x", typenum, 3, -1, -1, D)
        xa = <cnp.ndarray>x
        B = xa.shape[0]
        T = xa.shape[1]
        if B * T > big or T * max(D, H) > big or B * H > big:
            raise ValueError("Backward: sizes past the kernel's 32-bit limits")
        _check_array(out, "out", typenum, 3, B, T, H)
        if d_out is not None:
            _check_array(d_out, "d_out", typenum, 3, B, T, H)
        if d_last is not None:
            _check_array(d_last, "d_last", typenum, 2, B, H, 0)
        if dx is not None:
            _check_array(dx, "dx", typenum, 3, B, T, D, True)
        _check_array(d_kernel, "d_kernel", typenum, 2, D, H, 0, True)
        _check_array(d_recurrent, "d_recurrent", typenum, 2, H, H, 0, True)
        if d_bias is None:
            d_bias = self.db
        _check_array(d_bias, "d_bias", typenum, 1, H, 0, 0, True)
        self._scratch(B, T)
        if dx is None:
            dx = self.dx
        if typenum == cnp.NPY_FLOAT32:
            _lean_backward(self, <int>B, <int>T, x, out, d_out, d_last, dx, d_kernel,
                           d_recurrent, d_bias, num_threads, <float *>NULL)
        else:
            _lean_backward(self, <int>B, <int>T, x, out, d_out, d_last, dx, d_kernel,
                           d_recurrent, d_bias, num_threads, <double *>NULL)


cdef int _lean_backward(Backward self, int B, int T, x, out, d_out, d_last, dx, d_kernel,
                        d_recurrent, d_bias, int num_threads, floating *tag) except -1:
    """Backward's call (tag: NULL, selects the dtype), on its scratch memory."""
    cdef floating *w = <floating *>cnp.PyArray_DATA(self.work)
    cdef Py_ssize_t bth = self.bth, bh = self.bh
    return _run_backward(B, T, self.D, self.H, self.kernel, self.recurrent_kernel, x, None,
                         out, d_out, d_last, None, self.zero_output, self.act, self.reverse,
                         None, dx, d_kernel, d_recurrent, d_bias, w + 2 * bth + 2 * bh, w,
                         w + bth, w + 2 * bth, w + 2 * bth + bh, self.packed, self.rp,
                         self.kp, self.dp, num_threads)


cdef int _run_backward(int B, int T, int D, int H, kernel, recurrent_kernel, x, h0, out,
                       d_out, d_last, mask, bint zero_output, int act, bint reverse,
                       rec_drop, dx, d_kernel, d_recurrent, d_bias, floating *d_h0,
                       floating *d_pre, floating *h_prev, floating *d_carry,
                       floating *d_state_new, bint packed, rp_buf, kp_buf, dp_buf,
                       int num_threads) except -1:
    """backward()'s preparation and drive_backward call for checked ndarrays (None for
    what is absent): the same thread count, the weights packed transposed into rp_buf
    and kp_buf (pack_size(H, H) and pack_size(H, D) elements, or None: new ones), room
    for pack(d_pre) in dp_buf (or None: a new one), partial sums for nt > 1."""
    cdef int slots = 1
    cdef int nt = _threads(num_threads, B, <long long>B * T * H * H)
    cdef floating *rp = NULL
    cdef floating *kp = NULL
    cdef floating *dpp = NULL
    cdef const floating *rk_p
    cdef const floating *k_p
    cdef cnp.ndarray part_r = None, part_k = None, part_b = None
    cdef bint single = floating is float
    dt = np.float32 if floating is float else np.float64
    if B == 0 or T == 0:
        # nothing flows back: zero weight gradients
        memset(_data(d_kernel), 0, <Py_ssize_t>D * H * sizeof(floating))
        memset(_data(d_recurrent), 0, <Py_ssize_t>H * H * sizeof(floating))
        memset(_data(d_bias), 0, H * sizeof(floating))
        return 0
    if packed:
        if rp_buf is None:
            rp_buf = np.empty(pack_size(H, H, single), dt)
            kp_buf = np.empty(pack_size(H, D, single), dt)
        if dp_buf is None:
            dp_buf = np.empty(pack_size(<Py_ssize_t>B * T, H, single), dt)
        rp = <floating *>_data(rp_buf)
        kp = <floating *>_data(kp_buf)
        dpp = <floating *>_data(dp_buf)
        rk_p = <const floating *>_data(recurrent_kernel)
        k_p = <const floating *>_data(kernel)
        with nogil:
            if floating is float:
                fr_pack_f32(True, H, H, rk_p, H, rp)
                fr_pack_f32(True, H, D, k_p, H, kp)
            else:
                fr_pack_f64(True, H, H, rk_p, H, rp)
                fr_pack_f64(True, H, D, k_p, H, kp)
        if nt > 1:
            slots = merge_slots(nt, D, H, sizeof(floating))
            part_r = np.zeros((slots, H, H), dt)
            part_k = np.zeros((slots, D, H), dt)
            part_b = np.zeros((slots, H), dt)
    drive_backward(B, T, D, H, <const floating *>_data(x), <const floating *>_data(kernel),
                   <const floating *>_data(recurrent_kernel),
                   <const floating *>_data(h0), <const floating *>_data(out),
                   <const floating *>_data(d_out), <const floating *>_data(d_last),
                   <const unsigned char *>_data(mask), zero_output, act, reverse,
                   <const floating *>_data(rec_drop), <floating *>_data(dx),
                   <floating *>_data(d_kernel), <floating *>_data(d_recurrent),
                   <floating *>_data(d_bias), d_h0, d_pre, h_prev, d_carry, d_state_new,
                   rp, kp, dpp, <floating *>_data(part_k), <floating *>_data(part_r),
                   <floating *>_data(part_b), nt, slots)
    return 0


def backward_arrays(x, kernel, recurrent_kernel, h0, out, d_out, d_last, mask,
                    bint zero_output, int act, rec_drop, dx, d_kernel, d_recurrent, d_bias,
                    d_h0, d_pre, h_prev, d_carry, d_state_new, bint packed=False,
                    int num_threads=1, bint reverse=False, dp_work=None):
    """``backward`` with its arguments checked here as ndarrays (the weights' dtype,
    C-contiguous, aligned, the shapes of ``backward``'s comments; ``mask`` uint8) rather
    than acquired as typed memoryviews of a fused type: the same computation, a few
    microseconds less per call. ValueError for an argument that does not qualify."""
    cdef int typenum, D, H
    cdef long long B, T, big = 2**31 - 1
    cdef cnp.ndarray xa
    if type(kernel) is not np.ndarray or kernel.ndim != 2 or \
            kernel.dtype not in (np.float32, np.float64):
        raise ValueError("Backward: `kernel` must be a 2-D float32 or float64 array")
    typenum = cnp.PyArray_TYPE(<cnp.ndarray>kernel)
    D = kernel.shape[0]
    H = kernel.shape[1]
    _check_array(kernel, "kernel", typenum, 2, D, H, 0)
    _check_array(recurrent_kernel, "recurrent_kernel", typenum, 2, H, H, 0)
    _check_array(x, "x", typenum, 3, -1, -1, D)
    xa = <cnp.ndarray>x
    B = xa.shape[0]
    T = xa.shape[1]
    if B * T > big or T * max(D, H) > big or B * H > big:
        raise ValueError("Backward: sizes past the kernel's 32-bit limits")
    if h0 is not None:
        _check_array(h0, "h0", typenum, 2, B, H, 0)
    _check_array(out, "out", typenum, 3, B, T, H)
    if d_out is not None:
        _check_array(d_out, "d_out", typenum, 3, B, T, H)
    if d_last is not None:
        _check_array(d_last, "d_last", typenum, 2, B, H, 0)
    if mask is not None:
        _check_array(mask, "mask", cnp.NPY_UINT8, 2, B, T, 0)
    if rec_drop is not None:
        _check_array(rec_drop, "rec_drop", typenum, 2, B, H, 0)
    _check_array(dx, "dx", typenum, 3, B, T, D, True)
    _check_array(d_kernel, "d_kernel", typenum, 2, D, H, 0, True)
    _check_array(d_recurrent, "d_recurrent", typenum, 2, H, H, 0, True)
    _check_array(d_bias, "d_bias", typenum, 1, H, 0, 0, True)
    _check_array(d_h0, "d_h0", typenum, 2, B, H, 0, True)
    _check_array(d_pre, "d_pre", typenum, 3, B, T, H, True)
    _check_array(h_prev, "h_prev", typenum, 3, B, T, H, True)
    _check_array(d_carry, "d_carry", typenum, 2, B, H, 0, True)
    _check_array(d_state_new, "d_state_new", typenum, 2, B, H, 0, True)
    if dp_work is not None:
        _check_array(dp_work, "dp_work", typenum, 1, -1, 0, 0, True)
        if dp_work.shape[0] < pack_size(B * T, H, typenum == cnp.NPY_FLOAT32):
            dp_work = None  # too small: a new one, as backward()
    if typenum == cnp.NPY_FLOAT32:
        _run_backward(<int>B, <int>T, D, H, kernel, recurrent_kernel, x, h0, out, d_out,
                      d_last, mask, zero_output, act, reverse, rec_drop, dx, d_kernel,
                      d_recurrent, d_bias, <float *>_data(d_h0), <float *>_data(d_pre),
                      <float *>_data(h_prev), <float *>_data(d_carry),
                      <float *>_data(d_state_new), packed, None, None, dp_work,
                      num_threads)
    else:
        _run_backward(<int>B, <int>T, D, H, kernel, recurrent_kernel, x, h0, out, d_out,
                      d_last, mask, zero_output, act, reverse, rec_drop, dx, d_kernel,
                      d_recurrent, d_bias, <double *>_data(d_h0), <double *>_data(d_pre),
                      <double *>_data(h_prev), <double *>_data(d_carry),
                      <double *>_data(d_state_new), packed, None, None, dp_work,
                      num_threads)


def forward_arrays(x, kernel, recurrent_kernel, bias, mask, bint zero_output, int act,
                   rec_drop, out, state, prev_out, work, kernel_packed=None,
                   rk_packed=None, int num_threads=1, bint reverse=False):
    """``forward`` with its arguments checked here as ndarrays (the weights' dtype,
    C-contiguous, aligned, the shapes of ``forward``'s comments; ``mask`` uint8;
    packed weights of at least pack_size elements) rather than acquired as typed
    memoryviews of a fused type: the same computation. ValueError for an argument that
    does not qualify."""
    cdef int typenum, D, H
    cdef long long B, T, big = 2**31 - 1
    cdef cnp.ndarray xa
    cdef bint single
    if type(kernel) is not np.ndarray or kernel.ndim != 2 or \
            kernel.dtype not in (np.float32, np.float64):
        raise ValueError("forward_arrays: `kernel` must be a 2-D float32 or float64 array")
    typenum = cnp.PyArray_TYPE(<cnp.ndarray>kernel)
    single = typenum == cnp.NPY_FLOAT32
    D = kernel.shape[0]
    H = kernel.shape[1]
    _check_array(kernel, "kernel", typenum, 2, D, H, 0)
    _check_array(recurrent_kernel, "recurrent_kernel", typenum, 2, H, H, 0)
    _check_array(x, "x", typenum, 3, -1, -1, D)
    xa = <cnp.ndarray>x
    B = xa.shape[0]
    T = xa.shape[1]
    if B * T > big or T * max(D, H) > big or B * H > big:
        raise ValueError("forward_arrays: sizes past the kernel's 32-bit limits")
    if bias is not None:
        _check_array(bias, "bias", typenum, 1, H, 0, 0)
    if mask is not None:
        _check_array(mask, "mask", cnp.NPY_UINT8, 2, B, T, 0)
    if rec_drop is not None:
        _check_array(rec_drop, "rec_drop", typenum, 2, B, H, 0)
    _check_array(out, "out", typenum, 3, B, T, H, True)
    _check_array(state, "state", typenum, 2, B, H, 0, True)
    if prev_out is not None:
        _check_array(prev_out, "prev_out", typenum, 2, B, H, 0, True)
    if work is not None:
        _check_array(work, "work", typenum, 2, B, H, 0, True)
    if kernel_packed is not None:
        _check_array(kernel_packed, "kernel_packed", typenum, 1, pack_size(D, H, single),
                     0, 0)
    if rk_packed is not None:
        _check_array(rk_packed, "rk_packed", typenum, 1, pack_size(H, H, single), 0, 0)
    if (mask is not None and prev_out is None) or (rec_drop is not None and work is None):
        raise ValueError("forward_arrays: a mask needs prev_out, recurrent dropout work")
    if B == 0 or T == 0:
        return
    if single:
        drive_forward(<int>B, <int>T, D, H, <const float *>_data(x),
                      <const float *>_data(kernel), <const float *>_data(recurrent_kernel),
                      <const float *>_data(bias), <const unsigned char *>_data(mask),
                      zero_output, act, reverse, <const float *>_data(rec_drop),
                      <const float *>_data(kernel_packed), <const float *>_data(rk_packed),
                      <float *>_data(out), H, <float *>_data(state),
                      <float *>_data(prev_out), <float *>_data(work), num_threads)
    else:
        drive_forward(<int>B, <int>T, D, H, <const double *>_data(x),
                      <const double *>_data(kernel), <const double *>_data(recurrent_kernel),
                      <const double *>_data(bias), <const unsigned char *>_data(mask),
                      zero_output, act, reverse, <const double *>_data(rec_drop),
                      <const double *>_data(kernel_packed),
                      <const double *>_data(rk_packed), <double *>_data(out), H,
                      <double *>_data(state), <double *>_data(prev_out),
                      <double *>_data(work), num_threads)


def pack_array(b, bint transpose=False):
    """``pack(b, transpose)`` for a C-contiguous aligned float32 / float64 ndarray
    ``b`` (k, n) checked here (ValueError otherwise): the same packed panels."""
    cdef int typenum, k, n, ldb
    cdef cnp.ndarray p
    cdef cnp.npy_intp size
    cdef const void *src
    cdef void *dst
    if type(b) is not np.ndarray or b.ndim != 2 or b.dtype not in (np.float32, np.float64):
        raise ValueError("pack_array: `b` must be a 2-D float32 or float64 array")
    typenum = cnp.PyArray_TYPE(<cnp.ndarray>b)
    _check_array(b, "b", typenum, 2, -1, -1, 0)
    k = b.shape[1] if transpose else b.shape[0]
    n = b.shape[0] if transpose else b.shape[1]
    size = pack_size(k, n, typenum == cnp.NPY_FLOAT32)
    p = cnp.PyArray_EMPTY(1, &size, typenum, 0)
    src = _data(b)
    dst = _data(p)
    ldb = b.shape[1]
    with nogil:
        if typenum == cnp.NPY_FLOAT32:
            fr_pack_f32(transpose, k, n, <const float *>src, ldb, <float *>dst)
        else:
            fr_pack_f64(transpose, k, n, <const double *>src, ldb, <double *>dst)
    return p


cdef inline void *_data(a):
    """The data of an ndarray, NULL for None."""
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef int _check_array(a, str name, int typenum, int ndim, long long d0, long long d1,
                      long long d2, bint writeable=False) except -1:
    """ValueError unless ``a`` is a C-contiguous, aligned, native ndarray of typenum
    with ndim dimensions of the given sizes (-1: any; 0 past ndim)."""
    cdef cnp.ndarray arr
    cdef cnp.npy_intp *dims
    if type(a) is not np.ndarray:
        raise ValueError(f"Backward: `{name}` must be a NumPy array, got {type(a).__name__}")
    arr = <cnp.ndarray>a
    dims = cnp.PyArray_DIMS(arr)
    if (cnp.PyArray_TYPE(arr) != typenum or cnp.PyArray_NDIM(arr) != ndim
            or not cnp.PyArray_IS_C_CONTIGUOUS(arr) or not cnp.PyArray_ISBEHAVED_RO(arr)
            or (writeable and not cnp.PyArray_ISWRITEABLE(arr))
            or (d0 >= 0 and dims[0] != d0) or (ndim > 1 and d1 >= 0 and dims[1] != d1)
            or (ndim > 2 and d2 >= 0 and dims[2] != d2)):
        raise ValueError(f"Backward: `{name}` must be a C-contiguous, aligned, "
                         f"{'writeable ' if writeable else ''}native array of the "
                         f"weights' dtype with shape ({d0}, {d1}, {d2})[:{ndim}] "
                         f"(-1: any), got {a.dtype} {a.shape}")
    return 0
