// SPDX-License-Identifier: GPL-2.0
/* A small streaming JSON writer: see json.h. */
#include "json.h"

void json_init(struct json_writer *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->need_comma[0] = false;
	w->error = false;
}

void json_write_string(FILE *f, const char *val)
{
	const unsigned char *p = (const unsigned char *)(val ? val : "");

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			/* Control bytes and DEL escaped; other bytes pass as they are. */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* The separator and key that come before every member. */
static void member(struct json_writer *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputs(", ", w->f);
	w->need_comma[w->depth] = true;
	if (key) {
		json_write_string(w->f, key);
		fputs(": ", w->f);
	}
}

static void open(struct json_writer *w, const char *key, char c)
{
	member(w, key);
	fputc(c, w->f);
	if (w->depth >= JSON_MAX_DEPTH) {
		w->error = true;
		return;
	}
	w->need_comma[++w->depth] = false;
}

static void close_(struct json_writer *w, char c)
{
	if (w->depth == 0)
		w->error = true;
	else
		w->depth--;
	fputc(c, w->f);
}

void json_obj_begin(struct json_writer *w, const char *key) { open(w, key, '{'); }
void json_obj_end(struct json_writer *w) { close_(w, '}'); }
void json_arr_begin(struct json_writer *w, const char *key) { open(w, key, '['); }
void json_arr_end(struct json_writer *w) { close_(w, ']'); }

void json_str(struct json_writer *w, const char *key, const char *val)
{
	member(w, key);
	if (val)
		json_write_string(w->f, val);
	else
		fputs("null", w->f);
}

void json_u64(struct json_writer *w, const char *key, uint64_t val)
{
	member(w, key);
	fprintf(w->f, "%llu", (unsigned long long)val);
}

void json_i64(struct json_writer *w, const char *key, int64_t val)
{
	member(w, key);
	fprintf(w->f, "%lld", (long long)val);
}

void json_bool(struct json_writer *w, const char *key, bool val)
{
	member(w, key);
	fputs(val ? "true" : "false", w->f);
}

void json_null(struct json_writer *w, const char *key)
{
	member(w, key);
	fputs("null", w->f);
}

int json_finish(struct json_writer *w)
{
	fputc('\n', w->f);
	fflush(w->f);
	return (w->error || w->depth != 0) ? -1 : 0;
}
