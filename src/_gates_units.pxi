# Included by _gates.pyx (one extension module): the forward's time loop with each step's
# units shared by the threads, for recurrent weights too large for the caches.
#
# Split by batch rows, every thread streams all of the recurrent kernel every step: past a
# few MB (LSTM (1024, 4096) float32 is 16 MB) the threads together read it from memory
# twice per step. Split by units, each task reads only its units' columns: one pass over
# the weights per step whatever the thread count, at the price of a join per step (the
# next step needs every unit of h). Slices are more than the threads, so a thread the
# OS pauses holds one small slice; the caller takes the rest. LSTM and GRU with
# reset_after=True (one recurrent product per step), packed weights, no recurrent dropout.

# Recurrent weights past this many bytes run the time loop split by units.
cdef Py_ssize_t UNIT_SPLIT_BYTES = 4 << 20


def unit_split_bytes(nbytes=None):
    """The recurrent-weight bytes past which the forward splits each step's units
    across threads; set it with an int (tests only). Returns the value before."""
    global UNIT_SPLIT_BYTES
    old = UNIT_SPLIT_BYTES
    if nbytes is not None:
        UNIT_SPLIT_BYTES = max(0, int(nbytes))
    return old


cdef inline int unit_slice(int U, int nt) noexcept nogil:
    """Units per slice: about 4 slices per thread, whole 16-column panels."""
    cdef int us = (U + 4 * nt - 1) // (4 * nt)
    us = (us + 15) // 16 * 16
    return us if us < U else U


cdef bint units_apply(int cell, bint per_gate, bint packed, bint rec_drop, int nt, int U,
                      Py_ssize_t wbytes) noexcept nogil:
    return (nt > 1 and packed and not rec_drop and not per_gate and U >= 32
            and (cell == LSTM or cell == GRU_AFTER) and wbytes > UNIT_SPLIT_BYTES)


cdef Py_ssize_t units_packed_size(int cell, int U, int nt, bint single) noexcept nogil:
    cdef int us = unit_slice(U, nt)
    return <Py_ssize_t>((U + us - 1) // us) * _gates_of(cell) * pack_size(U, us, single)


cdef void pack_units(const floating *rk, int U, int G, int us, floating *p) noexcept nogil:
    """Block (slice w, gate g) = rk[:, g*U + w*us : g*U + min((w+1)*us, U)], packed."""
    cdef int w, g, u0, nu, ns = (U + us - 1) // us
    cdef Py_ssize_t blk = pack_size(U, us, floating is float)
    for w in range(ns):
        u0 = w * us
        nu = us if us < U - u0 else U - u0
        for g in range(G):
            if floating is float:
                fr_pack_f32(0, U, nu, rk + g * U + u0, G * U, p + (w * G + g) * blk)
            else:
                fr_pack_f64(0, U, nu, rk + g * U + u0, G * U, p + (w * G + g) * blk)


cdef void unit_step(const Spec *sp, int B, Py_ssize_t s, int u0, int nu, int us,
                    const floating *rbias, const unsigned char *mask, const floating *up,
                    floating *gates, floating *hs, floating *out, floating *cs,
                    floating *aux, const floating *c_state, floating *prev_out,
                    floating *R, const floating *hp_all, floating *hn_all) noexcept nogil:
    """Step s for units u0:u0+nu of every row. hp_all (B, U): h before the step; writes
    these units of hs, cs / aux, out, prev_out and hn_all (B, U): h after the step. up:
    this slice's packed blocks, one per gate; R (B, G*U) scratch (these units' columns)."""
    cdef int U = sp.U, G = sp.G, GU = sp.G * sp.U, T = sp.T, g
    cdef Py_ssize_t ldg = <Py_ssize_t>T * GU, ldh = <Py_ssize_t>T * U, b, j, t, tp
    cdef Py_ssize_t blk = pack_size(U, us, floating is float)
    cdef floating *z
    cdef floating *rr
    cdef floating *hn
    cdef floating *cn
    cdef floating *rh
    cdef const floating *hp
    cdef const floating *cp
    cdef floating zz
    t = T - 1 - s if sp.reverse else s
    tp = t + 1 if sp.reverse else t - 1
    # R[:, g*U + u0 : ...] = [rb +] h_prev @ U[:, those columns]      for each gate g
    for g in range(G):
        if floating is float:
            fr_gemm_packed_set_f32(B, nu, U, hp_all, U, 1, up + g * blk, R + g * U + u0, GU,
                                   rbias + g * U + u0 if rbias != NULL else NULL)
        else:
            fr_gemm_packed_set_f64(B, nu, U, hp_all, U, 1, up + g * blk, R + g * U + u0, GU,
                                   rbias + g * U + u0 if rbias != NULL else NULL)
    for b in range(B):
        z = gates + b * ldg + t * GU
        rr = R + b * GU
        hn = hs + b * ldh + t * U + u0
        hp = hp_all + b * U + u0
        for g in range(G if sp.cell == LSTM else 2):
            for j in range(u0 + g * U, u0 + g * U + nu):
                z[j] = z[j] + rr[j]
        if sp.cell == LSTM:
            cn = cs + b * ldh + t * U + u0
            cp = (c_state + b * U if s == 0 else cs + b * ldh + tp * U) + u0
            gact(sp.ract, z + u0, nu)
            gact(sp.ract, z + U + u0, nu)
            gact(sp.act, z + 2 * U + u0, nu)
            gact(sp.ract, z + 3 * U + u0, nu)
            for j in range(nu):
                cn[j] = z[U + u0 + j] * cp[j] + z[u0 + j] * z[2 * U + u0 + j]
                hn[j] = cn[j]
            gact(sp.act, hn, nu)
            for j in range(nu):
                hn[j] = hn[j] * z[3 * U + u0 + j]
        else:
            gact(sp.ract, z + u0, nu)
            gact(sp.ract, z + U + u0, nu)
            rh = aux + b * ldh + t * U + u0
            for j in range(nu):
                rh[j] = rr[2 * U + u0 + j]
                z[2 * U + u0 + j] = z[2 * U + u0 + j] + z[U + u0 + j] * rh[j]
            gact(sp.act, z + 2 * U + u0, nu)
            for j in range(nu):
                zz = z[u0 + j]
                hn[j] = zz * hp[j] + (1 - zz) * z[2 * U + u0 + j]
        if mask != NULL:
            if mask[b * T + t]:
                memcpy(out + b * ldh + t * U + u0, hn, nu * sizeof(floating))
                memcpy(prev_out + b * U + u0, hn, nu * sizeof(floating))
            else:
                memcpy(hn, hp, nu * sizeof(floating))
                if sp.cell == LSTM:
                    memcpy(cs + b * ldh + t * U + u0,
                           (c_state + b * U if s == 0 else cs + b * ldh + tp * U) + u0,
                           nu * sizeof(floating))
                if sp.zero_output:
                    memset(out + b * ldh + t * U + u0, 0, nu * sizeof(floating))
                else:
                    memcpy(out + b * ldh + t * U + u0, prev_out + b * U + u0,
                           nu * sizeof(floating))
        memcpy(hn_all + b * U + u0, hn, nu * sizeof(floating))


cdef inline void unit_rows(FwdJob *j, floating *gates, int w) noexcept nogil:
    cdef int U = j.sp.U, B = j.B, us = j.uslice
    cdef int u0 = w * us, nu = us if us < U - u0 else U - u0
    cdef floating *work = <floating *>j.work
    cdef floating *R = work                                   # (B, G*U)
    cdef floating *hb = work + <Py_ssize_t>B * j.sp.G * U     # (2, B, U)
    cdef Py_ssize_t cur = (j.s0 & 1) * <Py_ssize_t>B * U, nxt = <Py_ssize_t>B * U - cur
    unit_step(&j.sp, B, j.s0, u0, nu, us, <const floating *>j.rbias, j.mask,
              <const floating *>j.upacked + <Py_ssize_t>w * j.sp.G * pack_size(U, us,
                                                                       floating is float),
              gates, <floating *>j.hs, <floating *>j.out, <floating *>j.cs,
              <floating *>j.aux, <const floating *>j.c_state, <floating *>j.prev_out, R,
              hb + cur, hb + nxt)


cdef void unit_task(void *ctx, int worker) noexcept nogil:
    """Claim unit slices of step s0 until none is left."""
    cdef FwdJob *j = <FwdJob *>ctx
    cdef long w
    cdef unsigned int csr = fr_ftz_on()
    while True:
        w = fr_claim(&j.next)
        if w >= j.ntasks:
            break
        if j.single:
            unit_rows(j, <float *>j.gates, <int>w)
        else:
            unit_rows(j, <double *>j.gates, <int>w)
    fr_ftz_restore(csr)


cdef int drive_units(FwdJob *j, int nt) except -1:
    """The time loop, one join per step: each step's unit slices as tasks. Signal checks
    every CHECK_WORK * STEP_CHUNKS multiply-adds."""
    cdef int T = j.sp.T, U = j.sp.U, B = j.B, GU = j.sp.G * j.sp.U
    cdef Py_ssize_t s, since = 0, per = chunk_of(T, <long long>B * GU * (U + 16) // STEP_CHUNKS)
    cdef Py_ssize_t b, t, item = sizeof(float) if j.single else sizeof(double)
    cdef char *hb = <char *>j.work + <Py_ssize_t>B * GU * item
    j.ntasks = (U + j.uslice - 1) // j.uslice
    with nogil:
        memcpy(hb, j.h_state, <Py_ssize_t>B * U * item)   # hb[0] = h before step 0
    for s in range(T):
        j.s0 = <int>s
        j.next = 0
        with nogil:
            fr_pool_run(nt, unit_task, j)
        since += 1
        if since >= per:
            PyErr_CheckSignals()
            since = 0
    with nogil:
        # the last states
        t = 0 if j.sp.reverse else T - 1
        for b in range(B):
            memcpy(<char *>j.h_state + b * U * item,
                   <char *>j.hs + (b * T + t) * U * item, U * item)
            if j.sp.cell == LSTM:
                memcpy(<char *>j.c_state + b * U * item,
                       <char *>j.cs + (b * T + t) * U * item, U * item)
    return 0
