# Included by _gates.pyx (one extension module): the forward time loop and its entry
# point. Cython `include` is textual; the names used here are defined there.

cdef void gates_forward(const Spec *sp, int B, int s0, int s1, const floating *rk,
                        const floating *rbias, const unsigned char *mask,
                        const floating *rec_drop, const floating *rpacked, floating *gates,
                        floating *hs, floating *out, floating *cs, floating *aux,
                        floating *h_state, floating *c_state, floating *prev_out,
                        floating *work) noexcept nogil:
    """Steps s0:s1 of the time loop for B independent rows (a batch or a block of it).
    gates holds the projection x @ W + b on entry. States and prev_out: (B, U) in/out
    (h_state, c_state are read at step 0 and written after step T-1); work (B, 8U)."""
    cdef int U = sp.U, GU = sp.G * sp.U, T = sp.T
    cdef int ldg = T * GU, ldh = T * U, ldp, nb = _nblocks(sp.cell, sp.per_gate)
    cdef int k, c0, n
    cdef Py_ssize_t b, s, t, tp, j
    cdef bint single = floating is float
    cdef floating *tmp = work                           # (B, U) h * mask
    cdef floating *R = work + <Py_ssize_t>B * U         # (B, G*U) the step's products
    cdef floating *hc = R + <Py_ssize_t>B * GU          # (B, U) h_prev, compact
    cdef floating *rc = hc + <Py_ssize_t>B * U          # (B, U) GRU: aux_t, compact
    cdef floating *z
    cdef floating *hn
    cdef floating *cn
    cdef floating *rh
    cdef floating *rr
    cdef const floating *hp
    cdef const floating *cp
    cdef const floating *h_src
    cdef const floating *pk
    cdef const floating *m
    cdef floating zz
    cdef bint on
    for s in range(s0, s1):
        t = T - 1 - s if sp.reverse else s
        tp = t + 1 if sp.reverse else t - 1
        # the states before the step: the initial ones, or the previous step's
        if s == 0:
            h_src = h_state
            ldp = U
        else:
            h_src = hs + tp * U
            ldp = ldh
            if rec_drop == NULL:
                # hc = h_prev: the product's rows contiguous
                for b in range(B):
                    memcpy(hc + b * U, h_src + b * ldp, U * sizeof(floating))
                h_src = hc
                ldp = U
        # ---- recurrent products: R[:, block] = [rb[block] +] (h * m) @ U[:, block]
        for k in range(nb):
            _block(sp.cell, sp.per_gate, U, k, &c0, &n)
            if sp.cell == GRU_BEFORE and c0 == 2 * U:
                continue  # the h gate's product needs r: below
            pk = rpacked + _block_offset(sp.cell, sp.per_gate, U, k, False, single) \
                if rpacked != NULL else NULL
            m = _mask_of(sp, rec_drop, k)
            rec_block(B, U, n, h_src, ldp, m, rk + c0, GU, pk,
                      rbias + c0 if rbias != NULL else NULL, R + c0, GU, True, tmp)
        # ---- activations and the cell update, row by row
        for b in range(B):
            z = gates + b * ldg + t * GU
            rr = R + b * GU
            hn = hs + b * ldh + t * U
            hp = h_src + b * ldp
            if sp.cell == LSTM:
                cn = cs + b * ldh + t * U
                cp = c_state + b * U if s == 0 else cs + b * ldh + tp * U
                # i, f, o = ract(.), g = act(.); c = f * c_prev + i * g; h = o * act(c)
                for j in range(GU):
                    z[j] = z[j] + rr[j]
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
                    z[j] = z[j] + rr[j]
                gact(sp.ract, z, 2 * U)
                if sp.cell == GRU_AFTER:
                    # hh = act(x_h + r * (h @ U_h + rb_h))
                    for j in range(U):
                        rh[j] = rr[2 * U + j]
                        z[2 * U + j] = z[2 * U + j] + z[U + j] * rh[j]
                    gact(sp.act, z + 2 * U, U)
                else:
                    # aux = r * h * mask_h: the h gate's product input
                    m = _mask_of(sp, rec_drop, 2)
                    for j in range(U):
                        rh[j] = z[U + j] * hp[j] * (m[b * U + j] if m != NULL else 1)
                    memcpy(rc + b * U, rh, U * sizeof(floating))
        if sp.cell == GRU_BEFORE:
            # R[:, h] = aux_t @ U_h     (the second product of the step)
            pk = rpacked + _block_offset(sp.cell, sp.per_gate, U, nb - 1, False, single) \
                if rpacked != NULL else NULL
            rec_block(B, U, U, rc, U, NULL, rk + 2 * U, GU, pk, NULL, R + 2 * U, GU, True,
                      tmp)
            for b in range(B):
                z = gates + b * ldg + t * GU + 2 * U
                rr = R + b * GU + 2 * U
                for j in range(U):
                    z[j] = z[j] + rr[j]
                gact(sp.act, z, U)
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
    if s1 == T and T > 0:
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
