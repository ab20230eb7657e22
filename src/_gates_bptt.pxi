# Included by _gates.pyx (one extension module): backpropagation through time, the
# per-step loop and the merged weight/input gradients, and its entry point.

cdef void gates_backward_steps(const Spec *sp, int B, int s_lo, int s_hi, const floating *rk,
                               const floating *rkT_packed, const unsigned char *mask,
                               const floating *rec_drop, const floating *gates,
                               const floating *hs, const floating *cs, const floating *aux,
                               const floating *h0, const floating *c_init,
                               const floating *d_out, const floating *d_h,
                               const floating *d_c, floating *dh, floating *dc,
                               floating *d_pre, floating *d_rec, floating *d_carry,
                               floating *wk) noexcept nogil:
    """The per-step half of BPTT for B independent rows, steps s_hi-1 down to s_lo (the
    call with s_hi == T starts it; dh, dc and d_carry carry it between calls). d_out
    (B, T, U), d_h, d_c (B, U) are the upstream gradients (any may be NULL). Writes d_pre
    (B, T, G*U), the gradient of the gates' pre-activations (for GRU reset_after, of the
    input parts), d_rec (B, T, 3U) for GRU reset_after (of the recurrent parts
    h @ U + rb), and dh, dc (B, U): the gradients of the initial states. wk (B, 8U)
    scratch."""
    cdef int U = sp.U, GU = sp.G * sp.U, T = sp.T
    cdef int ldg = T * GU, ldh = T * U, nb = _nblocks(sp.cell, sp.per_gate)
    cdef int k, c0, n, nz
    cdef Py_ssize_t b, s, t, tp, j, r
    cdef bint single = floating is float, on, first
    cdef floating *pd = wk                          # (B, U) the product dL/dh_prev
    cdef floating *tmp = wk + <Py_ssize_t>B * U     # (B, U)
    cdef floating *base = wk + 2 * <Py_ssize_t>B * U  # (B, U) dL/dh_prev outside products
    cdef floating *drh = wk + 3 * <Py_ssize_t>B * U   # (B, U) GRU: d(aux)
    cdef floating *gc = wk + 4 * <Py_ssize_t>B * U    # (B, G*U) what the step's products
                                                      # read, compact
    cdef const floating *z
    cdef const floating *hp
    cdef const floating *cp
    cdef const floating *src
    cdef const floating *m
    cdef const floating *pk
    cdef floating *g
    cdef floating *dr
    cdef floating *dhr
    cdef floating *ac
    cdef floating v
    if s_hi == T:
        if d_h != NULL:
            memcpy(dh, d_h, <Py_ssize_t>B * U * sizeof(floating))
        else:
            memset(dh, 0, <Py_ssize_t>B * U * sizeof(floating))
        if sp.cell == LSTM:
            if d_c != NULL:
                memcpy(dc, d_c, <Py_ssize_t>B * U * sizeof(floating))
            else:
                memset(dc, 0, <Py_ssize_t>B * U * sizeof(floating))
        if mask != NULL:
            memset(d_carry, 0, <Py_ssize_t>B * U * sizeof(floating))
    for s in range(s_hi - 1, s_lo - 1, -1):
        t = T - 1 - s if sp.reverse else s
        tp = t + 1 if sp.reverse else t - 1
        for b in range(B):
            z = gates + b * ldg + t * GU
            g = d_pre + b * ldg + t * GU
            hp = h0 + b * U if s == 0 else hs + b * ldh + tp * U
            dhr = dh + b * U
            on = mask == NULL or mask[b * T + t]
            if not on:
                # a masked step passes the state gradients through untouched
                memset(g, 0, GU * sizeof(floating))
                memset(gc + b * GU, 0, GU * sizeof(floating))
                if sp.cell == GRU_AFTER:
                    memset(d_rec + b * ldg + t * GU, 0, GU * sizeof(floating))
                if sp.zero_output:
                    memset(d_carry + b * U, 0, U * sizeof(floating))
                elif d_out != NULL:
                    src = d_out + b * ldh + t * U
                    for j in range(U):
                        d_carry[b * U + j] = d_carry[b * U + j] + src[j]
                continue
            # tmp[b] = dL/dh_t = dh + d_out[:, t] (+ d_carry)
            ac = tmp + b * U
            for j in range(U):
                ac[j] = dhr[j]
            if d_out != NULL:
                src = d_out + b * ldh + t * U
                for j in range(U):
                    ac[j] = ac[j] + src[j]
            if mask != NULL:
                for j in range(U):
                    ac[j] = ac[j] + d_carry[b * U + j]
                    d_carry[b * U + j] = 0
            if sp.cell == LSTM:
                cp = c_init + b * U if s == 0 else cs + b * ldh + tp * U
                dr = base + b * U     # act(c_t)
                src = cs + b * ldh + t * U
                for j in range(U):
                    dr[j] = src[j]
                gact(sp.act, dr, U)
                # d_o = dh_t * act(c_t) ; dc_t = dc + dh_t * o * act'(c_t)
                for j in range(U):
                    g[3 * U + j] = ac[j] * dr[j]
                    ac[j] = ac[j] * z[3 * U + j]
                gdact(sp.act, dr, ac, U)
                for j in range(U):
                    v = dc[b * U + j] + ac[j]
                    g[j] = v * z[2 * U + j]
                    g[U + j] = v * cp[j]
                    g[2 * U + j] = v * z[j]
                    dc[b * U + j] = v * z[U + j]
                gdact(sp.ract, z, g, 2 * U)
                gdact(sp.act, z + 2 * U, g + 2 * U, U)
                gdact(sp.ract, z + 3 * U, g + 3 * U, U)
                memcpy(gc + b * GU, g, GU * sizeof(floating))
            else:
                # d_hh = dh_t * (1 - z) ; d_z = dh_t * (h_prev - hh) ; base = dh_t * z
                for j in range(U):
                    g[2 * U + j] = ac[j] * (1 - z[j])
                    g[j] = ac[j] * (hp[j] - z[2 * U + j])
                    base[b * U + j] = ac[j] * z[j]
                gdact(sp.act, z + 2 * U, g + 2 * U, U)
                gdact(sp.ract, z, g, U)
                if sp.cell == GRU_AFTER:
                    # d_r = d_hh' * (h @ U_h + rb_h); recurrent parts: z, r, d_hh' * r
                    src = aux + b * ldh + t * U
                    dr = d_rec + b * ldg + t * GU
                    for j in range(U):
                        g[U + j] = g[2 * U + j] * src[j]
                        dr[2 * U + j] = g[2 * U + j] * z[U + j]
                    gdact(sp.ract, z + U, g + U, U)
                    memcpy(dr, g, 2 * U * sizeof(floating))
                    memcpy(gc + b * GU, dr, GU * sizeof(floating))
                else:
                    memcpy(gc + b * GU + 2 * U, g + 2 * U, U * sizeof(floating))
        if sp.cell == GRU_BEFORE:
            # drh = d_hh' @ U_h.T       (the h gate's product, through aux = r * h * m_h)
            pk = rkT_packed + _block_offset(sp.cell, sp.per_gate, U, nb - 1, True, single) \
                if rkT_packed != NULL else NULL
            rec_block_t(B, U, U, gc + 2 * U, GU, rk + 2 * U, GU, pk, NULL, drh, True, tmp)
            m = _mask_of(sp, rec_drop, 2)
            for b in range(B):
                if mask != NULL and not mask[b * T + t]:
                    continue
                z = gates + b * ldg + t * GU
                g = d_pre + b * ldg + t * GU
                hp = h0 + b * U if s == 0 else hs + b * ldh + tp * U
                # d_r = drh * h_prev * m_h ; base += drh * r * m_h
                for j in range(U):
                    v = drh[b * U + j] * (m[b * U + j] if m != NULL else 1)
                    g[U + j] = v * hp[j]
                    base[b * U + j] = base[b * U + j] + v * z[U + j]
                gdact(sp.ract, z + U, g + U, U)
                memcpy(gc + b * GU, g, 2 * U * sizeof(floating))
        # pd = sum over blocks of (d @ U_block.T) * m_block      (d_rec for reset_after)
        first = True
        for k in range(nb):
            _block(sp.cell, sp.per_gate, U, k, &c0, &n)
            if sp.cell == GRU_BEFORE and c0 == 2 * U:
                continue
            pk = rkT_packed + _block_offset(sp.cell, sp.per_gate, U, k, True, single) \
                if rkT_packed != NULL else NULL
            rec_block_t(B, U, n, gc + c0, GU, rk + c0, GU, pk, _mask_of(sp, rec_drop, k), pd,
                        first, tmp)
            first = False
        for b in range(B):
            if mask != NULL and not mask[b * T + t]:
                continue
            if sp.cell == LSTM:
                memcpy(dh + b * U, pd + b * U, U * sizeof(floating))
            else:
                for j in range(U):
                    dh[b * U + j] = pd[b * U + j] + base[b * U + j]


cdef void fill_h_prev(const Spec *sp, Py_ssize_t ra, Py_ssize_t rb, const floating *h0,
                      const floating *hs, const floating *m, floating *h_prev) noexcept nogil:
    """Rows ra:rb of h_prev (B*T, U): h_prev[b*T + t] = the state before step t, times
    m (B, U) if given."""
    cdef int U = sp.U, T = sp.T
    cdef Py_ssize_t r, b, s, t, tp, j, ldh = <Py_ssize_t>T * U
    cdef const floating *src
    cdef floating *dst
    for r in range(ra, rb):
        b = r // T
        t = r - b * T
        s = T - 1 - t if sp.reverse else t
        tp = t + 1 if sp.reverse else t - 1
        src = h0 + b * U if s == 0 else hs + b * ldh + tp * U
        dst = h_prev + r * U
        if m != NULL:
            for j in range(U):
                dst[j] = src[j] * m[b * U + j]
        else:
            memcpy(dst, src, U * sizeof(floating))


cdef void col_sum_add(Py_ssize_t rows, int n, const floating *a, int lda,
                      floating *out) noexcept nogil:
    """out += a[:rows, :n].sum(rows)"""
    cdef Py_ssize_t r, j
    for r in range(rows):
        for j in range(n):
            out[j] = out[j] + a[r * lda + j]


cdef inline void packed_mm(int m, int n, int k, const floating *a, Py_ssize_t rs,
                           Py_ssize_t cs, const floating *bp, floating *c, int ldc,
                           bint add) noexcept nogil:
    """C (=|+=) A @ Bp on the microkernel (C not read without add)."""
    if floating is float:
        if add:
            fr_gemm_packed_f32(m, n, k, a, rs, cs, bp, c, ldc)
        else:
            fr_gemm_packed_set_f32(m, n, k, a, rs, cs, bp, c, ldc, NULL)
    else:
        if add:
            fr_gemm_packed_f64(m, n, k, a, rs, cs, bp, c, ldc)
        else:
            fr_gemm_packed_set_f64(m, n, k, a, rs, cs, bp, c, ldc, NULL)


cdef inline void pack_rows(int rows, int n, const floating *b, int ldb,
                           floating *bp) noexcept nogil:
    if floating is float:
        fr_pack_f32(0, rows, n, b, ldb, bp)
    else:
        fr_pack_f64(0, rows, n, b, ldb, bp)


cdef void merge_rows(const Spec *sp, Py_ssize_t ra, Py_ssize_t rb, const floating *x,
                     const floating *kT_packed, const floating *h0, const floating *hs,
                     const floating *aux, const floating *rec_drop, const floating *d_pre,
                     const floating *d_rec, floating *h_prev, floating *dp_packed,
                     floating *dx, floating *d_kernel, floating *d_rk, floating *d_bias,
                     floating *d_rbias, bint merge_input) noexcept nogil:
    """The merged half of BPTT for rows ra:rb of the B*T rows on the microkernel: these
    rows' shares are added to d_kernel, d_rk, d_bias and d_rbias, and dx's rows written.
    dp_packed: room for pack(d_pre[ra:rb]); h_prev (B*T, U) scratch (rows ra:rb used)."""
    cdef int U = sp.U, GU = sp.G * sp.U, D = sp.D, rows = <int>(rb - ra)
    cdef int k, c0, n, nb = _nblocks(sp.cell, sp.per_gate)
    cdef const floating *d = (d_rec if sp.cell == GRU_AFTER else d_pre) + ra * GU
    cdef const floating *dpr = d_pre + ra * GU
    cdef const floating *m
    cdef bint filled = False, whole = sp.cell != GRU_AFTER and nb == 1
    # d_rk[:, block] += (h_prev * m_block).T @ d[:, block]    (aux.T @ d[:, h] for GRU
    # reset_after=False's h block)
    for k in range(nb):
        _block(sp.cell, sp.per_gate, U, k, &c0, &n)
        pack_rows(rows, n, d + c0, GU, dp_packed)
        if sp.cell == GRU_BEFORE and c0 == 2 * U:
            packed_mm(U, n, rows, aux + ra * U, 1, U, dp_packed, d_rk + c0, GU, True)
            continue
        m = _mask_of(sp, rec_drop, k)
        if m != NULL or not filled:
            fill_h_prev(sp, ra, rb, h0, hs, m, h_prev)
            filled = m == NULL
        packed_mm(U, n, rows, h_prev + ra * U, 1, U, dp_packed, d_rk + c0, GU, True)
    if d_rbias != NULL:
        col_sum_add(rows, GU, d_rec + ra * GU, GU, d_rbias)
    if merge_input:
        # d_kernel += x.T @ d_pre ; dx = d_pre @ kernel.T ; d_bias += d_pre.sum(rows)
        if not whole:
            pack_rows(rows, GU, dpr, GU, dp_packed)
        packed_mm(D, GU, rows, x + ra * D, 1, D, dp_packed, d_kernel, GU, True)
        packed_mm(rows, D, GU, dpr, GU, 1, kT_packed, dx + ra * D, D, False)
        col_sum_add(rows, GU, dpr, GU, d_bias)


cdef void merge_blas(const Spec *sp, int B, const floating *x, const floating *kernel,
                     const floating *h0, const floating *hs, const floating *aux,
                     const floating *rec_drop, const floating *d_pre,
                     const floating *d_rec, floating *h_prev, floating *dx,
                     floating *d_kernel, floating *d_rk, floating *d_bias,
                     floating *d_rbias, bint merge_input) noexcept nogil:
    """merge_rows over all B*T rows on BLAS (which may thread itself): the outputs are
    overwritten."""
    cdef int U = sp.U, GU = sp.G * sp.U, D = sp.D, rows = B * sp.T
    cdef int k, c0, n, nb = _nblocks(sp.cell, sp.per_gate)
    cdef const floating *d = d_rec if sp.cell == GRU_AFTER else d_pre
    cdef const floating *m
    cdef bint filled = False
    for k in range(nb):
        _block(sp.cell, sp.per_gate, U, k, &c0, &n)
        if sp.cell == GRU_BEFORE and c0 == 2 * U:
            gemm(True, False, U, n, rows, <floating>1, aux, U, d + c0, GU, <floating>0,
                 d_rk + c0, GU)
            continue
        m = _mask_of(sp, rec_drop, k)
        if m != NULL or not filled:
            fill_h_prev(sp, 0, rows, h0, hs, m, h_prev)
            filled = m == NULL
        gemm(True, False, U, n, rows, <floating>1, h_prev, U, d + c0, GU, <floating>0,
             d_rk + c0, GU)
    if d_rbias != NULL:
        memset(d_rbias, 0, GU * sizeof(floating))
        col_sum_add(rows, GU, d_rec, GU, d_rbias)
    if merge_input:
        gemm(True, False, D, GU, rows, <floating>1, x, D, d_pre, GU, <floating>0, d_kernel,
             GU)
        gemm(False, True, rows, D, GU, <floating>1, d_pre, GU, kernel, GU, <floating>0, dx,
             D)
        memset(d_bias, 0, GU * sizeof(floating))
        col_sum_add(rows, GU, d_pre, GU, d_bias)


def backward(int cell,
             const floating[:, :, ::1] x,          # IN  (B, T, D)
             const floating[:, ::1] kernel,        # IN  (D, G*U)
             const floating[:, ::1] rk,            # IN  (U, G*U)
             const unsigned char[:, ::1] mask,     # IN  (B, T) or None
             bint zero_output, int act, int ract,
             const floating[:, :, ::1] rec_drop,   # IN  (1 or G, B, U) or None
             const floating[:, :, ::1] gates,      # IN  (B, T, G*U) from forward
             const floating[:, :, ::1] hs,         # IN  (B, T, U) from forward
             const floating[:, :, ::1] cs,         # IN  (B, T, U) LSTM, else None
             const floating[:, :, ::1] aux,        # IN  (B, T, U) GRU, else None
             const floating[:, ::1] h0,            # IN  (B, U)
             const floating[:, ::1] c0,            # IN  (B, U) LSTM, else None
             const floating[:, :, ::1] d_out,      # IN  (B, T, U) or None
             const floating[:, ::1] d_h,           # IN  (B, U) or None
             const floating[:, ::1] d_c,           # IN  (B, U) or None
             floating[:, :, ::1] dx,               # OUT (B, T, D) (merge_input only)
             floating[:, ::1] d_kernel,            # OUT (D, G*U) (merge_input only)
             floating[:, ::1] d_rk,                # OUT (U, G*U)
             floating[::1] d_bias,                 # OUT (G*U,) (merge_input only)
             floating[::1] d_rbias,                # OUT (G*U,) GRU reset_after, else None
             floating[:, ::1] d_h0,                # OUT (B, U)
             floating[:, ::1] d_c0,                # OUT (B, U) LSTM, else None
             floating[:, :, ::1] d_pre,            # OUT (B, T, G*U) gate pre-activations
             floating[:, :, ::1] d_rec,            # WORK (B, T, G*U) GRU reset_after
             floating[:, :, ::1] h_prev,           # WORK (B, T, U)
             floating[:, ::1] d_carry,             # WORK (B, U)
             floating[:, ::1] wk,                  # WORK (B, WORK_UNITS * U)
             const floating[::1] rkT_packed=None,  # IN  pack_recurrent(rk, transpose)
             bint merge_input=True, int num_threads=1, bint reverse=False,
             const floating[::1] kT_packed=None,   # IN  pack(kernel, True) (merge_input)
             floating[::1] dp_work=None,           # WORK packed_size(B*T, G*U), or None
             floating[::1] part_work=None):        # WORK (num_threads - 1) *
                                                   #   (D + U + 2) * G*U, or None
    """BPTT with the GIL released (between signal checks): the per-step loop as tasks of
    batch rows shared by up to num_threads threads, then the weight (and, with
    merge_input, input and bias) gradients as products over all B*T rows: with dp_work,
    on the microkernel as tasks of rows (each thread's sums added); else on BLAS.
    Shapes are trusted (fastrnn.functional checks them)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], U = rk.shape[0]
    cdef int GU = rk.shape[1], ng = rec_drop.shape[0] if rec_drop is not None else 1
    if B == 0:  # no rows: the weight gradients are zeros
        d_kernel[:, :] = 0
        d_rk[:, :] = 0
        d_bias[:] = 0
        if d_rbias is not None:
            d_rbias[:] = 0
        return
    cdef Py_ssize_t rows = <Py_ssize_t>B * T, r0 = 0, r1, rc, s_hi = T, s_lo, sc, out_bytes
    cdef int nt = _threads(num_threads, B, <long long>B * T * GU * U)
    cdef unsigned int csr
    cdef bint packed = dp_work is not None
    cdef floating[::1] parts = None
    cdef BwdJob j
    memset(&j, 0, sizeof(j))
    j.sp = _spec(cell, T, D, U, act, ract, zero_output, reverse, ng, B)
    j.single = floating is float
    j.B = B
    j.ntasks = row_tasks(B, nt, <Py_ssize_t>U * GU * sizeof(floating))
    j.merge_input = merge_input
    j.panel = pack_size(1, GU, floating is float)
    j.part = <Py_ssize_t>D * GU + <Py_ssize_t>U * GU + 2 * GU
    j.x = &x[0, 0, 0]
    j.rk = &rk[0, 0]
    j.rkT = &rkT_packed[0] if rkT_packed is not None else NULL
    j.kT = &kT_packed[0] if kT_packed is not None else NULL
    j.mask = &mask[0, 0] if mask is not None else NULL
    j.rec_drop = &rec_drop[0, 0, 0] if rec_drop is not None else NULL
    j.gates = &gates[0, 0, 0]
    j.hs = &hs[0, 0, 0]
    j.cs = &cs[0, 0, 0] if cs is not None else NULL
    j.aux = &aux[0, 0, 0] if aux is not None else NULL
    j.h0 = &h0[0, 0]
    j.c0 = &c0[0, 0] if c0 is not None else NULL
    j.d_out = &d_out[0, 0, 0] if d_out is not None else NULL
    j.d_h = &d_h[0, 0] if d_h is not None else NULL
    j.d_c = &d_c[0, 0] if d_c is not None else NULL
    j.d_h0 = &d_h0[0, 0]
    j.d_c0 = &d_c0[0, 0] if d_c0 is not None else NULL
    j.d_pre = &d_pre[0, 0, 0]
    j.d_rec = &d_rec[0, 0, 0] if d_rec is not None else NULL
    j.d_carry = &d_carry[0, 0]
    j.wk = &wk[0, 0]
    j.h_prev = &h_prev[0, 0, 0]
    j.dpp = &dp_work[0] if packed else NULL
    j.dx = &dx[0, 0, 0]
    j.d_kernel = &d_kernel[0, 0]
    j.d_rk = &d_rk[0, 0]
    j.d_bias = &d_bias[0]
    j.d_rbias = &d_rbias[0] if d_rbias is not None else NULL
    # the reverse time loop, s_lo:s_hi at a time, blocks of batch rows as tasks
    sc = chunk_of(T, <long long>B * GU * (U + 16) // STEP_CHUNKS)
    while s_hi > 0:
        s_lo = s_hi - sc if sc < s_hi else 0
        j.s_lo = <int>s_lo
        j.s_hi = <int>s_hi
        j.next = 0
        with nogil:
            fr_pool_run(nt, bsteps_task, &j)
        PyErr_CheckSignals()
        s_hi = s_lo
    if not packed:
        with nogil:
            csr = fr_ftz_on()
            merge_blas(&j.sp, B, &x[0, 0, 0], &kernel[0, 0], &h0[0, 0], &hs[0, 0, 0],
                       <const floating *>j.aux, <const floating *>j.rec_drop,
                       &d_pre[0, 0, 0], <const floating *>j.d_rec, &h_prev[0, 0, 0],
                       &dx[0, 0, 0], &d_kernel[0, 0], &d_rk[0, 0], &d_bias[0],
                       <floating *>j.d_rbias, merge_input)
            fr_ftz_restore(csr)
        return
    # the merged products, rows r0:r1 at a time; worker 0 adds to the (zeroed) outputs,
    # the others to their partial sums
    d_rk[:, :] = 0
    if d_rbias is not None:
        d_rbias[:] = 0
    if merge_input:
        d_kernel[:, :] = 0
        d_bias[:] = 0
    j.slots = merge_slots(nt, j.part, sizeof(floating))
    if j.slots > 1:
        # the partial sums of blocks 1.. of each chunk
        if part_work is not None and part_work.shape[0] >= (j.slots - 1) * j.part:
            parts = part_work
        else:
            parts = np.empty((j.slots - 1) * j.part,
                             np.float32 if floating is float else np.float64)
        j.parts = &parts[0]
    out_bytes = (<Py_ssize_t>U * GU + <Py_ssize_t>D * GU) * sizeof(floating)
    rc = rows_chunk(rows, <long long>U * GU + 2 * <long long>D * GU, nt, out_bytes)
    while r0 < rows:
        r1 = r0 + rc if rc < rows - r0 else rows
        j.r0 = r0
        j.r1 = r1
        j.tr = task_rows(r1 - r0, nt, out_bytes)
        if j.slots > 1 and (r1 - r0 + j.tr - 1) // j.tr > j.slots:
            # no more blocks than partial sums: whole 6-row tiles
            j.tr = ((r1 - r0 + j.slots - 1) // j.slots + 5) // 6 * 6
        j.next = 0
        with nogil:
            fr_pool_run(nt, bmerge_task, &j)
        PyErr_CheckSignals()
        r0 = r1
    with nogil:
        add_parts(&j, nt, &d_kernel[0, 0], &d_rk[0, 0], &d_bias[0], <floating *>j.d_rbias)
