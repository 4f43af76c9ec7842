/*
 * client_stream: blocking streams. A stream is a request whose pages are
 * queued here instead of going to a callback; credit for one more page is
 * granted when the consumer lets go of a page (asks for the next one), so
 * the pace is the consumer's and at most `credit` pages are ever buffered
 * (the queue plus the page in the consumer's hands), whatever the result.
 */
#include <stdlib.h>
#include <string.h>

#include "cqlc_int.h"

typedef struct page_node page_node_t;
struct page_node {
    cqlmq_result_t *res;  /* owned */
    bool credit;          /* a streamed page: releasing it grants credit */
    page_node_t *next;
};

/* Invariants: c is NULL once the request ended (the stream needs the
 * client no more); running == the request is pending in c; queued pages
 * number at most the credit granted. */
struct cqlmq_stream {
    cqlmq_client_t *c;
    uint64_t id;
    bool running;
    bool ready;             /* set by a page or the end: ends a wait */
    int status;             /* terminal status once ended */
    cqlmq_errinfo_t err;
    page_node_t *head, *tail;
    page_node_t *cur;       /* the page in the consumer's hands, or NULL */
    uint32_t cur_row;       /* next_row: next row of cur */
    uint8_t *paging_state;  /* copy of the last one seen, or NULL */
    size_t paging_state_len;
    uint64_t pages, rows;
};

static void push(cqlmq_stream_t *s, cqlmq_result_t **res, bool credit)
{
    page_node_t *n = calloc(1, sizeof *n);
    if (n == NULL) {
        /* Keep the terminal-outcome promise: the stream fails. */
        if (s->status == 0)
            cqlc_error_set(&s->err, s->status = CQLMQ_ENOMEM, "internal", "out of memory");
        return;
    }
    n->res = *res;
    *res = NULL;
    n->credit = credit;
    if (s->tail)
        s->tail->next = n;
    else
        s->head = n;
    s->tail = n;
    s->pages++;
    s->rows += n->res->nrows;
    const uint8_t *ps;
    size_t len;
    if (cqlmq_result_paging_state(n->res, &ps, &len) == 0) {
        uint8_t *copy = malloc(len ? len : 1);
        if (copy != NULL) {
            memcpy(copy, ps, len);
            free(s->paging_state);
            s->paging_state = copy;
            s->paging_state_len = len;
        }
    }
}

void cqlc_stream_on_page(cqlmq_stream_t *s, cqlmq_result_t **page)
{
    push(s, page, true);
    s->ready = true;
}

void cqlc_stream_on_done(cqlmq_stream_t *s, int status, cqlmq_result_t **res,
                         const cqlmq_errinfo_t *err)
{
    s->running = false;
    s->ready = true;
    s->c = NULL;
    if (s->status == 0)
        s->status = status;
    if (status != 0 && err != NULL)
        cqlmq_error_copy(&s->err, err);
    else if (status != 0)
        cqlc_error_set(&s->err, status, "internal", "%s", cqlmq_strerror(status));
    /* A statement that answered with one result instead of pages. */
    if (status == 0 && res != NULL && *res != NULL && (*res)->kind == CQLMQ_RESULT_ROWS &&
        (*res)->cols != NULL)
        push(s, res, false);
}

int cqlmq_query_stream(cqlmq_client_t *c, const char *cql, const cqlmq_result_t *prepared,
                       const cqlmq_query_opts_t *o, cqlmq_stream_t **out)
{
    *out = NULL;
    if (c->in_callback)
        return CQLMQ_ESTATE;
    cqlmq_stream_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return CQLMQ_ENOMEM;
    s->err.cql_code = -1;
    cqlc_args_t a = {.op = prepared ? WIRE_OP_EXECUTE : WIRE_OP_QUERY,
                     .cql = cql, .prep = prepared, .o = o, .stream = true};
    int rc = cqlc_submit(c, &a, NULL, NULL, NULL, s, &s->id);
    if (rc != 0) {
        cqlc_error_set(&c->last_error, rc, rc == CQLMQ_ETOOBIG ? "too_big" : "invalid",
                       "the request was not sent: %s", cqlmq_strerror(rc));
        free(s);
        return rc;
    }
    s->c = c;
    s->running = true;
    *out = s;
    return 0;
}

/* Lets go of the consumer's page; grants its credit if the stream runs. */
static void release(cqlmq_stream_t *s)
{
    page_node_t *n = s->cur;
    if (n == NULL)
        return;
    s->cur = NULL;
    if (n->credit && s->running && s->c != NULL) {
        cqlc_req_t *rq = cqlc_req_find(s->c, s->id);
        if (rq != NULL && !rq->cancelled) {
            int rc = cqlc_grant(s->c, rq, 1);
            if (rc != 0)
                cqlc_fail(s->c, rq, rc, "busy", "could not grant credit: %s",
                          cqlmq_strerror(rc));
        }
    }
    cqlmq_result_free(&n->res);
    free(n);
}

int cqlmq_stream_next_page(cqlmq_stream_t *s, const cqlmq_result_t **page)
{
    release(s);
    while (s->head == NULL && s->running) {
        s->ready = false;
        if (s->c->in_callback)
            return CQLMQ_ESTATE;
        int rc = cqlc_wait(s->c, &s->ready);
        if (rc != 0)
            return rc;
    }
    /* Pages that arrived before an error are still good rows. */
    if (s->head != NULL) {
        s->cur = s->head;
        s->head = s->head->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->cur_row = 0;
        *page = s->cur->res;
        return 1;
    }
    return s->status;
}

int cqlmq_stream_next_row(cqlmq_stream_t *s, cqlmq_row_t *row)
{
    for (;;) {
        if (s->cur != NULL && s->cur_row < s->cur->res->nrows) {
            row->res = s->cur->res;
            row->index = s->cur_row++;
            return 1;
        }
        const cqlmq_result_t *page;
        int rc = cqlmq_stream_next_page(s, &page);
        if (rc <= 0)
            return rc;
    }
}

const cqlmq_errinfo_t *cqlmq_stream_error(const cqlmq_stream_t *s) { return &s->err; }

int cqlmq_stream_paging_state(const cqlmq_stream_t *s, const uint8_t **p, size_t *n)
{
    if (s->paging_state == NULL)
        return CQLMQ_ENOTFOUND;
    *p = s->paging_state;
    *n = s->paging_state_len;
    return 0;
}

void cqlmq_stream_totals(const cqlmq_stream_t *s, uint64_t *pages, uint64_t *rows)
{
    if (pages)
        *pages = s->pages;
    if (rows)
        *rows = s->rows;
}

uint64_t cqlmq_stream_id(const cqlmq_stream_t *s) { return s->id; }

static void drop_queue(cqlmq_stream_t *s)
{
    while (s->head != NULL) {
        page_node_t *n = s->head;
        s->head = n->next;
        cqlmq_result_free(&n->res);
        free(n);
    }
    s->tail = NULL;
}

int cqlmq_stream_cancel(cqlmq_stream_t *s)
{
    if (!s->running || s->c == NULL)
        return CQLMQ_ENOTFOUND;
    int rc = cqlmq_cancel(s->c, s->id);
    if (rc == 0)
        drop_queue(s);
    return rc;
}

void cqlmq_stream_free(cqlmq_stream_t **sp)
{
    cqlmq_stream_t *s = sp ? *sp : NULL;
    if (s == NULL)
        return;
    *sp = NULL;
    if (s->running && s->c != NULL) {
        cqlc_req_t *rq = cqlc_req_find(s->c, s->id);
        if (rq != NULL) {
            rq->bstream = NULL; /* completes silently from now on */
            cqlmq_cancel(s->c, s->id);
        }
    }
    drop_queue(s);
    if (s->cur != NULL) {
        cqlmq_result_free(&s->cur->res);
        free(s->cur);
    }
    cqlmq_error_clear(&s->err);
    free(s->paging_state);
    free(s);
}
