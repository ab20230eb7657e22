# Included by _gates.pyx (one extension module): the lean forward, the common inference
# call of an LSTM or GRU layer in one compiled call (as _kernel.Forward for SimpleRNN).


cdef class Forward:
    """A lean forward for one set of LSTM/GRU weights, for the common call: no mask, no
    initial state, no dropout, x already a C-contiguous, aligned, native-byte-order
    (B, T, D) array of the weights' dtype.

    Holds references to the weight arrays (in-place updates are seen) and packs them
    into its own buffers on every call, as the general path does. Calling it returns
    (sequences (B, T, U) in position order, h (B, U)[, c (B, U) for LSTM]) -- the
    general path's forward with positions=True -- or None when x does not qualify
    (another dtype, byte order or layout, an empty batch, sizes past the kernel's 32-bit
    limits, or the buffers would pass max_bytes) and the caller must take the general
    path (fastrnn.functional).
    """
    cdef readonly object kernel, recurrent_kernel, bias, recurrent_bias
    cdef object kp, rp
    cdef int cell, D, U, G, act, ract, typenum
    cdef bint packed, reverse

    def __init__(self, int cell, cnp.ndarray kernel, cnp.ndarray recurrent_kernel, bias,
                 recurrent_bias, int act, int ract, bint packed, bint reverse=False):
        """kernel (D, G*U), recurrent_kernel (U, G*U), bias and recurrent_bias (G*U,)
        or None: C-contiguous arrays of one dtype (float32 or float64), shapes checked
        by the caller (fastrnn.functional)."""
        for w in (kernel, recurrent_kernel, bias, recurrent_bias):
            if w is not None and not (type(w) is np.ndarray and
                                      cnp.PyArray_IS_C_CONTIGUOUS(w) and
                                      cnp.PyArray_ISBEHAVED_RO(w) and
                                      cnp.PyArray_TYPE(w) == cnp.PyArray_TYPE(kernel)):
                raise ValueError("weights must be C-contiguous, aligned, native-byte-order "
                                 "arrays of one dtype")
        self.typenum = cnp.PyArray_TYPE(kernel)
        if self.typenum not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64):
            raise ValueError("weights must be float32 or float64")
        self.cell = cell
        self.G = _gates_of(cell)
        self.kernel = kernel
        self.recurrent_kernel = recurrent_kernel
        self.bias = bias
        self.recurrent_bias = recurrent_bias
        self.D = kernel.shape[0]
        self.U = recurrent_kernel.shape[0]
        self.act = act
        self.ract = ract
        self.packed = packed
        self.reverse = reverse
        if packed:
            dt = kernel.dtype
            single = self.typenum == cnp.NPY_FLOAT32
            self.kp = np.empty(pack_size(self.D, self.G * self.U, single), dt)
            self.rp = np.empty(_block_offset(cell, False, self.U, _nblocks(cell, False),
                                             False, single), dt)

    def __call__(self, x, int num_threads, long long max_bytes=-1):
        """max_bytes >= 0: return None rather than allocate buffers past it."""
        cdef cnp.ndarray xa
        cdef cnp.npy_intp dims[3]
        cdef long long B, T, big = 2**31 - 1, U = self.U, GU = self.G * self.U
        cdef void *kd
        cdef void *rd
        cdef void *kpd
        cdef void *rpd
        if type(x) is not np.ndarray:
            return None
        xa = <cnp.ndarray>x
        if (cnp.PyArray_NDIM(xa) != 3 or cnp.PyArray_TYPE(xa) != self.typenum or
                not cnp.PyArray_IS_C_CONTIGUOUS(xa) or not cnp.PyArray_ISBEHAVED_RO(xa) or
                xa.shape[2] != self.D or xa.shape[0] < 1 or xa.shape[1] < 1):
            return None
        B = xa.shape[0]
        T = xa.shape[1]
        if B * T > big or T * max(self.D, GU) > big or B * GU * 2 > big:
            return None
        if max_bytes >= 0 and B * T * (GU + 2 * U) * cnp.PyArray_ITEMSIZE(xa) > max_bytes:
            return None
        dims[0] = B
        dims[1] = T
        dims[2] = GU
        cdef cnp.ndarray gates = cnp.PyArray_EMPTY(3, dims, self.typenum, 0)
        dims[2] = U
        cdef cnp.ndarray hs = cnp.PyArray_EMPTY(3, dims, self.typenum, 0)
        cdef cnp.ndarray extra = cnp.PyArray_EMPTY(3, dims, self.typenum, 0)  # cs or aux
        dims[1] = U
        cdef cnp.ndarray h = cnp.PyArray_ZEROS(2, dims, self.typenum, 0)
        c = cnp.PyArray_ZEROS(2, dims, self.typenum, 0) if self.cell == LSTM else None
        dims[1] = 8 * U
        cdef cnp.ndarray work = cnp.PyArray_EMPTY(2, dims, self.typenum, 0)
        kd = cnp.PyArray_DATA(<cnp.ndarray>self.kernel)
        rd = cnp.PyArray_DATA(<cnp.ndarray>self.recurrent_kernel)
        kpd = rpd = NULL
        if self.packed:
            kpd = cnp.PyArray_DATA(<cnp.ndarray>self.kp)
            rpd = cnp.PyArray_DATA(<cnp.ndarray>self.rp)
        if self.typenum == cnp.NPY_FLOAT32:
            lean_run(self, xa, gates, hs, extra, h, c, work, num_threads,
                     <const float *>kd, <const float *>rd, <float *>kpd, <float *>rpd)
        else:
            lean_run(self, xa, gates, hs, extra, h, c, work, num_threads,
                     <const double *>kd, <const double *>rd, <double *>kpd, <double *>rpd)
        return (hs, h, c) if self.cell == LSTM else (hs, h)


cdef int lean_run(Forward self, cnp.ndarray x, cnp.ndarray gates, cnp.ndarray hs,
                  cnp.ndarray extra, cnp.ndarray h, object c, cnp.ndarray work,
                  int num_threads, const floating *kernel, const floating *rk,
                  floating *kp, floating *rp) except -1:
    """Pack the weights (when kp is given), fill a job and run drive_forward."""
    cdef int B = x.shape[0], T = x.shape[1], D = self.D, U = self.U, GU = self.G * U
    cdef FwdJob j
    cdef int nt = _threads(num_threads, B, <long long>B * T * GU * (D + U))
    cdef bint units = units_apply(self.cell, False, kp != NULL, False, nt, U,
                                  <Py_ssize_t>U * GU * sizeof(floating))
    cdef floating[::1] up
    memset(&j, 0, sizeof(j))
    if units:
        up = np.empty(units_packed_size(self.cell, U, nt, floating is float),
                      np.float32 if floating is float else np.float64)
        j.uslice = unit_slice(U, nt)
        j.upacked = &up[0]
    if kp != NULL:
        with nogil:
            if floating is float:
                fr_pack_f32(0, D, GU, kernel, GU, kp)
            else:
                fr_pack_f64(0, D, GU, kernel, GU, kp)
            if units:
                pack_units(rk, U, self.G, j.uslice, &up[0])
            else:
                pack_rec(rk, U, self.cell, False, False, rp)
    j.sp = _spec(self.cell, T, D, U, self.act, self.ract, False, self.reverse, 1, B)
    j.single = floating is float
    j.B = B
    j.D = D
    j.ntasks = row_tasks(B, nt, <Py_ssize_t>U * GU * sizeof(floating))
    j.x = cnp.PyArray_DATA(x)
    j.kp = kp
    j.bias = cnp.PyArray_DATA(<cnp.ndarray>self.bias) if self.bias is not None else NULL
    j.rk = rk
    j.rbias = (cnp.PyArray_DATA(<cnp.ndarray>self.recurrent_bias)
               if self.recurrent_bias is not None else NULL)
    j.rpacked = rp
    j.gates = cnp.PyArray_DATA(gates)
    j.hs = cnp.PyArray_DATA(hs)
    if self.cell == LSTM:
        j.cs = cnp.PyArray_DATA(extra)
        j.c_state = cnp.PyArray_DATA(<cnp.ndarray>c)
    else:
        j.aux = cnp.PyArray_DATA(extra)
    j.h_state = cnp.PyArray_DATA(h)
    j.work = cnp.PyArray_DATA(work)
    return drive_forward(&j, nt, False, kernel)
