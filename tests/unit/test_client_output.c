/*
 * Output formats of the cqlmq CLI (client_output.c): CSV quoting of RFC
 * 4180, JSON lines with their escapes, and the aligned table, page by page.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "cqlc_int.h"
#include "cqlc_output.h"

/* A page of rows (id int, name text, tags list<text>) from the given rows. */
typedef struct trow {
    int64_t id;
    const char *name; /* NULL: null */
} trow_t;

static cqlmq_result_t *page_of(const trow_t *rows, uint32_t n, bool columns, cqlc_cols_t *cols)
{
    mpk_wr_t w;
    zmq_msg_t m;
    char why[160];
    cqlmq_result_t *r = NULL;
    mpk_wr_init(&w);
    mpk_wr_map(&w, columns ? 5 : 4);
    mpk_wr_cstr(&w, "op"), mpk_wr_cstr(&w, "page");
    mpk_wr_cstr(&w, "id"), mpk_wr_uint(&w, 1);
    mpk_wr_cstr(&w, "seq"), mpk_wr_uint(&w, columns ? 0 : 1);
    if (columns) {
        mpk_wr_cstr(&w, "columns"), mpk_wr_array(&w, 3);
        mpk_wr_array(&w, 2), mpk_wr_cstr(&w, "id"), mpk_wr_cstr(&w, "int");
        mpk_wr_array(&w, 2), mpk_wr_cstr(&w, "name"), mpk_wr_cstr(&w, "text");
        mpk_wr_array(&w, 2), mpk_wr_cstr(&w, "tags"), mpk_wr_cstr(&w, "list<text>");
    }
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, n);
    for (uint32_t i = 0; i < n; i++) {
        mpk_wr_array(&w, 3);
        mpk_wr_int(&w, rows[i].id);
        if (rows[i].name)
            mpk_wr_cstr(&w, rows[i].name);
        else
            mpk_wr_nil(&w);
        mpk_wr_array(&w, 1), mpk_wr_cstr(&w, "t\"1");
    }
    zmq_msg_init_size(&m, w.len);
    memcpy(zmq_msg_data(&m), w.data, w.len);
    cr_assert_eq(cqlc_result_from_msg(&m, mpk_cstr("page"), cols, &r, why, sizeof why), 0, "%s", why);
    zmq_msg_close(&m);
    mpk_wr_close(&w);
    return r;
}

/* Writes the pages in fmt and returns the text (free it). */
static char *render(cqlc_out_fmt_t fmt, cqlmq_result_t **pages, int npages)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cqlc_out_t o;
    cqlc_out_init(&o, f, fmt);
    for (int i = 0; i < npages; i++)
        cr_assert_eq(cqlc_out_page(&o, pages[i]), 0);
    cr_assert_eq(cqlc_out_finish(&o), 0);
    cqlc_out_close(&o);
    fclose(f);
    return buf;
}

Test(client_output, quotes_csv_fields_as_rfc_4180_says)
{
    cqlc_sb_t sb;
    cqlc_sb_init(&sb);
    cqlc_csv_field(&sb, "plain", 5);
    cqlc_sb_putc(&sb, '|');
    cqlc_csv_field(&sb, "a,b", 3);
    cqlc_sb_putc(&sb, '|');
    cqlc_csv_field(&sb, "say \"hi\"", 8);
    cqlc_sb_putc(&sb, '|');
    cqlc_csv_field(&sb, "two\nlines", 9);
    cqlc_sb_putc(&sb, '|');
    cqlc_csv_field(&sb, " padded", 7);
    cr_assert_str_eq(sb.p, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" padded\"");
    cqlc_sb_close(&sb);

    trow_t rows[] = {{1, "ada, lovelace"}, {2, NULL}, {3, "q\"uote"}};
    cqlmq_result_t *p = page_of(rows, 3, true, NULL);
    char *out = render(CQLC_OUT_CSV, &p, 1);
    cr_assert_str_eq(out, "id,name,tags\r\n"
                          "1,\"ada, lovelace\",\"['t\"\"1']\"\r\n"
                          "2,,\"['t\"\"1']\"\r\n"
                          "3,\"q\"\"uote\",\"['t\"\"1']\"\r\n");
    free(out);
    cqlmq_result_free(&p);
}

Test(client_output, writes_one_json_object_per_row_with_escapes)
{
    cqlc_sb_t sb;
    cqlc_sb_init(&sb);
    cqlc_json_string(&sb, "a\"b\\c\nd\x01\xc3\xa9", 10);
    cr_assert_str_eq(sb.p, "\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"");
    cqlc_sb_close(&sb);

    trow_t rows[] = {{1, "tab\there"}, {2, NULL}};
    cqlmq_result_t *p = page_of(rows, 2, true, NULL);
    char *out = render(CQLC_OUT_JSON, &p, 1);
    cr_assert_str_eq(out, "{\"id\":1,\"name\":\"tab\\there\",\"tags\":[\"t\\\"1\"]}\n"
                          "{\"id\":2,\"name\":null,\"tags\":[\"t\\\"1\"]}\n");
    free(out);
    cqlmq_result_free(&p);
}

Test(client_output, aligns_the_table_per_page_with_growing_widths)
{
    trow_t first[] = {{1, "ab"}, {100, "c"}};
    trow_t second[] = {{7, "a much longer name"}};
    cqlmq_result_t *pages[2];
    pages[0] = page_of(first, 2, true, NULL);
    pages[1] = page_of(second, 1, false, pages[0]->cols);
    char *out = render(CQLC_OUT_TABLE, pages, 2);
    /* Widths come from the first page; the second page widens "name"
     * for its own rows (a stream is never held whole). */
    cr_assert_str_eq(out, " id  | name | tags\n"
                          "-----+------+---------\n"
                          "   1 | ab   | ['t\"1']\n"
                          " 100 | c    | ['t\"1']\n"
                          "   7 | a much longer name | ['t\"1']\n"
                          "\n(3 rows)\n");
    free(out);
    cqlmq_result_free(&pages[0]);
    cqlmq_result_free(&pages[1]);
}

Test(client_output, counts_display_width_in_code_points_and_parses_formats)
{
    cr_assert_eq(cqlc_display_width("h\xc3\xa9llo", 6), 5);
    cr_assert_eq(cqlc_display_width("", 0), 0);
    cqlc_out_fmt_t f;
    cr_assert_eq(cqlc_out_fmt_parse("csv", &f), 0);
    cr_assert_eq(f, CQLC_OUT_CSV);
    cr_assert_eq(cqlc_out_fmt_parse("xml", &f), CQLMQ_EINVAL);
}

Test(client_output, writes_nothing_for_an_empty_result_but_the_table_footer_only_with_a_header)
{
    cqlmq_result_t *p = page_of(NULL, 0, true, NULL);
    char *out = render(CQLC_OUT_JSON, &p, 1);
    cr_assert_str_eq(out, "");
    free(out);
    out = render(CQLC_OUT_CSV, &p, 1);
    cr_assert_str_eq(out, "id,name,tags\r\n");
    free(out);
    out = render(CQLC_OUT_TABLE, &p, 1);
    cr_assert_str_eq(out, " id | name | tags\n----+------+------\n\n(0 rows)\n");
    free(out);
    cqlmq_result_free(&p);
}
