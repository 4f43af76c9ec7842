/*
 * rt_runtime: the embedding API — a runtime object owning N loops and one
 * ZeroMQ context, its start, stop and teardown, and the door through which
 * other threads send to actors and spawn them.
 *
 * State machine (rt->state): NEW --start--> RUNNING --stop--> STOPPING
 * --join--> JOINED. A runtime freed in NEW never had threads: its loops are
 * shut down on the caller's thread.
 *
 * Teardown order: zmq_ctx_shutdown (nothing can block in ZeroMQ any more),
 * each loop thread woken to stop its actors and close its handles and
 * sockets (uv handles before their ZeroMQ sockets), threads joined, door
 * sockets closed, zmq_ctx_term.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

static void set_defaults(cqlmq_runtime_opts_t *o, const cqlmq_runtime_opts_t *in)
{
    memset(o, 0, sizeof *o);
    if (in != NULL)
        *o = *in;
    if (o->loops == 0)
        o->loops = 1;
    if (o->mailbox_max == 0)
        o->mailbox_max = 65536;
    if (o->batch == 0)
        o->batch = 64;
    if (o->max_msg == 0)
        o->max_msg = 64u << 20;
    if (o->pipe_hwm == 0)
        o->pipe_hwm = 1000;
}

int cqlmq_runtime_new(const cqlmq_runtime_opts_t *opts, cqlmq_runtime_t **out)
{
    int rc = CQLMQ_ENOMEM;
    unsigned i, nloops_ok = 0;
    cqlmq_runtime_t *rt = calloc(1, sizeof *rt);
    if (rt == NULL)
        return CQLMQ_ENOMEM;
    set_defaults(&rt->opts, opts);
    if (rt->opts.loops > 1024 || rt->opts.pipe_hwm < 0 ||
        rt->opts.max_msg > UINT32_MAX - RT_REC_SIZE) {
        free(rt);
        return CQLMQ_EINVAL;
    }
    atomic_init(&rt->state, RT_STATE_NEW);
    pthread_mutex_init(&rt->door_mu, NULL);
    rt->zctx = zmq_ctx_new();
    rt->loops = calloc(rt->opts.loops, sizeof *rt->loops);
    rt->door = calloc(rt->opts.loops, sizeof *rt->door);
    if (rt->zctx == NULL || rt->loops == NULL || rt->door == NULL) {
        rc = rt->zctx == NULL ? CQLMQ_EZMQ : CQLMQ_ENOMEM;
        goto fail;
    }
    zmq_ctx_set(rt->zctx, ZMQ_BLOCKY, 0);
    for (i = 0; i < rt->opts.loops; i++, nloops_ok++)
        if ((rc = rt_loop_init(&rt->loops[i], rt, i)) != 0)
            goto fail;
    for (i = 0; i < rt->opts.loops; i++) {
        char ep[64];
        int zero = 0;
        void *s = zmq_socket(rt->zctx, ZMQ_PUSH);
        if (s == NULL) {
            rc = CQLMQ_EZMQ;
            goto fail;
        }
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(s, ZMQ_SNDHWM, &rt->opts.pipe_hwm, sizeof rt->opts.pipe_hwm);
        snprintf(ep, sizeof ep, RT_INBOX_FMT, i);
        zmq_connect(s, ep); /* inproc may connect before the bind */
        rt->door[i] = s;
    }
    *out = rt;
    return 0;
fail:
    for (i = 0; i < nloops_ok; i++) {
        rt_loop_shutdown_unstarted(&rt->loops[i]);
        rt_loop_close(&rt->loops[i]);
    }
    for (i = 0; rt->door != NULL && i < rt->opts.loops; i++)
        if (rt->door[i] != NULL)
            zmq_close(rt->door[i]);
    if (rt->zctx != NULL)
        zmq_ctx_term(rt->zctx);
    free(rt->door);
    free(rt->loops);
    pthread_mutex_destroy(&rt->door_mu);
    free(rt);
    return rc;
}

int cqlmq_runtime_start(cqlmq_runtime_t *rt)
{
    int expect = RT_STATE_NEW;
    if (!atomic_compare_exchange_strong(&rt->state, &expect, RT_STATE_RUNNING))
        return CQLMQ_ESTATE;
    /* A write to a connection the peer reset must be an error, not a
     * process-killing SIGPIPE (libuv writes with write(2)). Only the default
     * disposition is changed; an application's own handler is kept. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    for (unsigned i = 0; i < rt->opts.loops; i++) {
        rt_loop_t *loop = &rt->loops[i];
        loop->thread_started = true; /* before: the thread may stop us at once */
        if (pthread_create(&loop->thread, NULL, rt_loop_main, loop) != 0) {
            /* Threads already started are stopped; the rest never run. */
            loop->thread_started = false;
            cqlmq_runtime_stop(rt);
            return CQLMQ_EIO;
        }
    }
    return 0;
}

void cqlmq_runtime_stop(cqlmq_runtime_t *rt)
{
    int expect = RT_STATE_RUNNING;
    if (!atomic_compare_exchange_strong(&rt->state, &expect, RT_STATE_STOPPING)) {
        expect = RT_STATE_NEW;
        atomic_compare_exchange_strong(&rt->state, &expect, RT_STATE_STOPPING);
        return;
    }
    zmq_ctx_shutdown(rt->zctx);
    for (unsigned i = 0; i < rt->opts.loops; i++)
        rt_loop_signal(&rt->loops[i]); /* also wakes a loop not yet running */
}

static bool on_loop_thread(const cqlmq_runtime_t *rt)
{
    pthread_t me = pthread_self();
    for (unsigned i = 0; i < rt->opts.loops; i++)
        if (rt->loops[i].thread_started && pthread_equal(rt->loops[i].thread, me))
            return true;
    return false;
}

int cqlmq_runtime_join(cqlmq_runtime_t *rt)
{
    int state = atomic_load(&rt->state);
    if (on_loop_thread(rt) || (state != RT_STATE_RUNNING && state != RT_STATE_STOPPING))
        return CQLMQ_ESTATE;
    for (unsigned i = 0; i < rt->opts.loops; i++) {
        rt_loop_t *loop = &rt->loops[i];
        if (loop->thread_started)
            pthread_join(loop->thread, NULL);
        else
            rt_loop_shutdown_unstarted(loop); /* start failed or never called */
    }
    atomic_store(&rt->state, RT_STATE_JOINED);
    return 0;
}

void cqlmq_runtime_free(cqlmq_runtime_t **prt)
{
    cqlmq_runtime_t *rt = *prt;
    *prt = NULL;
    if (rt == NULL)
        return;
    if (atomic_load(&rt->state) != RT_STATE_JOINED) {
        cqlmq_runtime_stop(rt);
        (void)cqlmq_runtime_join(rt);
    }
    for (unsigned i = 0; i < rt->opts.loops; i++)
        rt_loop_close(&rt->loops[i]);
    pthread_mutex_lock(&rt->door_mu);
    for (unsigned i = 0; i < rt->opts.loops; i++)
        zmq_close(rt->door[i]);
    pthread_mutex_unlock(&rt->door_mu);
    zmq_ctx_term(rt->zctx);
    pthread_mutex_destroy(&rt->door_mu);
    free(rt->door);
    free(rt->loops);
    free(rt);
}

unsigned cqlmq_runtime_loops(const cqlmq_runtime_t *rt) { return rt->opts.loops; }
void *cqlmq_runtime_zmq_ctx(cqlmq_runtime_t *rt) { return rt->zctx; }

rt_loop_t *cqlmq_runtime_loop(cqlmq_runtime_t *rt, unsigned index)
{
    return index < rt->opts.loops ? &rt->loops[index] : NULL;
}

int cqlmq_runtime_send(cqlmq_runtime_t *rt, rt_addr_t to, uint16_t type, const void *payload,
                       size_t len)
{
    unsigned li = rt_addr_loop(to);
    if (to == RT_ADDR_NONE || li >= rt->opts.loops || type > RT_MSG_USER_MAX)
        return CQLMQ_EINVAL;
    if (len > rt->opts.max_msg)
        return CQLMQ_ETOOBIG;
    if (atomic_load_explicit(&rt->state, memory_order_acquire) != RT_STATE_RUNNING)
        return CQLMQ_ESTATE;
    uint8_t *buf = malloc(RT_REC_SIZE + len);
    if (buf == NULL)
        return CQLMQ_ENOMEM;
    rt_rec_t rec = {to, RT_ADDR_NONE, 0, type, 0, (uint32_t)len};
    memcpy(buf, &rec, RT_REC_SIZE);
    if (len)
        memcpy(buf + RT_REC_SIZE, payload, len);
    zmq_msg_t m;
    if (zmq_msg_init_data(&m, buf, RT_REC_SIZE + len, mpk_free_cb, NULL) != 0) {
        free(buf);
        return CQLMQ_ENOMEM;
    }
    pthread_mutex_lock(&rt->door_mu);
    int rc = zmq_msg_send(&m, rt->door[li], ZMQ_DONTWAIT) < 0 ? errno : 0;
    pthread_mutex_unlock(&rt->door_mu);
    if (rc != 0) {
        zmq_msg_close(&m);
        rc = rt_zmq_err(rc);
        return rc == CQLMQ_ECLOSED ? CQLMQ_ESTATE : rc;
    }
    return 0;
}

int cqlmq_runtime_spawn(cqlmq_runtime_t *rt, unsigned li, const rt_actor_def_t *def, void *arg,
                        rt_addr_t *out)
{
    if (li >= rt->opts.loops || def == NULL)
        return CQLMQ_EINVAL;
    if (on_loop_thread(rt))
        return CQLMQ_ESTATE;
    rt_loop_t *loop = &rt->loops[li];
    int state = atomic_load(&rt->state);
    if (state == RT_STATE_NEW)
        return rt_spawn(loop, def, arg, out); /* no threads yet */
    if (state != RT_STATE_RUNNING)
        return CQLMQ_ESTATE;
    rt_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.def = def;
    cmd.arg = arg;
    pthread_cond_init(&cmd.cond, NULL);
    pthread_mutex_lock(&loop->cmd_mu);
    if (loop->wake_closed) {
        cmd.done = true;
        cmd.rc = CQLMQ_ESTATE;
    } else {
        cmd.next = loop->cmds;
        loop->cmds = &cmd;
        uv_async_send(&loop->wake);
    }
    while (!cmd.done)
        pthread_cond_wait(&cmd.cond, &loop->cmd_mu);
    pthread_mutex_unlock(&loop->cmd_mu);
    pthread_cond_destroy(&cmd.cond);
    if (cmd.rc == 0 && out != NULL)
        *out = cmd.addr;
    return cmd.rc;
}
