# Included by _gates.pyx (one extension module): backpropagation through time, the
# per-step loop and the merged weight/input gradients, and its entry point.

cdef void gates_backward_steps(const Spec *sp, int B, const floating *rk,
                               const floating *rkT_packed, const unsigned char *mask,
                               const floating *rec_drop, const floating *gates,
                               const floating *hs, const floating *cs, const floating *aux,
                               const floating *h0, const floating *c_init,
                               const floating *d_out, const floating *d_h,
                               const floating *d_c, floating *dh, floating *dc,
                               floating *d_pre, floating *d_rec, floating *d_carry,
                               floating *wk) noexcept nogil:
    """The per-step half of BPTT for B independent rows. d_out (B, T, U), d_h, d_c (B, U)
    are the upstream gradients (any may be NULL). Writes d_pre (B, T, G*U), the gradient
    of the gates' pre-activations (for GRU reset_after, of the input parts), d_rec
    (B, T, 3U) for GRU reset_after (of the recurrent parts h @ U + rb), and dh, dc (B, U):
    the gradients of the initial states. wk (B, 4U) scratch."""
    cdef int U = sp.U, GU = sp.G * sp.U, T = sp.T
    cdef int ldg = T * GU, ldh = T * U, nb = _nblocks(sp.cell, sp.per_gate)
    cdef int k, c0, n, nz
    cdef Py_ssize_t b, s, t, tp, j, r
    cdef bint single = floating is float, on, first
    cdef floating *pd = wk                          # (B, U) the product dL/dh_prev
    cdef floating *tmp = wk + <Py_ssize_t>B * U     # (B, U)
    cdef floating *base = wk + 2 * <Py_ssize_t>B * U  # (B, U) dL/dh_prev outside products
    cdef floating *drh = wk + 3 * <Py_ssize_t>B * U   # (B, U) GRU: d(aux)
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
    for s in range(T - 1, -1, -1):
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
        if sp.cell == GRU_BEFORE:
            # drh = d_hh' @ U_h.T       (the h gate's product, through aux = r * h * m_h)
            pk = rkT_packed + _block_offset(sp.cell, sp.per_gate, U, nb - 1, True, single) \
                if rkT_packed != NULL else NULL
            rec_block_t(B, U, U, d_pre + t * GU + 2 * U, ldg, rk + 2 * U, GU, pk, NULL,
                        drh, True, tmp)
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
        # pd = sum over blocks of (d @ U_block.T) * m_block      (d_rec for reset_after)
        first = True
        for k in range(nb):
            _block(sp.cell, sp.per_gate, U, k, &c0, &n)
            if sp.cell == GRU_BEFORE and c0 == 2 * U:
                continue
            pk = rkT_packed + _block_offset(sp.cell, sp.per_gate, U, k, True, single) \
                if rkT_packed != NULL else NULL
            rec_block_t(B, U, n, (d_rec if sp.cell == GRU_AFTER else d_pre) + t * GU + c0,
                        ldg, rk + c0, GU, pk, _mask_of(sp, rec_drop, k), pd, first, tmp)
            first = False
        for b in range(B):
            if mask != NULL and not mask[b * T + t]:
                continue
            if sp.cell == LSTM:
                memcpy(dh + b * U, pd + b * U, U * sizeof(floating))
            else:
                for j in range(U):
                    dh[b * U + j] = pd[b * U + j] + base[b * U + j]


cdef void fill_h_prev(const Spec *sp, int B, const floating *h0, const floating *hs,
                      const floating *m, floating *h_prev) noexcept nogil:
    """h_prev[b, t] = the state before step t, times m (B, U) if given."""
    cdef int U = sp.U, T = sp.T
    cdef Py_ssize_t b, s, t, j, ldh = <Py_ssize_t>T * U
    cdef const floating *src
    cdef floating *dst
    for b in range(B):
        src = h0 + b * U
        for s in range(T):
            t = T - 1 - s if sp.reverse else s
            dst = h_prev + b * ldh + t * U
            if m != NULL:
                for j in range(U):
                    dst[j] = src[j] * m[b * U + j]
            else:
                memcpy(dst, src, U * sizeof(floating))
            src = hs + b * ldh + t * U


cdef void col_sum(Py_ssize_t rows, int n, const floating *a, int lda,
                  floating *out) noexcept nogil:
    cdef Py_ssize_t r, j
    memset(out, 0, n * sizeof(floating))
    for r in range(rows):
        for j in range(n):
            out[j] = out[j] + a[r * lda + j]


cdef inline void packed_mm(int m, int n, int k, const floating *a, Py_ssize_t rs,
                           Py_ssize_t cs, const floating *bp, floating *c,
                           int ldc) noexcept nogil:
    """C = A @ Bp on the microkernel, without reading C."""
    if floating is float:
        fr_gemm_packed_set_f32(m, n, k, a, rs, cs, bp, c, ldc, NULL)
    else:
        fr_gemm_packed_set_f64(m, n, k, a, rs, cs, bp, c, ldc, NULL)


cdef inline void pack_rows(int rows, int n, const floating *b, int ldb,
                           floating *bp) noexcept nogil:
    if floating is float:
        fr_pack_f32(0, rows, n, b, ldb, bp)
    else:
        fr_pack_f64(0, rows, n, b, ldb, bp)


cdef void merge_slice(const Spec *sp, int B, const floating *x, const floating *kT_packed,
                      const floating *h0, const floating *hs, const floating *aux,
                      const floating *rec_drop, const floating *d_pre,
                      const floating *d_rec, floating *h_prev, floating *dp_packed,
                      floating *dx, floating *d_kernel, floating *d_rk, floating *d_bias,
                      floating *d_rbias, bint merge_input) noexcept nogil:
    """The merged half of BPTT for B rows (a batch or a slice) on the microkernel:
    d_kernel, d_rk, d_bias and d_rbias are overwritten with these rows' sums, dx with
    their rows. dp_packed: room for pack(d_pre rows); h_prev (B, T, U) scratch."""
    cdef int U = sp.U, GU = sp.G * sp.U, D = sp.D, rows = B * sp.T
    cdef int k, c0, n, nb = _nblocks(sp.cell, sp.per_gate)
    cdef const floating *d = d_rec if sp.cell == GRU_AFTER else d_pre
    cdef const floating *m
    cdef bint filled = False, whole = sp.cell != GRU_AFTER and nb == 1
    # d_rk[:, block] = (h_prev * m_block).T @ d[:, block]    (aux.T @ d[:, h] for GRU
    # reset_after=False's h block)
    for k in range(nb):
        _block(sp.cell, sp.per_gate, U, k, &c0, &n)
        pack_rows(rows, n, d + c0, GU, dp_packed)
        if sp.cell == GRU_BEFORE and c0 == 2 * U:
            packed_mm(U, n, rows, aux, 1, U, dp_packed, d_rk + c0, GU)
            continue
        m = _mask_of(sp, rec_drop, k)
        if m != NULL or not filled:
            fill_h_prev(sp, B, h0, hs, m, h_prev)
            filled = m == NULL
        packed_mm(U, n, rows, h_prev, 1, U, dp_packed, d_rk + c0, GU)
    if d_rbias != NULL:
        col_sum(rows, GU, d_rec, GU, d_rbias)
    if merge_input:
        # d_kernel = x.T @ d_pre ; dx = d_pre @ kernel.T ; d_bias = d_pre.sum(rows)
        if not whole:
            pack_rows(rows, GU, d_pre, GU, dp_packed)
        packed_mm(D, GU, rows, x, 1, D, dp_packed, d_kernel, GU)
        packed_mm(rows, D, GU, d_pre, GU, 1, kT_packed, dx, D)
        col_sum(rows, GU, d_pre, GU, d_bias)


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
             floating[:, ::1] wk,                  # WORK (B, 4U)
             const floating[::1] rkT_packed=None,  # IN  pack_recurrent(rk, transpose)
             bint merge_input=True, int num_threads=1, bint reverse=False,
             const floating[::1] kT_packed=None,   # IN  pack(kernel, True) (merge_input)
             floating[::1] dp_work=None):          # WORK packed_size(B*T, G*U), or None
    """BPTT with the GIL released: the per-step loop on up to num_threads batch slices,
    then the weight (and, with merge_input, input and bias) gradients as products over
    all B*T rows: with dp_work, each slice's share on the microkernel and the slices'
    sums added; else on BLAS. Shapes are trusted (fastrnn.functional checks them)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], U = rk.shape[0]
    cdef int GU = rk.shape[1], ng = rec_drop.shape[0] if rec_drop is not None else 1
    cdef Spec sp = _spec(cell, T, D, U, act, ract, zero_output, reverse, ng, B)
    if B == 0:  # no rows: the weight gradients are zeros
        d_kernel[:, :] = 0
        d_rk[:, :] = 0
        d_bias[:] = 0
        if d_rbias is not None:
            d_rbias[:] = 0
        return
    cdef const unsigned char *mp = &mask[0, 0] if mask is not None else NULL
    cdef const floating *dp = &rec_drop[0, 0, 0] if rec_drop is not None else NULL
    cdef const floating *cp = &cs[0, 0, 0] if cs is not None else NULL
    cdef const floating *ap = &aux[0, 0, 0] if aux is not None else NULL
    cdef const floating *c0p = &c0[0, 0] if c0 is not None else NULL
    cdef const floating *dop = &d_out[0, 0, 0] if d_out is not None else NULL
    cdef const floating *dhp = &d_h[0, 0] if d_h is not None else NULL
    cdef const floating *dcp = &d_c[0, 0] if d_c is not None else NULL
    cdef floating *dc0p = &d_c0[0, 0] if d_c0 is not None else NULL
    cdef floating *drp = &d_rec[0, 0, 0] if d_rec is not None else NULL
    cdef const floating *rp = &rkT_packed[0] if rkT_packed is not None else NULL
    cdef Py_ssize_t rows = <Py_ssize_t>B * T, tu = <Py_ssize_t>T * U, tg = <Py_ssize_t>T * GU
    cdef int nt = _threads(num_threads, B, <long long>B * T * GU * U)
    cdef int nb = _nblocks(cell, ng > 1), i, b0, b1, k, c0_, n
    cdef unsigned int csr
    cdef const floating *dsrc
    cdef const floating *m
    cdef bint filled = False, packed = dp_work is not None
    cdef const floating *ktp = &kT_packed[0] if kT_packed is not None else NULL
    cdef floating *dpw = &dp_work[0] if dp_work is not None else NULL
    cdef floating *drbp = &d_rbias[0] if d_rbias is not None else NULL
    cdef Py_ssize_t panel_row = pack_size(1, GU, floating is float), j
    cdef Py_ssize_t dk_n = <Py_ssize_t>D * GU, dr_n = <Py_ssize_t>U * GU
    cdef floating[:, :, ::1] part_k
    cdef floating[:, :, ::1] part_r
    cdef floating[:, ::1] part_b
    cdef floating[:, ::1] part_rb
    if nt == 1:
        with nogil:
            csr = fr_ftz_on()
            gates_backward_steps(&sp, B, &rk[0, 0], rp, mp, dp, &gates[0, 0, 0],
                                 &hs[0, 0, 0], cp, ap, &h0[0, 0], c0p, dop, dhp, dcp,
                                 &d_h0[0, 0], dc0p, &d_pre[0, 0, 0], drp, &d_carry[0, 0],
                                 &wk[0, 0])
            if packed:
                merge_slice(&sp, B, &x[0, 0, 0], ktp, &h0[0, 0], &hs[0, 0, 0], ap, dp,
                            &d_pre[0, 0, 0], drp, &h_prev[0, 0, 0], dpw, &dx[0, 0, 0],
                            &d_kernel[0, 0], &d_rk[0, 0], &d_bias[0], drbp, merge_input)
            fr_ftz_restore(csr)
        if packed:
            return
    else:
        dt = np.float32 if floating is float else np.float64
        if packed:
            part_k = np.empty((nt, D, GU), dt)
            part_r = np.empty((nt, U, GU), dt)
            part_b = np.empty((nt, GU), dt)
            part_rb = np.empty((nt, GU), dt)
        for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
            b0 = <int>((<long long>i * B) // nt)
            b1 = <int>((<long long>(i + 1) * B) // nt)
            csr = fr_ftz_on()
            gates_backward_steps(&sp, b1 - b0, &rk[0, 0], rp,
                                 mp + b0 * T if mp != NULL else NULL,
                                 dp + b0 * U if dp != NULL else NULL, &gates[b0, 0, 0],
                                 &hs[b0, 0, 0], cp + b0 * tu if cp != NULL else NULL,
                                 ap + b0 * tu if ap != NULL else NULL, &h0[b0, 0],
                                 c0p + b0 * U if c0p != NULL else NULL,
                                 dop + b0 * tu if dop != NULL else NULL,
                                 dhp + b0 * U if dhp != NULL else NULL,
                                 dcp + b0 * U if dcp != NULL else NULL, &d_h0[b0, 0],
                                 dc0p + b0 * U if dc0p != NULL else NULL, &d_pre[b0, 0, 0],
                                 drp + b0 * tg if drp != NULL else NULL, &d_carry[b0, 0],
                                 &wk[b0, 0])
            if packed:
                merge_slice(&sp, b1 - b0, &x[b0, 0, 0], ktp, &h0[b0, 0], &hs[b0, 0, 0],
                            ap + b0 * tu if ap != NULL else NULL,
                            dp + b0 * U if dp != NULL else NULL, &d_pre[b0, 0, 0],
                            drp + b0 * tg if drp != NULL else NULL, &h_prev[b0, 0, 0],
                            dpw + b0 * T * panel_row, &dx[b0, 0, 0], &part_k[i, 0, 0],
                            &part_r[i, 0, 0], &part_b[i, 0],
                            &part_rb[i, 0] if drbp != NULL else NULL, merge_input)
            fr_ftz_restore(csr)
        if packed:
            with nogil:
                # the slices' sums
                for i in range(nt):
                    for j in range(dr_n):
                        (&d_rk[0, 0])[j] = ((&d_rk[0, 0])[j] if i else 0) \
                            + (&part_r[i, 0, 0])[j]
                    if drbp != NULL:
                        for j in range(GU):
                            drbp[j] = (drbp[j] if i else 0) + part_rb[i, j]
                    if merge_input:
                        for j in range(dk_n):
                            (&d_kernel[0, 0])[j] = ((&d_kernel[0, 0])[j] if i else 0) \
                                + (&part_k[i, 0, 0])[j]
                        for j in range(GU):
                            d_bias[j] = (d_bias[j] if i else 0) + part_b[i, j]
            return
    with nogil:
        csr = fr_ftz_on()
        # d_rk[:, block] = (h_prev * m_block).T @ d[:, block]   (aux.T @ d_h for GRU
        # reset_after=False's h block); d = d_rec for reset_after, else d_pre
        dsrc = drp if cell == GRU_AFTER else &d_pre[0, 0, 0]
        for k in range(nb):
            _block(cell, ng > 1, U, k, &c0_, &n)
            if cell == GRU_BEFORE and c0_ == 2 * U:
                gemm(True, False, U, n, <int>rows, <floating>1, ap, U, dsrc + c0_, GU,
                     <floating>0, &d_rk[0, c0_], GU)
                continue
            m = _mask_of(&sp, dp, k)
            if m != NULL or not filled:
                fill_h_prev(&sp, B, &h0[0, 0], &hs[0, 0, 0], m, &h_prev[0, 0, 0])
                filled = m == NULL
            gemm(True, False, U, n, <int>rows, <floating>1, &h_prev[0, 0, 0], U, dsrc + c0_,
                 GU, <floating>0, &d_rk[0, c0_], GU)
        if d_rbias is not None:
            col_sum(rows, GU, drp, GU, &d_rbias[0])
        if merge_input:
            # d_kernel = x.T @ d_pre ; dx = d_pre @ kernel.T ; d_bias = d_pre.sum(rows)
            gemm(True, False, D, GU, <int>rows, <floating>1, &x[0, 0, 0], D, &d_pre[0, 0, 0],
                 GU, <floating>0, &d_kernel[0, 0], GU)
            gemm(False, True, <int>rows, D, GU, <floating>1, &d_pre[0, 0, 0], GU,
                 &kernel[0, 0], GU, <floating>0, &dx[0, 0, 0], D)
            col_sum(rows, GU, &d_pre[0, 0, 0], GU, &d_bias[0])
        fr_ftz_restore(csr)
