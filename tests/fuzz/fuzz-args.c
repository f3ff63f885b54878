/*
 * options_parse: the whole command line, so the values reach their
 * parsers through getopt_long as they do in a run, including those
 * with no entry point of their own (-j and the other plain integers)
 * and the checks made after all options are read.  Input: the
 * arguments after "imgbake", separated by NUL bytes.
 *
 * Checked after a successful parse: an output directory and a manifest
 * path; 1..FMT_COUNT distinct formats; qualities 1..100; widths
 * strictly ascending in 1..100000; 0..1024 jobs; sizes and counts in
 * 1..INT64_MAX (0 for a budget not given); a share K/N with K < N, if
 * any; at most one of --json, --print0, -n; a usable name template;
 * the sources are the operands but '-', and there is at least one
 * input.  With --merge-manifests, the operands are OUT and 1+ INs.
 */
#include <getopt.h>

#include "fuzz.h"
#include "options.h"

#define MAX_ARGS 64

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* usage errors and --help print through stdio; reports of this
	 * harness and of the sanitizers go to fd 2 directly */
	if (!(devnull = fopen("/dev/null", "w")))
		abort();
	stdout = devnull;
	stderr = devnull;
	return 0;
}

/* options_parse sets optind = 1, which glibc takes as "go on": a parse
 * that stopped inside "-vX" would leave it pointing into the previous
 * input.  A real run parses once; start every input afresh, in the
 * same "+" (no permuting) mode options_parse asks for. */
static void
reset_getopt(void)
{
	static char prog[] = "imgbake";
	char *argv[] = { prog, NULL };

	optind = 0;
	(void)getopt(1, argv, "+");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 2], *argv[MAX_ARGS + 2], prog[] = "imgbake";
	char *buf = fuzz_cstr(data, size), *p = buf, err[128];
	struct options o;
	int argc = 1, rc, i, stdin_seen = 0, operands = 0, seen[FMT_COUNT] = { 0 };

	args[0] = prog;
	while (size && argc <= MAX_ARGS && p <= buf + size) {
		args[argc++] = p;
		p += strlen(p) + 1;
	}
	args[argc] = NULL;
	memcpy(argv, args, sizeof(argv));

	reset_getopt();
	rc = options_parse(&o, argc, argv);
	CHECK(rc == 0 || rc == 1 || rc == -1);
	if (rc != 0)
		goto out;
	CHECK(optind >= 1 && optind <= argc);
	if (o.merge) {
		CHECK(o.n_sources >= 2 && o.n_sources == argc - optind);
		for (i = 0; i < o.n_sources; i++)
			CHECK(o.sources[i] == args[optind + i]);
		goto out;
	}

	CHECK(o.output_dir && *o.output_dir);
	CHECK(o.manifest_path && *o.manifest_path);
	CHECK(o.n_formats >= 1 && o.n_formats <= FMT_COUNT);
	for (i = 0; i < o.n_formats; i++) {
		CHECK((int)o.formats[i] >= 0 && (int)o.formats[i] < FMT_COUNT);
		CHECK(!seen[o.formats[i]]++);
	}
	for (i = 0; i < FMT_COUNT; i++)
		if (i != FMT_PNG)
			CHECK(o.quality[i] >= 1 && o.quality[i] <= 100);
	CHECK(o.n_widths >= 0);
	CHECK(!o.n_widths || o.widths);
	for (i = 0; i < o.n_widths; i++) {
		CHECK(o.widths[i] >= 1 && o.widths[i] <= 100000);
		CHECK(i == 0 || o.widths[i - 1] < o.widths[i]);
	}
	CHECK(o.jobs >= 0 && o.jobs <= 1024);
	CHECK(o.memory_budget <= (uint64_t)INT64_MAX);
	CHECK(o.max_pixels >= 1 && o.max_pixels <= (uint64_t)INT64_MAX);
	CHECK(o.shard_count >= 0 && o.shard_count <= 1000000);
	CHECK(o.shard_count == 0 || (o.shard_index >= 0 && o.shard_index < o.shard_count));
	CHECK(!o.json || (!o.print0 && !o.dry_run));	/* -n and --print0 go together */
	CHECK(check_template(options_template(&o), o.n_widths, o.n_formats,
			     err, sizeof(err)) == 0);

	/* the operands: every one but '-' is a source, in order */
	for (i = optind; i < argc; i++) {
		if (!strcmp(args[i], "-")) {
			stdin_seen = 1;
			continue;
		}
		CHECK(operands < o.n_sources);
		CHECK(o.sources[operands] == args[i]);
		operands++;
	}
	CHECK(operands == o.n_sources);
	CHECK(o.read_stdin == stdin_seen);
	CHECK(o.n_sources || o.read_stdin || o.files_from);
	CHECK(!(o.read_stdin && o.files_from && !strcmp(o.files_from, "-")));
out:
	options_release(&o);
	free(buf);
	return 0;
}
