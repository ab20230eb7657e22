# Included by _gates.pyx (one extension module): how a call's work is shared by threads,
# and the Python entry points. Cython `include` is textual; the names used here are
# defined there and in the other .pxi files.
#
# As in _kernel.pyx: a call's work is cut into more tasks than threads -- blocks of batch
# rows, each run through every step of a chunk of steps (rows are independent, so no
# barrier per step), or blocks of rows of a product -- and the threads of
# src/_pool_impl.c claim them one at a time. A thread the OS does not schedule (another
# process keeps the core busy) holds at most one task; the caller runs the rest, so
# threads never make a call much slower than one thread would. Between chunks of about
# CHECK_WORK multiply-adds the entry points run Python's signal handlers (Ctrl-C).

cdef extern from "_pool.h" nogil:
    ctypedef void (*fr_task_fn)(void *ctx, int worker) noexcept nogil
    int fr_pool_run(int nt, fr_task_fn fn, void *ctx)
    long fr_claim(long *counter)

# Below this many multiply-adds per call, one thread beats starting two.
cdef long long PARALLEL_MIN_WORK = 2000000
# Multiply-adds per chunk between two signal checks (2**28: ~5-50 ms on one core). The
# time loop's chunks are STEP_CHUNKS times longer: each chunk ends in a join, where on a
# busy CPU the caller may wait for a helper the OS has paused, so fewer joins.
cdef long long CHECK_WORK = 1 << 28
cdef long long STEP_CHUNKS = 4
# Rows per task of a merged product with a large output (the microkernel's depth block).
cdef Py_ssize_t DEEP_ROWS = 256
# Recurrent weights larger than this (bytes; about an L2 cache) make tasks of more rows,
# so that each pass over the weights serves more rows (see row_tasks).
cdef Py_ssize_t BIG_WEIGHTS = 1 << 20
cdef int PER_SMALL = 4, PER_BIG = 1     # tasks of batch rows per thread (row_tasks)
cdef enum:
    MAX_WORKERS = 64       # the pool's limit (src/_pool_impl.c FR_POOL_MAX)


def parallel_min_work(work=None):
    """The multiply-adds below which a call runs on one thread; set it with an int
    (tests only, to force the threaded paths). Returns the value in force before."""
    global PARALLEL_MIN_WORK
    old = PARALLEL_MIN_WORK
    if work is not None:
        PARALLEL_MIN_WORK = max(0, int(work))
    return old


def check_work(work=None):
    """The multiply-adds between two signal checks; set it with an int (tests only).
    Returns the value in force before."""
    global CHECK_WORK
    old = CHECK_WORK
    if work is not None:
        CHECK_WORK = max(1, int(work))
    return old


cdef inline int _threads(int requested, int B, long long work) noexcept nogil:
    if requested <= 1 or B < 2 or work < PARALLEL_MIN_WORK:
        return 1
    if requested > MAX_WORKERS:
        requested = MAX_WORKERS
    return requested if requested < B else B


cdef inline int row_tasks(int B, int nt, Py_ssize_t wbytes) noexcept nogil:
    """How many tasks of batch rows: 4 per thread (1 with weights past BIG_WEIGHTS: each
    task streams all the weights every step, so there fewer, larger tasks win; measured
    at (32, 50, 512, 1024), 2 tasks per thread took 30% more CPU time), never more than
    B. The rows
    are split evenly (task i has rows i*B//n to (i+1)*B//n), so on an idle CPU every
    thread gets the same share, as fixed slices would."""
    cdef int n = nt * (PER_BIG if wbytes > BIG_WEIGHTS else PER_SMALL)
    if nt <= 1:
        return 1
    return n if n < B else B


cdef inline Py_ssize_t task_rows(Py_ssize_t n, int nt, Py_ssize_t out_bytes) noexcept nogil:
    """Product rows per task: about 4 tasks per thread, at least 48 rows; at least
    DEEP_ROWS when the product's output passes 256 KB -- the weight gradients are summed
    over the rows, and a shallow sum re-reads and re-writes the whole output for little
    work (the microkernel re-reads it every 256 rows anyway)."""
    cdef Py_ssize_t tr
    if nt <= 1 or n <= 48:
        return n if n > 0 else 1
    tr = (n + 4 * nt - 1) // (4 * nt)
    tr = (tr + 5) // 6 * 6
    if out_bytes > (256 << 10) and tr < DEEP_ROWS:
        tr = DEEP_ROWS
    return tr if tr > 48 else 48


cdef inline int merge_slots(int nt, Py_ssize_t part, Py_ssize_t item) noexcept nogil:
    """Partial sums of the weight gradients for the merged products on nt > 1 threads:
    one per task (block of rows) of a chunk, not per thread, so which thread ran which
    block never changes the sums (the same bits from run to run). 4 per thread, fewer when
    they would pass 64 MB (at least nt), at most MAX_WORKERS; 1 for one thread."""
    cdef long long s = 4 * nt
    if nt <= 1:
        return 1
    if s * part * item > (64 << 20):
        s = (64 << 20) // (part * item)
    if s < nt:
        s = nt
    return <int>(s if s < MAX_WORKERS else MAX_WORKERS)


def merge_parts_size(int nt, int D, int U, int G, dtype):
    """Elements of the partial-sum workspace (`part_work`) backward needs on nt threads."""
    cdef Py_ssize_t part = (<Py_ssize_t>D + U + 2) * G * U
    cdef Py_ssize_t item = np.dtype(dtype).itemsize
    return (merge_slots(nt, part, item) - 1) * part


cdef inline Py_ssize_t rows_chunk(Py_ssize_t rows, long long work_per_row, int nt,
                                  Py_ssize_t out_bytes) noexcept nogil:
    """Rows per chunk of a merged product: about CHECK_WORK of work, but with an
    output past 256 KB at least two tasks of DEEP_ROWS per thread."""
    cdef Py_ssize_t rc = chunk_of(rows, work_per_row)
    if out_bytes > (256 << 10) and rc < 2 * DEEP_ROWS * nt:
        rc = 2 * DEEP_ROWS * nt
    return rc if rc < rows else rows


cdef inline Py_ssize_t chunk_of(Py_ssize_t n, long long work_per_item) noexcept nogil:
    """How many of n items (rows, steps) make one chunk of about CHECK_WORK."""
    cdef long long c = CHECK_WORK // (work_per_item if work_per_item > 0 else 1)
    if c < 1:
        c = 1
    return <Py_ssize_t>c if c < n else n


cdef Spec _spec(int cell, int T, int D, int U, int act, int ract, bint zero_output,
                bint reverse, int ngroups, int B):
    cdef Spec sp
    sp.cell = cell
    sp.T = T
    sp.D = D
    sp.U = U
    sp.G = _gates_of(cell)
    sp.act = act
    sp.ract = ract
    sp.zero_output = zero_output
    sp.reverse = reverse
    sp.per_gate = ngroups > 1
    sp.mstride = <Py_ssize_t>B * U
    return sp


# ---------------------------------------------------------------- forward

cdef struct FwdJob:
    Spec sp
    int single
    int B
    int D
    int s0
    int s1
    int ntasks
    Py_ssize_t r0
    Py_ssize_t r1
    Py_ssize_t tr
    const void *x
    const void *kp
    const void *bias
    const void *rk
    const void *rbias
    const void *rpacked
    const void *rec_drop
    const unsigned char *mask
    void *gates
    void *hs
    void *out
    void *cs
    void *aux
    void *h_state
    void *c_state
    void *prev_out
    void *work
    int uslice              # the time loop split by units (_gates_units.pxi): units per
    const void *upacked     # slice and pack_units(rk), or NULL: split by rows
    long next


cdef inline void fproject_rows(FwdJob *j, floating *gates, Py_ssize_t ra,
                               Py_ssize_t rb) noexcept nogil:
    cdef int GU = j.sp.G * j.sp.U
    project(rb - ra, j.D, GU, <const floating *>j.x + ra * j.D, NULL,
            <const floating *>j.kp, <const floating *>j.bias, gates + ra * GU)


cdef void fproject_task(void *ctx, int worker) noexcept nogil:
    """Claim blocks of projection rows (packed kernel) until none is left."""
    cdef FwdJob *j = <FwdJob *>ctx
    cdef Py_ssize_t ra, rb
    cdef unsigned int csr = fr_ftz_on()
    while True:
        ra = j.r0 + <Py_ssize_t>fr_claim(&j.next) * j.tr
        if ra >= j.r1:
            break
        rb = ra + j.tr if j.tr < j.r1 - ra else j.r1
        if j.single:
            fproject_rows(j, <float *>j.gates, ra, rb)
        else:
            fproject_rows(j, <double *>j.gates, ra, rb)
    fr_ftz_restore(csr)


cdef inline void fsteps_rows(FwdJob *j, floating *gates, Py_ssize_t b0,
                             Py_ssize_t b1) noexcept nogil:
    cdef Py_ssize_t U = j.sp.U, T = j.sp.T, GU = j.sp.G * j.sp.U
    cdef const floating *rd = <const floating *>j.rec_drop
    cdef floating *out = <floating *>j.out
    cdef floating *cs = <floating *>j.cs
    cdef floating *aux = <floating *>j.aux
    cdef floating *c_state = <floating *>j.c_state
    cdef floating *prev_out = <floating *>j.prev_out
    gates_forward(&j.sp, <int>(b1 - b0), j.s0, j.s1, <const floating *>j.rk,
                  <const floating *>j.rbias, j.mask + b0 * T if j.mask != NULL else NULL,
                  rd + b0 * U if rd != NULL else NULL, <const floating *>j.rpacked,
                  gates + b0 * T * GU, <floating *>j.hs + b0 * T * U,
                  out + b0 * T * U if out != NULL else NULL,
                  cs + b0 * T * U if cs != NULL else NULL,
                  aux + b0 * T * U if aux != NULL else NULL,
                  <floating *>j.h_state + b0 * U,
                  c_state + b0 * U if c_state != NULL else NULL,
                  prev_out + b0 * U if prev_out != NULL else NULL,
                  <floating *>j.work + b0 * 8 * U)


cdef void fsteps_task(void *ctx, int worker) noexcept nogil:
    """Claim tasks of batch rows and run each through steps s0:s1."""
    cdef FwdJob *j = <FwdJob *>ctx
    cdef Py_ssize_t i, b0, b1
    cdef unsigned int csr = fr_ftz_on()
    while True:
        i = fr_claim(&j.next)
        if i >= j.ntasks:
            break
        b0 = i * j.B // j.ntasks
        b1 = (i + 1) * j.B // j.ntasks
        if j.single:
            fsteps_rows(j, <float *>j.gates, b0, b1)
        else:
            fsteps_rows(j, <double *>j.gates, b0, b1)
    fr_ftz_restore(csr)


def forward(int cell,
            const floating[:, :, ::1] x,          # IN  (B, T, D)
            const floating[:, ::1] kernel,        # IN  (D, G*U)
            const floating[:, ::1] rk,            # IN  (U, G*U)
            const floating[::1] bias,             # IN  (G*U,) input bias, or None
            const floating[::1] rbias,            # IN  (G*U,) GRU reset_after's, or None
            const unsigned char[:, ::1] mask,     # IN  (B, T) or None
            bint zero_output, int act, int ract,
            const floating[:, :, ::1] rec_drop,   # IN  (1 or G, B, U) or None
            floating[:, :, ::1] gates,            # OUT (B, T, G*U) (IN: the projection
                                                  #     when projected)
            floating[:, :, ::1] hs,               # OUT (B, T, U)
            floating[:, :, ::1] out,              # OUT (B, T, U) with a mask, else None
            floating[:, :, ::1] cs,               # OUT (B, T, U) LSTM, else None
            floating[:, :, ::1] aux,              # OUT (B, T, U) GRU, else None
            floating[:, ::1] h_state,             # IN/OUT (B, U)
            floating[:, ::1] c_state,             # IN/OUT (B, U) LSTM, else None
            floating[:, ::1] prev_out,            # IN/OUT (B, U) with a mask, else None
            floating[:, ::1] work,                # WORK (B, WORK_UNITS * U)
            const floating[::1] kpacked=None,     # IN  pack(kernel), or None: BLAS
            const floating[::1] rpacked=None,     # IN  pack_recurrent(rk, ...), or None
            bint projected=False, int num_threads=1, bint reverse=False):
    """Run one direction of an LSTM or GRU with the GIL released (between signal
    checks), its tasks shared by up to num_threads threads. Shapes are trusted
    (fastrnn.functional checks them). An exception from a signal handler
    (KeyboardInterrupt) leaves the outputs and states part-written."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], U = rk.shape[0]
    cdef int GU = rk.shape[1], ng = rec_drop.shape[0] if rec_drop is not None else 1
    if B == 0:
        return
    cdef int nt = _threads(num_threads, B, <long long>B * T * GU * (D + U))
    cdef FwdJob j
    memset(&j, 0, sizeof(j))
    j.sp = _spec(cell, T, D, U, act, ract, zero_output, reverse, ng, B)
    j.single = floating is float
    j.B = B
    j.D = D
    j.ntasks = row_tasks(B, nt, <Py_ssize_t>U * GU * sizeof(floating))
    j.x = &x[0, 0, 0]
    j.kp = &kpacked[0] if kpacked is not None else NULL
    j.bias = &bias[0] if bias is not None else NULL
    j.rk = &rk[0, 0]
    j.rbias = &rbias[0] if rbias is not None else NULL
    j.rpacked = &rpacked[0] if rpacked is not None else NULL
    j.rec_drop = &rec_drop[0, 0, 0] if rec_drop is not None else NULL
    j.mask = &mask[0, 0] if mask is not None else NULL
    j.gates = &gates[0, 0, 0]
    j.hs = &hs[0, 0, 0]
    j.out = &out[0, 0, 0] if out is not None else NULL
    j.cs = &cs[0, 0, 0] if cs is not None else NULL
    j.aux = &aux[0, 0, 0] if aux is not None else NULL
    j.h_state = &h_state[0, 0]
    j.c_state = &c_state[0, 0] if c_state is not None else NULL
    j.prev_out = &prev_out[0, 0] if prev_out is not None else NULL
    j.work = &work[0, 0]
    cdef floating[::1] up
    if units_apply(cell, ng > 1, rpacked is not None, rec_drop is not None, nt, U,
                   <Py_ssize_t>U * GU * sizeof(floating)):
        up = np.empty(units_packed_size(cell, U, nt, floating is float),
                      np.float32 if floating is float else np.float64)
        j.uslice = unit_slice(U, nt)
        with nogil:
            pack_units(&rk[0, 0], U, j.sp.G, j.uslice, &up[0])
        j.upacked = &up[0]
    drive_forward(&j, nt, projected, &kernel[0, 0])


cdef int drive_forward(FwdJob *j, int nt, bint projected, const void *kernel) except -1:
    """The forward of a filled job: the projection (unless projected) by rows, then the
    steps, in chunks with the GIL released, Python's signal handlers between them."""
    cdef int T = j.sp.T, U = j.sp.U, D = j.D, GU = j.sp.G * j.sp.U
    cdef Py_ssize_t rows = <Py_ssize_t>j.B * T, r0 = 0, r1, rc, s0 = 0, s1, sc
    cdef unsigned int csr
    # gates = bias + x @ kernel          (one product over all B*T rows, in chunks)
    rc = chunk_of(rows, <long long>D * GU + GU)
    while not projected and r0 < rows:
        r1 = r0 + rc if rc < rows - r0 else rows
        if j.kp == NULL:
            with nogil:
                csr = fr_ftz_on()
                if j.single:
                    project(r1 - r0, D, GU, <const float *>j.x + r0 * D,
                            <const float *>kernel, NULL, <const float *>j.bias,
                            <float *>j.gates + r0 * GU)
                else:
                    project(r1 - r0, D, GU, <const double *>j.x + r0 * D,
                            <const double *>kernel, NULL, <const double *>j.bias,
                            <double *>j.gates + r0 * GU)
                fr_ftz_restore(csr)
        else:
            j.r0 = r0
            j.r1 = r1
            j.tr = task_rows(r1 - r0, nt, 0)
            j.next = 0
            with nogil:
                fr_pool_run(nt, fproject_task, j)
        PyErr_CheckSignals()
        r0 = r1
    if j.upacked != NULL:
        return drive_units(j, nt)
    # the steps, s0:s1 at a time, tasks of batch rows
    sc = chunk_of(T, <long long>j.B * GU * (U + 16) // STEP_CHUNKS)
    while s0 < T:
        s1 = s0 + sc if sc < T - s0 else T
        j.s0 = <int>s0
        j.s1 = <int>s1
        j.next = 0
        with nogil:
            fr_pool_run(nt, fsteps_task, j)
        PyErr_CheckSignals()
        s0 = s1
    return 0


# ---------------------------------------------------------------- backward

cdef struct BwdJob:
    Spec sp
    int single
    int B
    int s_lo
    int s_hi
    int ntasks
    int merge_input
    Py_ssize_t r0
    Py_ssize_t r1
    Py_ssize_t tr
    Py_ssize_t panel        # elements of pack(d_pre) per row
    Py_ssize_t part         # elements of one block's partial sums
    const void *x
    const void *rk
    const void *rkT
    const void *kT
    const unsigned char *mask
    const void *rec_drop
    const void *gates
    const void *hs
    const void *cs
    const void *aux
    const void *h0
    const void *c0
    const void *d_out
    const void *d_h
    const void *d_c
    void *d_h0
    void *d_c0
    void *d_pre
    void *d_rec
    void *d_carry
    void *wk
    void *h_prev
    void *dpp
    void *dx
    void *d_kernel
    void *d_rk
    void *d_bias
    void *d_rbias
    void *parts             # blocks 1.. : (slots - 1) partial sums [d_kernel, d_rk, d_bias,
                            # d_rbias]; block 0 of each chunk adds to the outputs
    int slots
    int zeroed[MAX_WORKERS]
    long next


cdef inline void bsteps_rows(BwdJob *j, floating *d_pre, Py_ssize_t b0,
                             Py_ssize_t b1) noexcept nogil:
    cdef Py_ssize_t U = j.sp.U, T = j.sp.T, GU = j.sp.G * j.sp.U
    cdef const floating *rd = <const floating *>j.rec_drop
    cdef const floating *cs = <const floating *>j.cs
    cdef const floating *aux = <const floating *>j.aux
    cdef const floating *c0 = <const floating *>j.c0
    cdef const floating *d_out = <const floating *>j.d_out
    cdef const floating *d_h = <const floating *>j.d_h
    cdef const floating *d_c = <const floating *>j.d_c
    cdef floating *d_c0 = <floating *>j.d_c0
    cdef floating *d_rec = <floating *>j.d_rec
    gates_backward_steps(&j.sp, <int>(b1 - b0), j.s_lo, j.s_hi, <const floating *>j.rk,
                         <const floating *>j.rkT, j.mask + b0 * T if j.mask != NULL else NULL,
                         rd + b0 * U if rd != NULL else NULL,
                         <const floating *>j.gates + b0 * T * GU,
                         <const floating *>j.hs + b0 * T * U,
                         cs + b0 * T * U if cs != NULL else NULL,
                         aux + b0 * T * U if aux != NULL else NULL,
                         <const floating *>j.h0 + b0 * U,
                         c0 + b0 * U if c0 != NULL else NULL,
                         d_out + b0 * T * U if d_out != NULL else NULL,
                         d_h + b0 * U if d_h != NULL else NULL,
                         d_c + b0 * U if d_c != NULL else NULL,
                         <floating *>j.d_h0 + b0 * U,
                         d_c0 + b0 * U if d_c0 != NULL else NULL, d_pre + b0 * T * GU,
                         d_rec + b0 * T * GU if d_rec != NULL else NULL,
                         <floating *>j.d_carry + b0 * U, <floating *>j.wk + b0 * 8 * U)


cdef void bsteps_task(void *ctx, int worker) noexcept nogil:
    """Claim tasks of batch rows and run each back through steps s_hi-1 .. s_lo."""
    cdef BwdJob *j = <BwdJob *>ctx
    cdef Py_ssize_t i, b0, b1
    cdef unsigned int csr = fr_ftz_on()
    while True:
        i = fr_claim(&j.next)
        if i >= j.ntasks:
            break
        b0 = i * j.B // j.ntasks
        b1 = (i + 1) * j.B // j.ntasks
        if j.single:
            bsteps_rows(j, <float *>j.d_pre, b0, b1)
        else:
            bsteps_rows(j, <double *>j.d_pre, b0, b1)
    fr_ftz_restore(csr)


cdef inline void bmerge_rows(BwdJob *j, floating *dx, Py_ssize_t ra, Py_ssize_t rb,
                             Py_ssize_t slot) noexcept nogil:
    cdef Py_ssize_t U = j.sp.U, D = j.sp.D, GU = j.sp.G * j.sp.U
    cdef floating *dk = <floating *>j.d_kernel
    cdef floating *dr = <floating *>j.d_rk
    cdef floating *db = <floating *>j.d_bias
    cdef floating *drb = <floating *>j.d_rbias
    cdef floating *p
    if slot > 0:
        p = <floating *>j.parts + (slot - 1) * j.part
        if not j.zeroed[slot]:
            memset(p, 0, j.part * sizeof(floating))
            j.zeroed[slot] = 1
        dk = p
        dr = dk + D * GU
        db = dr + U * GU
        drb = db + GU if drb != NULL else NULL
    merge_rows(&j.sp, ra, rb, <const floating *>j.x, <const floating *>j.kT,
               <const floating *>j.h0, <const floating *>j.hs, <const floating *>j.aux,
               <const floating *>j.rec_drop, <const floating *>j.d_pre,
               <const floating *>j.d_rec, <floating *>j.h_prev,
               <floating *>j.dpp + ra * j.panel, dx, dk, dr, db, drb, j.merge_input)


cdef void bmerge_task(void *ctx, int worker) noexcept nogil:
    """Claim blocks of rows of the merged products; block k of a chunk adds its weight
    gradients to partial sum k (block 0: the outputs), whichever thread runs it."""
    cdef BwdJob *j = <BwdJob *>ctx
    cdef Py_ssize_t ra, rb, k
    cdef unsigned int csr = fr_ftz_on()
    while True:
        k = <Py_ssize_t>fr_claim(&j.next)
        ra = j.r0 + k * j.tr
        if ra >= j.r1:
            break
        rb = ra + j.tr if j.tr < j.r1 - ra else j.r1
        if j.single:
            bmerge_rows(j, <float *>j.dx, ra, rb, k if j.slots > 1 else 0)
        else:
            bmerge_rows(j, <double *>j.dx, ra, rb, k if j.slots > 1 else 0)
    fr_ftz_restore(csr)


cdef void add_parts(BwdJob *j, int nt, floating *d_kernel, floating *d_rk,
                    floating *d_bias, floating *d_rbias) noexcept nogil:
    """The outputs += the partial sums of the blocks past 0 that ran, in block order."""
    cdef Py_ssize_t U = j.sp.U, D = j.sp.D, GU = j.sp.G * j.sp.U, i
    cdef int w
    cdef const floating *p
    for w in range(1, j.slots):
        if not j.zeroed[w]:
            continue
        p = <const floating *>j.parts + (w - 1) * j.part
        if j.merge_input:
            for i in range(D * GU):
                d_kernel[i] = d_kernel[i] + p[i]
            for i in range(GU):
                d_bias[i] = d_bias[i] + p[D * GU + U * GU + i]
        p = p + D * GU
        for i in range(U * GU):
            d_rk[i] = d_rk[i] + p[i]
        if d_rbias != NULL:
            p = p + U * GU + GU
            for i in range(GU):
                d_rbias[i] = d_rbias[i] + p[i]
