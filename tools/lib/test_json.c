// SPDX-License-Identifier: GPL-2.0
/* The JSON writer against expected bytes, escaping included. */
#include <stdlib.h>
#include <string.h>
#include "json.h"

static int failed;

static void expect(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want)) {
		fprintf(stderr, "FAIL %s:\n  got  %s\n  want %s\n", what, got, want);
		failed++;
	}
}

int main(void)
{
	char *buf = NULL;
	size_t len = 0;
	struct json_writer w;
	FILE *f = open_memstream(&buf, &len);

	json_init(&w, f);
	json_obj_begin(&w, NULL);
	json_str(&w, "ifname", "a\"b\\c\n\x01\x7f");
	json_u64(&w, "n", 18446744073709551615ULL);
	json_i64(&w, "m", -5);
	json_arr_begin(&w, "list");
	json_bool(&w, NULL, true);
	json_null(&w, NULL);
	json_obj_begin(&w, NULL);
	json_obj_end(&w);
	json_arr_end(&w);
	json_str(&w, "none", NULL);
	json_obj_end(&w);
	if (json_finish(&w))
		expect("balanced", "error", "ok");
	fclose(f);
	expect("document", buf,
	       "{\"ifname\": \"a\\\"b\\\\c\\n\\u0001\\u007f\", \"n\": 18446744073709551615, "
	       "\"m\": -5, \"list\": [true, null, {}], \"none\": null}\n");
	free(buf);

	f = open_memstream(&buf, &len);
	json_init(&w, f);
	json_obj_begin(&w, NULL);
	if (json_finish(&w) == 0)
		expect("unbalanced detected", "ok", "error");
	fclose(f);
	free(buf);

	if (!failed)
		printf("json: ok\n");
	return failed ? 1 : 0;
}
