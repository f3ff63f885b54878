/*
 * The manifest, written and read with jansson.  Its shape is the
 * contract scripts rely on:
 *
 *   { "imgbake", "libvips", "options": {...}, "summary": {...},
 *     "sources": [ { "path", "type", "bytes", "width", "height", "hash",
 *                    "status", "reason", "error", "warning",
 *                    "outputs": [ { "path", "format", "width", "height",
 *                                   "bytes" } ] } ] }
 *
 * Fields that are unknown for a source are left out rather than null.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "manifest.h"
#include "output.h"
#include "paths.h"

/* The main thread's temp-file slot: workers use 0..jobs-1. */
#define MANIFEST_SLOT (OUTPUT_MAX_SLOTS - 1)

/* JSON strings must be UTF-8; a file name need not be.  Invalid bytes
 * are written as "\xNN" text so the manifest stays valid JSON. */
static json_t *
json_path(const char *s)
{
	json_t *j = json_string(s);
	char *buf, *o;
	const unsigned char *p;

	if (j)
		return j;
	if (!(buf = malloc(4 * strlen(s) + 1)))
		return NULL;
	for (o = buf, p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			*o++ = (char)*p;
		else
			o += sprintf(o, "\\x%02x", *p);
	}
	*o = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static json_t *
options_json(const struct options *o)
{
	json_t *formats = json_array(), *widths = json_array(), *quality = json_object();
	char bg[8];
	int i;

	for (i = 0; i < o->n_formats; i++)
		json_array_append_new(formats, json_string(format_name(o->formats[i])));
	for (i = 0; i < o->n_widths; i++)
		json_array_append_new(widths, json_integer(o->widths[i]));
	for (i = 0; i < FMT_COUNT; i++)
		if (i != FMT_PNG)
			json_object_set_new(quality, format_name(i), json_integer(o->quality[i]));
	snprintf(bg, sizeof(bg), "#%02x%02x%02x", o->background[0],
		 o->background[1], o->background[2]);
	return json_pack("{s:o, s:o, s:o, s:s, s:b, s:s, s:I, s:I}",
			 "formats", formats, "widths", widths, "quality", quality,
			 "name", options_template(o), "keep_metadata", o->keep_metadata,
			 "background", bg, "max_pixels", (json_int_t)o->max_pixels,
			 "memory", (json_int_t)o->memory_budget);
}

static json_t *
source_json(const struct job *job, const struct result *res)
{
	json_t *src = json_object(), *outs;
	size_t i;

	json_object_set_new(src, "path", json_path(job->src_path));
	if (job->mime)
		json_object_set_new(src, "type", json_string(job->mime));
	if (job->mime)
		json_object_set_new(src, "bytes", json_integer((json_int_t)job->bytes));
	if (res->width) {
		json_object_set_new(src, "width", json_integer(res->width));
		json_object_set_new(src, "height", json_integer(res->height));
	}
	if (res->hash[0])
		json_object_set_new(src, "hash", json_string(res->hash));
	json_object_set_new(src, "status", json_string(status_name(res->status)));
	if (res->reason != REASON_NONE)
		json_object_set_new(src, "reason", json_string(reason_name(res->reason)));
	if (res->error && res->status == JOB_FAILED)
		json_object_set_new(src, "error", json_path(res->error));
	if (job->ext_mismatch && job->type > SRC_OTHER)
		json_object_set_new(src, "warning", json_string("extension-mismatch"));
	if (res->status == JOB_CONVERTED) {
		outs = json_array();
		for (i = 0; i < res->n_outputs; i++) {
			const struct out_record *r = &res->outputs[i];

			json_array_append_new(outs, json_pack("{s:o, s:s, s:i, s:i, s:I}",
				"path", json_path(r->path), "format", format_name(r->format),
				"width", r->width, "height", r->height,
				"bytes", (json_int_t)r->bytes));
		}
		json_object_set_new(src, "outputs", outs);
	}
	return src;
}

int
manifest_write(const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct summary *sum, char *err, size_t errlen)
{
	json_t *root, *sources = json_array();
	struct tempfile t;
	char *text = NULL;
	size_t i;
	int ret = -1;

	for (i = 0; i < p->n; i++)
		if (include[i])
			json_array_append_new(sources, source_json(&p->jobs[i], &results[i]));
	/* "memory" is the one part that varies between identical runs */
	root = json_pack("{s:s, s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I}}, s:o}",
		"imgbake", IMGBAKE_VERSION, "libvips", vips_version_string(),
		"options", options_json(o),
		"summary", "sources", (json_int_t)sum->sources,
		"converted", (json_int_t)sum->converted,
		"skipped", (json_int_t)sum->skipped, "failed", (json_int_t)sum->failed,
		"outputs", (json_int_t)sum->outputs, "bytes_in", (json_int_t)sum->bytes_in,
		"bytes_out", (json_int_t)sum->bytes_out,
		"memory", "budget", (json_int_t)sum->budget,
		"peak_rss", (json_int_t)sum->peak_rss,
		"sources", sources);
	if (!root || !(text = json_dumps(root, JSON_INDENT(2)))) {
		snprintf(err, errlen, "cannot write manifest '%s': out of memory",
			 o->manifest_path);
		goto out;
	}
	if (output_open(&t, o->manifest_path, MANIFEST_SLOT, err, errlen))
		goto out;
	if (output_write_all(t.fd, text, strlen(text)) ||
	    output_write_all(t.fd, "\n", 1)) {
		snprintf(err, errlen, "cannot write manifest '%s': %s",
			 o->manifest_path, strerror(errno));
		output_discard(&t);
		goto out;
	}
	ret = output_commit(&t, err, errlen);
out:
	free(text);
	json_decref(root);
	return ret;
}

void
manifest_exclude_outputs(const struct options *o, struct walk_exclude *ex)
{
	json_t *root = json_load_file(o->manifest_path, 0, NULL);
	json_t *src, *out;
	size_t i, k;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "sources"), i, src) {
		json_array_foreach(json_object_get(src, "outputs"), k, out) {
			const char *rel = json_string_value(json_object_get(out, "path"));
			char *norm = rel ? path_normalize(rel) : NULL;
			char *full;

			/* a tampered manifest must not make us skip sources
			 * outside the output root */
			if (norm && norm[0] != '/' && !path_has_dotdot(norm) &&
			    (full = path_join(o->output_dir, norm))) {
				walk_exclude_add(ex, full);
				free(full);
			}
			free(norm);
		}
	}
	json_decref(root);
}
