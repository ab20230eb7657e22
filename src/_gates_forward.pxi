# Included by _gates.pyx (one extension module): the forward time loop and its entry
# point. Cython `include` is textual; the names used here are defined there.

cdef void gates_forward(const Spec *sp, int B, const floating *rk, const floating *rbias,
                        const unsigned char *mask, const floating *rec_drop,
                        const floating *rpacked, floating *gates, floating *hs,
                        floating *out, floating *cs, floating *aux, floating *h_state,
                        floating *c_state, floating *prev_out,
                        floating *work) noexcept nogil:
    """The time loop for B independent rows (a batch or a slice of it). gates holds the
    projection x @ W + b on entry. States and prev_out: (B, U) in/out; work (B, 4U)."""
    cdef int U = sp.U, GU = sp.G * sp.U, T = sp.T
    cdef int ldg = T * GU, ldh = T * U, ldp, nb = _nblocks(sp.cell, sp.per_gate)
    cdef int k, c0, n, ldr3 = 3 * U
    cdef Py_ssize_t b, s, t, tp, j
    cdef bint single = floating is float
    cdef floating *tmp = work                   # (B, U)
    cdef floating *R = work + <Py_ssize_t>B * U  # (B, 3U), GRU's recurrent products
    cdef floating *z
    cdef floating *hn
    cdef floating *cn
    cdef floating *rh
    cdef const floating *hp
    cdef const floating *cp
    cdef const floating *h_src
    cdef const floating *pk
    cdef const floating *m
    cdef floating f_, zz
    cdef bint on
    for s in range(T):
        t = T - 1 - s if sp.reverse else s
        tp = t + 1 if sp.reverse else t - 1
        # the states before the step: the initial ones, or the previous step's
        if s == 0:
            h_src = h_state
            ldp = U
        else:
            h_src = hs + tp * U
            ldp = ldh
        # ---- recurrent products
        for k in range(nb):
            _block(sp.cell, sp.per_gate, U, k, &c0, &n)
            if sp.cell == GRU_BEFORE and c0 == 2 * U:
                continue  # the h gate's product needs r: below
            pk = rpacked + _block_offset(sp.cell, sp.per_gate, U, k, False, single) \
                if rpacked != NULL else NULL
            m = _mask_of(sp, rec_drop, k)
            if sp.cell == LSTM:
                # gates[:, t, block] += (h * m) @ U[:, block]
                rec_block(B, U, n, h_src, ldp, m, rk + c0, GU, pk, NULL,
                          gates + t * GU + c0, ldg, False, tmp)
            else:
                # R[:, block] = rb[block] + (h * m) @ U[:, block]
                rec_block(B, U, n, h_src, ldp, m, rk + c0, GU, pk,
                          rbias + c0 if rbias != NULL else NULL, R + c0, ldr3, True, tmp)
        # ---- activations and the cell update, row by row
        for b in range(B):
            z = gates + b * ldg + t * GU
            hn = hs + b * ldh + t * U
            hp = h_src + b * ldp
            if sp.cell == LSTM:
                cn = cs + b * ldh + t * U
                cp = c_state + b * U if s == 0 else cs + b * ldh + tp * U
                # i, f, o = ract(.), g = act(.); c = f * c_prev + i * g; h = o * act(c)
                gact(sp.ract, z, 2 * U)
                gact(sp.act, z + 2 * U, U)
                gact(sp.ract, z + 3 * U, U)
                for j in range(U):
                    cn[j] = z[U + j] * cp[j] + z[j] * z[2 * U + j]
                    hn[j] = cn[j]
                gact(sp.act, hn, U)
                for j in range(U):
                    hn[j] = hn[j] * z[3 * U + j]
            else:
                rh = aux + b * ldh + t * U
                # z, r = ract(x-part + recurrent part)
                for j in range(2 * U):
                    z[j] = z[j] + R[b * ldr3 + j]
                gact(sp.ract, z, 2 * U)
                if sp.cell == GRU_AFTER:
                    # hh = act(x_h + r * (h @ U_h + rb_h))
                    for j in range(U):
                        rh[j] = R[b * ldr3 + 2 * U + j]
                        z[2 * U + j] = z[2 * U + j] + z[U + j] * rh[j]
                    gact(sp.act, z + 2 * U, U)
                else:
                    # aux = r * h * mask_h: the h gate's product input
                    m = _mask_of(sp, rec_drop, 2)
                    for j in range(U):
                        rh[j] = z[U + j] * hp[j] * (m[b * U + j] if m != NULL else 1)
        if sp.cell == GRU_BEFORE:
            # gates[:, t, h] += aux @ U_h     (the second product of the step)
            _block(sp.cell, sp.per_gate, U, nb - 1, &c0, &n)
            pk = rpacked + _block_offset(sp.cell, sp.per_gate, U, nb - 1, False, single) \
                if rpacked != NULL else NULL
            rec_block(B, U, U, aux + t * U, ldh, NULL, rk + 2 * U, GU, pk, NULL,
                      gates + t * GU + 2 * U, ldg, False, tmp)
            for b in range(B):
                gact(sp.act, gates + b * ldg + t * GU + 2 * U, U)
        if sp.cell != LSTM:
            # h = z * h_prev + (1 - z) * hh
            for b in range(B):
                z = gates + b * ldg + t * GU
                hn = hs + b * ldh + t * U
                hp = h_src + b * ldp
                for j in range(U):
                    zz = z[j]
                    hn[j] = zz * hp[j] + (1 - zz) * z[2 * U + j]
        if mask != NULL:
            # masked rows carry the states and repeat the previous output (or zeros)
            for b in range(B):
                on = mask[b * T + t]
                hn = hs + b * ldh + t * U
                if on:
                    memcpy(out + b * ldh + t * U, hn, U * sizeof(floating))
                    memcpy(prev_out + b * U, hn, U * sizeof(floating))
                    continue
                memcpy(hn, h_src + b * ldp, U * sizeof(floating))
                if sp.cell == LSTM:
                    memcpy(cs + b * ldh + t * U,
                           c_state + b * U if s == 0 else cs + b * ldh + tp * U,
                           U * sizeof(floating))
                if sp.zero_output:
                    memset(out + b * ldh + t * U, 0, U * sizeof(floating))
                else:
                    memcpy(out + b * ldh + t * U, prev_out + b * U, U * sizeof(floating))
    if T > 0:
        t = 0 if sp.reverse else T - 1
        for b in range(B):
            memcpy(h_state + b * U, hs + b * ldh + t * U, U * sizeof(floating))
            if sp.cell == LSTM:
                memcpy(c_state + b * U, cs + b * ldh + t * U, U * sizeof(floating))


cdef void project(Py_ssize_t rows, int D, int GU, const floating *x, const floating *kernel,
                  const floating *kp, const floating *bp, floating *gates) noexcept nogil:
    """gates = bias + x @ kernel: one product over `rows` rows for every gate; kp is
    the packed kernel (or NULL: BLAS), bp the bias (or NULL)."""
    cdef Py_ssize_t r
    if kp != NULL:
        if floating is float:
            fr_gemm_packed_set_f32(<int>rows, GU, D, x, D, 1, kp, gates, GU, bp)
        else:
            fr_gemm_packed_set_f64(<int>rows, GU, D, x, D, 1, kp, gates, GU, bp)
        return
    for r in range(rows):
        if bp != NULL:
            memcpy(gates + r * GU, bp, GU * sizeof(floating))
        else:
            memset(gates + r * GU, 0, GU * sizeof(floating))
    gemm(False, False, <int>rows, GU, D, <floating>1, x, D, kernel, GU, <floating>1, gates, GU)


cdef inline int _threads(int requested, int B, long long work) noexcept nogil:
    if requested <= 1 or B < 2 or work < PARALLEL_MIN_WORK:
        return 1
    return requested if requested < B else B


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
            floating[:, ::1] work,                # WORK (B, 4U)
            const floating[::1] kpacked=None,     # IN  pack(kernel), or None: BLAS
            const floating[::1] rpacked=None,     # IN  pack_recurrent(rk, ...), or None
            bint projected=False, int num_threads=1, bint reverse=False):
    """Run one direction of an LSTM or GRU with the GIL released, on up to num_threads
    batch slices. Shapes are trusted (fastrnn.functional checks them)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], U = rk.shape[0]
    cdef int GU = rk.shape[1], ng = rec_drop.shape[0] if rec_drop is not None else 1
    cdef Spec sp = _spec(cell, T, D, U, act, ract, zero_output, reverse, ng, B)
    if B == 0:
        return
    cdef const floating *bp = &bias[0] if bias is not None else NULL
    cdef const floating *rbp = &rbias[0] if rbias is not None else NULL
    cdef const unsigned char *mp = &mask[0, 0] if mask is not None else NULL
    cdef const floating *dp = &rec_drop[0, 0, 0] if rec_drop is not None else NULL
    cdef const floating *kp = &kpacked[0] if kpacked is not None else NULL
    cdef const floating *rp = &rpacked[0] if rpacked is not None else NULL
    cdef floating *op = &out[0, 0, 0] if out is not None else NULL
    cdef floating *cp = &cs[0, 0, 0] if cs is not None else NULL
    cdef floating *ap = &aux[0, 0, 0] if aux is not None else NULL
    cdef floating *csp = &c_state[0, 0] if c_state is not None else NULL
    cdef floating *pvp = &prev_out[0, 0] if prev_out is not None else NULL
    cdef Py_ssize_t rows = <Py_ssize_t>B * T, tu = <Py_ssize_t>T * U
    cdef int nt = _threads(num_threads, B, <long long>B * T * GU * (D + U))
    cdef int i, b0, b1
    cdef unsigned int csr
    if nt == 1:
        with nogil:
            csr = fr_ftz_on()
            # gates = bias + x @ kernel          (one product over all B*T rows)
            if not projected:
                project(rows, D, GU, &x[0, 0, 0], &kernel[0, 0], kp, bp, &gates[0, 0, 0])
            gates_forward(&sp, B, &rk[0, 0], rbp, mp, dp, rp, &gates[0, 0, 0],
                          &hs[0, 0, 0], op, cp, ap, &h_state[0, 0], csp, pvp, &work[0, 0])
            fr_ftz_restore(csr)
        return
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        b0 = <int>((<long long>i * B) // nt)
        b1 = <int>((<long long>(i + 1) * B) // nt)
        csr = fr_ftz_on()
        if not projected:
            # each thread projects its own rows
            project(<Py_ssize_t>(b1 - b0) * T, D, GU, &x[b0, 0, 0], &kernel[0, 0], kp, bp,
                    &gates[b0, 0, 0])
        gates_forward(&sp, b1 - b0, &rk[0, 0], rbp, mp + b0 * T if mp != NULL else NULL,
                      dp + b0 * U if dp != NULL else NULL, rp, &gates[b0, 0, 0],
                      &hs[b0, 0, 0], op + b0 * tu if op != NULL else NULL,
                      cp + b0 * tu if cp != NULL else NULL,
                      ap + b0 * tu if ap != NULL else NULL, &h_state[b0, 0],
                      csp + b0 * U if csp != NULL else NULL,
                      pvp + b0 * U if pvp != NULL else NULL, &work[b0, 0])
        fr_ftz_restore(csr)
