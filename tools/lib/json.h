/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer shared by tscfctl and tscfd.
 *
 * Every -j output goes through it so that strings are escaped once, in
 * one place (interface names, certificate subjects and error texts come
 * from outside and may hold quotes, backslashes or control bytes).
 * Members are written in call order; the writer inserts the commas.
 * A key is given inside an object and must be NULL inside an array or at
 * the top level.
 */
#ifndef TSCF_JSON_H
#define TSCF_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH + 1];
	bool error;		/* nesting too deep or unbalanced */
};

void json_init(struct json_writer *w, FILE *f);
void json_obj_begin(struct json_writer *w, const char *key);
void json_obj_end(struct json_writer *w);
void json_arr_begin(struct json_writer *w, const char *key);
void json_arr_end(struct json_writer *w);
void json_str(struct json_writer *w, const char *key, const char *val);
void json_u64(struct json_writer *w, const char *key, uint64_t val);
void json_i64(struct json_writer *w, const char *key, int64_t val);
void json_bool(struct json_writer *w, const char *key, bool val);
void json_null(struct json_writer *w, const char *key);
/* Ends the document with a newline; returns -1 if it was malformed. */
int json_finish(struct json_writer *w);
/* Writes val as a quoted, escaped JSON string. */
void json_write_string(FILE *f, const char *val);

#endif
