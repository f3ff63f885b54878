/*
 * File names through the manifest and back: manifest_path_json writes a
 * name that is not UTF-8 with its bytes >= 0x80 as "\xNN" text (JSON
 * strings must be UTF-8), and a backslash that starts such text in any
 * name as "\x5c"; manifest_path_value reads that back to the bytes.
 * Input: a file name (up to the first NUL).  Checked: every name
 * written reads back unchanged, and any stored string reads back to
 * something, never longer.
 */
#include <jansson.h>

#include "fuzz.h"
#include "manifest.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_cstr(data, size), *back;
	json_t *j = manifest_path_json(name);

	CHECK(j);
	back = manifest_path_value(j);
	CHECK(back);
	CHECK(strlen(back) <= strlen(json_string_value(j)));
	CHECK(!strcmp(back, name));
	free(back);
	json_decref(j);

	/* the name as stored text, whatever it holds */
	if ((j = json_string(name))) {
		back = manifest_path_value(j);
		CHECK(back && strlen(back) <= strlen(name));
		free(back);
		json_decref(j);
	}
	free(name);
	return 0;
}
