/*
 * The HTML report: a page a person opens after a run to see what it
 * did.  It is made from the same results as the manifest, after it,
 * and shows
 *
 *   - the summary (the counts, bytes in and out, time, memory),
 *   - what each format and each width costs, against the sources,
 *   - the failed and skipped sources with their reason and error,
 *   - one row per converted or up-to-date source with a strip of
 *     thumbnails of its outputs, sortable by what it saved.
 *
 * The page is self-contained: its style and its script are inline and
 * pinned by a Content-Security-Policy, so that it loads nothing but
 * the output images, which it names by URLs relative to its own
 * directory (computed once, from the real paths of that directory and
 * of the output root).  Every text from a file name or an error
 * message is escaped, and bytes that are not UTF-8 are shown as \xNN,
 * as in the manifest.
 *
 * A run can have hundreds of thousands of sources, so the page is
 * streamed row by row through stdio into a temporary file that
 * output.c renames into place; the only allocation that grows with
 * the run is the array that orders the rows by saving.  Rows come in
 * that order (biggest saving first, then plan order), so the page
 * reads the same with scripts off and two identical runs give the
 * same page but for the timings and the memory figures.
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htmlreport.h"
#include "output.h"
#include "paths.h"

/* The main thread's temp-file slot: workers use 0..jobs-1. */
#define REPORT_SLOT (OUTPUT_MAX_SLOTS - 1)

/* The box a thumbnail gets, in CSS pixels. */
#define THUMB_MAX_H 96
#define THUMB_MAX_W 192

static const char page_style[] =
	":root{color-scheme:light;--fg:#1d232a;--mute:#5d6873;--line:#d8dee4;"
	"--bg:#fff;--alt:#f6f8fa;--bad:#b42318;--warn:#8a5a00;--good:#137333}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0 auto;max-width:1400px;padding:16px 24px 48px;"
	"font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
	"color:var(--fg);background:var(--bg)}\n"
	"h1{font-size:24px;margin:8px 0 2px}\n"
	"h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;"
	"border-bottom:1px solid var(--line)}\n"
	"h3{font-size:15px;margin:16px 0 6px}\n"
	".meta,.note{color:var(--mute);margin:2px 0 8px}\n"
	".summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));"
	"gap:8px;margin:0}\n"
	".summary div{border:1px solid var(--line);border-radius:6px;padding:8px 10px;"
	"background:var(--alt)}\n"
	".summary dt{color:var(--mute);font-size:12px}\n"
	".summary dd{margin:0;font-size:17px;font-weight:600;"
	"font-variant-numeric:tabular-nums}\n"
	".summary .failed dd{color:var(--bad)}\n"
	".summary .wide{grid-column:span 2}\n"
	".summary .saving dd{color:var(--good)}\n"
	".aggs{display:flex;flex-wrap:wrap;gap:0 40px}\n"
	"table{border-collapse:collapse;margin:4px 0}\n"
	"th,td{padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top;"
	"text-align:right;font-variant-numeric:tabular-nums}\n"
	"th{font-size:12px;color:var(--mute);font-weight:600;white-space:nowrap}\n"
	"th.l,td.l{text-align:left}\n"
	"tbody tr:nth-child(even){background:var(--alt)}\n"
	"td.path{text-align:left;overflow-wrap:anywhere;min-width:14em;max-width:32em;"
	"font-family:ui-monospace,monospace;font-size:13px}\n"
	"td.err{text-align:left;overflow-wrap:anywhere;max-width:48em}\n"
	"tr.failed td.status{color:var(--bad);font-weight:600}\n"
	".warn{color:var(--warn);font-family:system-ui,sans-serif;font-size:12px}\n"
	".tag{color:var(--mute);font-family:system-ui,sans-serif;font-size:12px}\n"
	".neg{color:var(--bad)}\n"
	".alert{color:var(--bad);background:#fdecea;border:1px solid #f5c2c0;"
	"border-radius:6px;padding:8px 12px}\n"
	"#sources{width:100%}\n"
	"#sources th button{font:inherit;color:inherit;background:none;border:0;"
	"padding:0;cursor:pointer;text-decoration:underline dotted}\n"
	"#sources th[aria-sort=descending] button::after{content:\" \\25BC\"}\n"
	"#sources th[aria-sort=ascending] button::after{content:\" \\25B2\"}\n"
	".strip{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end}\n"
	".strip p{margin:0;display:flex;flex-direction:column;align-items:center;"
	"font-size:11px;color:var(--mute);text-align:center;line-height:1.3}\n"
	".strip img{display:block;max-height:96px;max-width:192px;object-fit:contain;"
	"border:1px solid var(--line);cursor:zoom-in;background-color:#fff;"
	"background-image:linear-gradient(45deg,#e8e8e8 25%,transparent 25%,"
	"transparent 75%,#e8e8e8 75%),linear-gradient(45deg,#e8e8e8 25%,#fff 25%,"
	"#fff 75%,#e8e8e8 75%);background-size:12px 12px;"
	"background-position:0 0,6px 6px}\n";

/*
 * The rows arrive sorted by bytes saved, biggest first; a click on a
 * header sorts by that column (again: reverses), ties in plan order,
 * and "#sort=KEY-asc|desc" in the address picks the order on load.
 * The table's data-sort attribute says the script ran and how the
 * rows are ordered.  A thumbnail that does not load (the page was
 * moved away from the outputs) gets data-broken, and a note at the
 * top says how many.
 */
static const char page_script[] =
	"(function () {\n"
	"\"use strict\";\n"
	"var table = document.getElementById(\"sources\");\n"
	"if (!table) return;\n"
	"var body = table.tBodies[0], heads = table.tHead.rows[0].cells;\n"
	"function num(r, k) { return Number(r.getAttribute(\"data-\" + k)); }\n"
	"var keys = {\n"
	"\tpath: function (r) { return num(r, \"i\"); },\n"
	"\tsize: function (r) { return num(r, \"in\"); },\n"
	"\tout: function (r) { return num(r, \"out\"); },\n"
	"\tsaved: function (r) { return num(r, \"in\") - num(r, \"out\"); },\n"
	"\tpct: function (r) { var b = num(r, \"in\");"
	" return b > 0 ? (b - num(r, \"out\")) / b : 0; }\n"
	"};\n"
	"var current = \"\", dir = 0;\n"
	"function mark(key, d) {\n"
	"\tfor (var k = 0; k < heads.length; k++) {\n"
	"\t\tif (heads[k].getAttribute(\"data-key\") === key)\n"
	"\t\t\theads[k].setAttribute(\"aria-sort\", d > 0 ? \"ascending\" : \"descending\");\n"
	"\t\telse\n"
	"\t\t\theads[k].removeAttribute(\"aria-sort\");\n"
	"\t}\n"
	"\ttable.setAttribute(\"data-sort\", key + (d > 0 ? \" ascending\" : \" descending\"));\n"
	"\tcurrent = key;\n"
	"\tdir = d;\n"
	"}\n"
	"function sort(key, d) {\n"
	"\tvar f = keys[key], rows = Array.prototype.slice.call(body.rows);\n"
	"\tvar v = rows.map(function (r) { return [f(r), num(r, \"i\"), r]; });\n"
	"\tv.sort(function (a, b) {\n"
	"\t\treturn a[0] !== b[0] ? (a[0] < b[0] ? -d : d) : a[1] - b[1];\n"
	"\t});\n"
	"\tvar frag = document.createDocumentFragment();\n"
	"\tv.forEach(function (x) { frag.appendChild(x[2]); });\n"
	"\tbody.appendChild(frag);\n"
	"\tmark(key, d);\n"
	"}\n"
	"table.tHead.addEventListener(\"click\", function (e) {\n"
	"\tvar th = e.target.closest(\"th[data-key]\");\n"
	"\tif (!th) return;\n"
	"\tvar key = th.getAttribute(\"data-key\");\n"
	"\tsort(key, key === current ? -dir : key === \"path\" ? 1 : -1);\n"
	"\ttry {\n"
	"\t\thistory.replaceState(null, \"\", \"#sort=\" + key + (dir > 0 ? \"-asc\" : \"-desc\"));\n"
	"\t} catch (err) {}\n"
	"});\n"
	"var broken = 0, note = null;\n"
	"function failed(img) {\n"
	"\tif (img.hasAttribute(\"data-broken\")) return;\n"
	"\timg.setAttribute(\"data-broken\", \"\");\n"
	"\tbroken++;\n"
	"\tif (!note) {\n"
	"\t\tnote = document.createElement(\"p\");\n"
	"\t\tnote.className = \"alert\";\n"
	"\t\tnote.id = \"broken\";\n"
	"\t\tvar at = document.getElementById(\"summary\");\n"
	"\t\tat.parentNode.insertBefore(note, at);\n"
	"\t}\n"
	"\tnote.textContent = broken + (broken === 1 ? \" thumbnail\" : \" thumbnails\") +\n"
	"\t\t\" did not load: the page names the outputs by paths relative to itself,\" +\n"
	"\t\t\" so keep it where it was written, relative to the output directory.\";\n"
	"}\n"
	"document.addEventListener(\"error\", function (e) {\n"
	"\tif (e.target.tagName === \"IMG\") failed(e.target);\n"
	"}, true);\n"
	"Array.prototype.forEach.call(document.images, function (img) {\n"
	"\tif (img.complete && img.naturalWidth === 0) failed(img);\n"
	"});\n"
	"body.addEventListener(\"click\", function (e) {\n"
	"\tif (e.target.tagName === \"IMG\") window.open(e.target.src, \"_blank\");\n"
	"});\n"
	"var m = /^#sort=(path|size|out|saved|pct)-(asc|desc)$/.exec(location.hash);\n"
	"if (m && !(m[1] === \"saved\" && m[2] === \"desc\"))\n"
	"\tsort(m[1], m[2] === \"asc\" ? 1 : -1);\n"
	"else\n"
	"\tmark(\"saved\", -1);\n"
	"})();\n";

/* One row of the sources table, for ordering. */
struct row {
	int64_t saved;
	size_t job;
};

/* Outputs, their bytes and the bytes of the sources that have one, for
 * one format or one width. */
struct agg {
	uint64_t outputs, bytes, src_bytes;
};

static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->saved != y->saved)
		return x->saved > y->saved ? -1 : 1;
	return (x->job > y->job) - (x->job < y->job);
}

/* The length of the well-formed UTF-8 sequence at s, or 0. */
static int
utf8_len(const unsigned char *s)
{
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if (s[0] == 0xe0)
			lo = 0xa0;
		if (s[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* s as HTML text (or a quoted attribute value): markup characters as
 * references, control characters and bytes that are not UTF-8 as
 * \n, \t, \xNN text.  Runs of plain characters go out in one call. */
static void
put_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	int len;

	for (;;) {
		if (*p >= 0x20 && *p < 0x7f && !strchr("&<>\"'", *p)) {
			p++;
			continue;
		}
		if (p > run)
			fwrite(run, 1, (size_t)(p - run), f);
		if (!*p)
			return;
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			len = utf8_len(p);
			/* C0 and C1 controls and DEL are not text */
			if (!len || *p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] < 0xa0)) {
				fprintf(f, "\\x%02x", *p);
				break;
			}
			fwrite(p, 1, (size_t)len, f);
			p += len - 1;
			break;
		}
		run = ++p;
	}
}

/* Whether byte c stands for itself in a URL path. */
static int
url_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '/';
}

/* s percent-encoded for a URL path: every byte but the unreserved
 * characters and '/', so names with spaces, '#', '?', '%', quotes or
 * any byte at all reach the file they name. */
static void
put_url(FILE *f, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *run = p;

	for (;;) {
		if (*p && url_plain(*p)) {
			p++;
			continue;
		}
		if (p > run)
			fwrite(run, 1, (size_t)(p - run), f);
		if (!*p)
			return;
		putc('%', f);
		putc(hex[*p >> 4], f);
		putc(hex[*p & 15], f);
		run = ++p;
	}
}

/* Bytes for people: 950 B, 12.3 kB, 4.5 MB, 1.23 GB (SI, as the
 * terminal summary).  Integer arithmetic: a big page formats a few
 * million of these. */
static const char *
human(uint64_t bytes, char buf[32])
{
	unsigned long long b = bytes, t;

	if (b < 1000) {
		snprintf(buf, 32, "%llu B", b);
	} else if (b < 999950) {
		t = (b + 50) / 100;
		snprintf(buf, 32, "%llu.%llu kB", t / 10, t % 10);
	} else if (b < 999950000) {
		t = (b + 50000) / 100000;
		snprintf(buf, 32, "%llu.%llu MB", t / 10, t % 10);
	} else {
		t = (b + 5000000) / 10000000;
		snprintf(buf, 32, "%llu.%02llu GB", t / 100, t % 100);
	}
	return buf;
}

/* A signed byte count for people: "-1.2 kB" when it grew. */
static const char *
human_signed(int64_t bytes, char buf[32])
{
	char mag[32];

	if (bytes >= 0)
		return human((uint64_t)bytes, buf);
	snprintf(buf, 32, "-%s", human((uint64_t)-(bytes + 1) + 1, mag));
	return buf;
}

/* part / whole as a percentage with one decimal, "n/a" for nothing. */
static const char *
percent(double part, double whole, char buf[32])
{
	if (whole <= 0)
		snprintf(buf, 32, "n/a");
	else
		snprintf(buf, 32, "%.1f%%", 100.0 * part / whole);
	return buf;
}

/* The URL path from directory `from` to directory `to`, both absolute
 * and free of symbolic links, "." and "..": "" when they are the same,
 * else it ends in '/'.  Not yet percent-encoded.  malloc'd. */
static char *
dir_relative(const char *from, const char *to)
{
	size_t common = 0, i, ups = 0, len;
	const char *p, *rest;
	char *out;

	for (i = 0; from[i] && from[i] == to[i]; i++)
		if (from[i] == '/')
			common = i;
	if ((!from[i] && (!to[i] || to[i] == '/')) || (!to[i] && from[i] == '/'))
		common = i;
	for (p = from + common; *p; p++)
		if (*p != '/' && (p == from || p[-1] == '/'))
			ups++;
	rest = to + common;
	while (*rest == '/')
		rest++;
	len = strlen(rest);
	if (!(out = malloc(3 * ups + len + 2)))
		return NULL;
	for (i = 0; i < ups; i++)
		memcpy(out + 3 * i, "../", 3);
	memcpy(out + 3 * ups, rest, len);
	len += 3 * ups;
	if (len && out[len - 1] != '/')
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

/* The real path of the directory that holds `file`.  malloc'd, or
 * NULL with errno set. */
static char *
real_dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir, *real;

	if (!slash)
		return realpath(".", NULL);
	if (slash == file)
		return realpath("/", NULL);
	if (!(dir = strndup(file, (size_t)(slash - file))))
		return NULL;
	real = realpath(dir, NULL);
	free(dir);
	return real;
}

/* The stream the page is written through: stdio buffering onto the
 * temporary file's descriptor, which stays the tempfile's to close,
 * and the errno of the first failed write kept for the message. */
struct sink {
	int fd;
	int error;
};

static ssize_t
sink_write(void *cookie, const char *buf, size_t len)
{
	struct sink *s = cookie;

	if (s->error) {
		errno = s->error;
		return -1;
	}
	if (output_write_all(s->fd, buf, len)) {
		s->error = errno ? errno : EIO;
		return -1;
	}
	return (ssize_t)len;
}

static int
sink_close(void *cookie)
{
	(void)cookie;
	return 0;
}

/* The base64 SHA-256 of text, for a CSP 'sha256-...' source. */
static void
csp_hash(const char *text, char out[64])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 digest[32];
	gsize len = sizeof(digest);
	gchar *b64;

	g_checksum_update(c, (const guchar *)text, (gssize)strlen(text));
	g_checksum_get_digest(c, digest, &len);
	g_checksum_free(c);
	b64 = g_base64_encode(digest, len);
	snprintf(out, 64, "%s", b64);
	g_free(b64);
}

static void
put_head(FILE *f, const struct options *o, const struct summary *sum)
{
	char style_hash[64], script_hash[64];
	int i;

	csp_hash(page_style, style_hash);
	csp_hash(page_script, script_hash);
	fprintf(f, HTML_REPORT_START "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"img-src 'self' file:; style-src 'sha256-%s'; script-src 'sha256-%s'; "
		"base-uri 'none'; form-action 'none'\">\n"
		"<meta name=\"referrer\" content=\"no-referrer\">\n"
		"<meta name=\"generator\" content=\"imgbake %s\">\n",
		style_hash, script_hash, IMGBAKE_VERSION);
	/* which task wrote it: no other writes over it */
	if (o->shard_count > 1)
		fprintf(f, "<meta name=\"imgbake-shard\" content=\"%d/%d\">\n",
			o->shard_index, o->shard_count);
	fprintf(f, "<title>imgbake report: %llu sources</title>\n"
		"<style>%s</style>\n</head>\n<body>\n",
		(unsigned long long)sum->sources, page_style);
	fprintf(f, "<h1>imgbake report</h1>\n<p class=\"meta\">imgbake %s, libvips ",
		IMGBAKE_VERSION);
	put_text(f, o->libvips_version ? o->libvips_version : "unknown");
	fputs(" &middot; formats ", f);
	for (i = 0; i < o->n_formats; i++)
		fprintf(f, "%s%s", i ? ", " : "", format_name(o->formats[i]));
	fputs(" &middot; widths ", f);
	for (i = 0; i < o->n_widths; i++)
		fprintf(f, "%s%d", i ? ", " : "", o->widths[i]);
	if (!o->n_widths)
		fputs("as the source", f);
	fputs(" &middot; output ", f);
	put_text(f, o->output_dir);
	fputs("</p>\n", f);
}

static void
put_stat(FILE *f, const char *cls, const char *label, const char *value)
{
	fprintf(f, "<div%s%s%s><dt>%s</dt><dd>%s</dd></div>\n",
		cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "", label, value);
}

static void
put_summary(FILE *f, const struct summary *sum, uint64_t unfinished, double seconds)
{
	char v[128], a[32], b[32], c[32];

	fputs("<h2 id=\"summary\">Summary</h2>\n<dl class=\"summary\">\n", f);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)sum->sources);
	put_stat(f, NULL, "Sources", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)sum->converted);
	put_stat(f, NULL, "Converted", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)sum->up_to_date);
	put_stat(f, NULL, "Up to date", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)sum->skipped);
	put_stat(f, NULL, "Skipped", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)sum->failed);
	put_stat(f, sum->failed ? "failed" : NULL, "Failed", v);
	if (unfinished) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)unfinished);
		put_stat(f, "failed", "Not finished", v);
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)sum->outputs);
	put_stat(f, NULL, "Outputs", v);
	if (sum->pruned) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)sum->pruned);
		put_stat(f, NULL, "Pruned", v);
	}
	snprintf(v, sizeof(v), "%s &rarr; %s", human(sum->bytes_in, a), human(sum->bytes_out, b));
	put_stat(f, "wide", "Bytes in &rarr; out (converted)", v);
	percent((double)sum->bytes_in - (double)sum->bytes_out, (double)sum->bytes_in, c);
	put_stat(f, "saving", "Saving", c);
	snprintf(v, sizeof(v), "%.2f s", seconds);
	put_stat(f, NULL, "Wall time", v);
	put_stat(f, NULL, "Memory budget", sum->budget ? human(sum->budget, a) : "unknown");
	put_stat(f, NULL, "Peak RSS", sum->peak_rss ? human(sum->peak_rss, a) : "unknown");
	fputs("</dl>\n", f);
}

static void
put_agg_row(FILE *f, const char *label, const struct agg *g)
{
	char a[32], b[32], c[32];

	fprintf(f, "<tr><td class=\"l\">%s</td><td>%llu</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
		label, (unsigned long long)g->outputs, human(g->bytes, a),
		human(g->src_bytes, b), percent((double)g->bytes, (double)g->src_bytes, c));
}

static void
put_agg_head(FILE *f, const char *what)
{
	fprintf(f, "<table class=\"agg\">\n<thead><tr><th class=\"l\">%s</th><th>Outputs</th>"
		"<th>Bytes</th><th>Source bytes</th><th>Share of source bytes</th></tr></thead>\n"
		"<tbody>\n", what);
}

/* Per format and per width: every output of the sources listed, and
 * the bytes of the sources that have at least one of each kind.  An
 * output whose width was not asked for (its source was narrower than
 * every width that was) counts under "source width". */
static void
put_aggregates(FILE *f, const struct options *o, const struct agg *by_format,
	const struct agg *by_width, size_t listed)
{
	char label[32];
	int i, k, shown[FMT_COUNT] = { 0 };

	fputs("<h2 id=\"savings\">Savings by format and width</h2>\n", f);
	if (!listed) {
		fputs("<p class=\"note\">No outputs.</p>\n", f);
		return;
	}
	fprintf(f, "<p class=\"note\">Over the %zu converted and up-to-date sources below; "
		"the share is the outputs&#39; bytes against the bytes of the sources "
		"that have them.</p>\n<div class=\"aggs\">\n<div>\n<h3>By format</h3>\n", listed);
	put_agg_head(f, "Format");
	for (i = 0; i < o->n_formats; i++) {
		k = o->formats[i];
		if (by_format[k].outputs && !shown[k]) {
			put_agg_row(f, format_name(k), &by_format[k]);
			shown[k] = 1;
		}
	}
	for (k = 0; k < FMT_COUNT; k++)
		if (by_format[k].outputs && !shown[k])
			put_agg_row(f, format_name(k), &by_format[k]);
	fputs("</tbody>\n</table>\n</div>\n<div>\n<h3>By width</h3>\n", f);
	put_agg_head(f, "Width");
	for (i = 0; i < o->n_widths; i++)
		if (by_width[i].outputs) {
			snprintf(label, sizeof(label), "%d px", o->widths[i]);
			put_agg_row(f, label, &by_width[i]);
		}
	if (by_width[o->n_widths].outputs)
		put_agg_row(f, "source width", &by_width[o->n_widths]);
	fputs("</tbody>\n</table>\n</div>\n</div>\n", f);
}

static void
put_problems(FILE *f, const struct plan *p, const struct result *results,
	const unsigned char *include, const struct summary *sum)
{
	size_t i;

	fprintf(f, "<h2 id=\"problems\">Failed and skipped: %llu</h2>\n",
		(unsigned long long)(sum->failed + sum->skipped));
	if (!sum->failed && !sum->skipped) {
		fputs("<p class=\"note\">None.</p>\n", f);
		return;
	}
	fputs("<table id=\"problem-list\">\n<thead><tr><th class=\"l\">Source</th>"
	      "<th class=\"l\">Status</th><th class=\"l\">Reason</th><th class=\"l\">Error</th>"
	      "</tr></thead>\n<tbody>\n", f);
	for (i = 0; i < p->n && !ferror(f); i++) {
		const struct result *res = &results[i];

		if (!include[i] || (res->status != JOB_FAILED && res->status != JOB_SKIPPED))
			continue;
		fprintf(f, "<tr class=\"%s\"><td class=\"path\">", status_name(res->status));
		put_text(f, p->jobs[i].src_path);
		fprintf(f, "</td><td class=\"l status\">%s</td><td class=\"l\">%s</td>"
			"<td class=\"err\">", status_name(res->status),
			res->reason != REASON_NONE ? reason_name(res->reason) : "");
		if (res->error)
			put_text(f, res->error);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

/* A thumbnail's box: at most THUMB_MAX_W x THUMB_MAX_H, never larger
 * than the image, its aspect kept, so the page lays out before any
 * image has loaded. */
static void
thumb_size(int w, int h, int *tw, int *th)
{
	if (w <= 0 || h <= 0) {
		*tw = *th = THUMB_MAX_H;
		return;
	}
	*th = h < THUMB_MAX_H ? h : THUMB_MAX_H;
	*tw = (int)((int64_t)w * *th / h);
	if (*tw > THUMB_MAX_W) {
		*tw = THUMB_MAX_W;
		*th = (int)((int64_t)h * THUMB_MAX_W / w);
	}
	if (*tw < 1)
		*tw = 1;
	if (*th < 1)
		*th = 1;
}

static uint64_t
outputs_bytes(const struct result *res)
{
	uint64_t bytes = 0;
	size_t k;

	for (k = 0; k < res->n_outputs; k++)
		bytes += res->outputs[k].bytes;
	return bytes;
}

static void
put_source_row(FILE *f, const struct job *job, const struct result *res,
	size_t index, const char *prefix)
{
	uint64_t out = outputs_bytes(res);
	int64_t saved = (int64_t)job->bytes - (int64_t)out;
	char a[32], b[32], c[32], d[32];
	size_t k;
	int tw, th;

	fprintf(f, "<tr data-i=\"%zu\" data-in=\"%lld\" data-out=\"%llu\"><td class=\"path\">",
		index, (long long)job->bytes, (unsigned long long)out);
	put_text(f, job->src_path);
	if (res->status == JOB_UP_TO_DATE)
		fputs(" <span class=\"tag\">(up to date)</span>", f);
	if (job->ext_mismatch && job->type >= SRC_OTHER)
		fputs("<div class=\"warn\">the extension does not match the content</div>", f);
	if (res->warning) {
		fputs("<div class=\"warn\">", f);
		put_text(f, res->warning);
		fputs("</div>", f);
	}
	fprintf(f, "</td><td>%s</td><td>%s</td><td%s>%s</td><td%s>%s</td><td class=\"l\">"
		"<div class=\"strip\">",
		human((uint64_t)job->bytes, a), human(out, b),
		saved < 0 ? " class=\"neg\"" : "", human_signed(saved, c),
		saved < 0 ? " class=\"neg\"" : "",
		percent((double)saved, (double)job->bytes, d));
	for (k = 0; k < res->n_outputs; k++) {
		const struct out_record *r = &res->outputs[k];

		thumb_size(r->width, r->height, &tw, &th);
		fputs("<p><img src=\"", f);
		put_url(f, prefix);
		put_url(f, r->path);
		fprintf(f, "\" width=%d height=%d loading=lazy alt=\"\">"
			"<span>%s %dw<br>%s</span></p>",
			tw, th, format_name(r->format), r->width, human(r->bytes, a));
	}
	fputs("</div></td></tr>\n", f);
}

/* Count the outputs of one source into the format and width tables;
 * seen_f and seen_w (FMT_COUNT and n_widths + 1 entries) are scratch. */
static void
add_aggregates(const struct options *o, const struct job *job, const struct result *res,
	struct agg *by_format, struct agg *by_width, unsigned char *seen_f,
	unsigned char *seen_w)
{
	size_t k;
	int w;

	memset(seen_f, 0, FMT_COUNT);
	memset(seen_w, 0, (size_t)o->n_widths + 1);
	for (k = 0; k < res->n_outputs; k++) {
		const struct out_record *r = &res->outputs[k];

		for (w = 0; w < o->n_widths && o->widths[w] != r->width; w++)
			;
		by_format[r->format].outputs++;
		by_format[r->format].bytes += r->bytes;
		if (!seen_f[r->format]++)
			by_format[r->format].src_bytes += (uint64_t)job->bytes;
		by_width[w].outputs++;
		by_width[w].bytes += r->bytes;
		if (!seen_w[w]++)
			by_width[w].src_bytes += (uint64_t)job->bytes;
	}
}

int
html_report_write(const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct summary *sum, double seconds, char *err, size_t errlen)
{
	struct agg by_format[FMT_COUNT] = { { 0 } }, *by_width = NULL;
	unsigned char seen_f[FMT_COUNT], *seen_w = NULL;
	struct row *rows = NULL;
	char *page_dir = NULL, *out_root = NULL, *prefix = NULL;
	char qpath[1024];
	struct tempfile t = { .fd = -1, .reg = NULL };
	struct sink sink = { -1, 0 };
	FILE *f = NULL;
	size_t i, n_rows = 0;
	uint64_t unfinished = 0;
	int ret = -1, failed;

	path_quote(o->report_path, qpath, sizeof(qpath));
	by_width = calloc((size_t)o->n_widths + 1, sizeof(*by_width));
	seen_w = malloc((size_t)o->n_widths + 1);
	rows = malloc((p->n ? p->n : 1) * sizeof(*rows));
	if (!by_width || !seen_w || !rows) {
		snprintf(err, errlen, "cannot write report '%s': out of memory", qpath);
		goto out;
	}
	for (i = 0; i < p->n; i++) {
		const struct result *res = &results[i];

		if (!include[i]) {
			unfinished++;
			continue;
		}
		if (res->status != JOB_CONVERTED && res->status != JOB_UP_TO_DATE)
			continue;
		add_aggregates(o, &p->jobs[i], res, by_format, by_width, seen_f, seen_w);
		rows[n_rows].saved = (int64_t)p->jobs[i].bytes - (int64_t)outputs_bytes(res);
		rows[n_rows++].job = i;
	}
	if (n_rows)
		qsort(rows, n_rows, sizeof(*rows), cmp_row);

	/* the directory the page will be in exists once output_open made
	 * it: only then are both real paths known */
	if (output_open(&t, o->report_path, REPORT_SLOT, err, errlen))
		goto out;
	if (!(page_dir = real_dir_of(o->report_path)) ||
	    !(out_root = realpath(o->output_dir, NULL))) {
		snprintf(err, errlen, "cannot write report '%s': cannot resolve '%s': %s",
			 qpath, page_dir ? o->output_dir : o->report_path, strerror(errno));
		goto out;
	}
	if (!(prefix = dir_relative(page_dir, out_root))) {
		snprintf(err, errlen, "cannot write report '%s': out of memory", qpath);
		goto out;
	}
	sink.fd = t.fd;
	if (!(f = fopencookie(&sink, "w", (cookie_io_functions_t){
		NULL, sink_write, NULL, sink_close }))) {
		snprintf(err, errlen, "cannot write report '%s': %s", qpath, strerror(errno));
		goto out;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	__fsetlocking(f, FSETLOCKING_BYCALLER);	/* this thread's alone */

	put_head(f, o, sum);
	put_summary(f, sum, unfinished, seconds);
	put_aggregates(f, o, by_format, by_width, n_rows);
	put_problems(f, p, results, include, sum);
	fprintf(f, "<h2 id=\"outputs\">Outputs: %zu sources</h2>\n", n_rows);
	if (n_rows) {
		fputs("<p class=\"note\">Biggest saving first; click a column&#39;s title to "
		      "sort by it, a thumbnail to open it.</p>\n"
		      "<table id=\"sources\">\n<thead><tr>"
		      "<th class=\"l\" data-key=\"path\"><button type=\"button\">Source</button></th>"
		      "<th data-key=\"size\"><button type=\"button\">Size</button></th>"
		      "<th data-key=\"out\"><button type=\"button\">Output bytes</button></th>"
		      "<th data-key=\"saved\"><button type=\"button\">Saved</button></th>"
		      "<th data-key=\"pct\"><button type=\"button\">Saved %</button></th>"
		      "<th class=\"l\">Outputs (format, width, size)</th></tr></thead>\n<tbody>\n", f);
		for (i = 0; i < n_rows && !ferror(f); i++)
			put_source_row(f, &p->jobs[rows[i].job], &results[rows[i].job],
				       rows[i].job, prefix);
		fputs("</tbody>\n</table>\n", f);
	}
	fprintf(f, "<script>%s</script>\n</body>\n</html>\n", page_script);

	/* a full disk: the first failed write's errno, e.g. ENOSPC */
	failed = fclose(f) != 0 || sink.error;
	f = NULL;
	if (failed) {
		snprintf(err, errlen, "cannot write report '%s': %s", qpath,
			 strerror(sink.error ? sink.error : EIO));
		goto out;
	}
	ret = output_commit(&t, err, errlen);
out:
	if (f)
		fclose(f);
	if (ret)
		output_discard(&t);
	free(prefix);
	free(page_dir);
	free(out_root);
	free(rows);
	free(seen_w);
	free(by_width);
	return ret;
}

int
html_report_replaceable(const struct options *o, const char *path, char *err, size_t errlen)
{
	static const char generator[] = "<meta name=\"generator\" content=\"imgbake ";
	static const char shard[] = "<meta name=\"imgbake-shard\" content=\"";
	char head[2048], own[32];
	const char *at;
	ssize_t n;
	int fd;

	if (output_open_existing(path, "a report", &fd, err, errlen))
		return -1;
	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n == 0)
		return 0;
	if (n < 0 || !memmem(head, (size_t)n, generator, sizeof(generator) - 1)) {
		snprintf(err, errlen, "'%s' is not a report imgbake wrote: not writing over it",
			 path);
		return -1;
	}
	/* another task's, with --shard: each needs its own */
	head[n] = '\0';
	snprintf(own, sizeof(own), "%d/%d\"", o->shard_index, o->shard_count);
	if (o->shard_count > 1 && (at = strstr(head, shard)) &&
	    strncmp(at + sizeof(shard) - 1, own, strlen(own))) {
		snprintf(err, errlen, "'%s' is the report of another task of --shard: give "
			 "each its own, with {shard} in the name", path);
		return -1;
	}
	return 0;
}
