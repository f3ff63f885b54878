/*
 * Command-line options: one table drives the parser, --help and (by a
 * test) the man page.  The parsed result is one struct options, handed
 * down read-only to every stage.
 */
#ifndef IMGBAKE_OPTIONS_H
#define IMGBAKE_OPTIONS_H

#include <stdint.h>
#include <stddef.h>

#include "job.h"

enum exit_code {
	EXIT_ALL_DONE = 0,
	EXIT_SOME_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_SIGINT = 130,
	EXIT_SIGTERM = 143
};

#define OPT_MAX_LOADERS 16

enum progress_mode { PROGRESS_AUTO, PROGRESS_BAR, PROGRESS_PLAIN, PROGRESS_NONE };

struct options {
	const char *output_dir;
	char *manifest_path;		/* owned; default output_dir/imgbake-manifest.json */
	char *shared_manifest;		/* owned; with --shard and no -m, the unsharded
					 * or merged one, output_dir/imgbake-manifest.json;
					 * with -m 'x/{shard}.json', x/0-of-1.json ... */
	char *shared_manifest_alt;	/* ... or the output root's, the newer */
	const char *base_dir;		/* NULL: the current directory */
	const char *name_template;	/* NULL: the default for the widths given */
	const char *files_from;
	char *report_path;		/* --report: the HTML page, owned, NULL: none */
	enum progress_mode progress;
	int json;			/* --json: a line per source on stdout */
	int print0;			/* --print0: written output paths on stdout */
	int list_formats;
	int shard_index, shard_count;	/* --shard K/N; count 0: not sharded */
	int shard_auto, shards;		/* --shard auto, --shards N */
	const char *shard_from;		/* the variable auto read, or NULL */
	int merge;			/* --merge-manifests OUT IN... */
	int null_separated;
	int read_stdin;			/* '-' among the sources */

	enum out_format formats[FMT_COUNT];
	int n_formats;
	int quality[FMT_COUNT];		/* PNG is lossless; its entry is unused */
	int *widths;			/* owned, ascending, no duplicates */
	int n_widths;

	int jobs;			/* 0: as many as CPUs */
	int dry_run, verbose, quiet, keep_metadata;
	int show_version;		/* -V: main prints the versions */
	int force;			/* rebuild even what is up to date */
	int prune;			/* delete outputs no longer produced */
	int link_duplicates;		/* hard-link, not copy, identical sources' outputs */
	int fsync;			/* outputs reach the disk before their rename */
	const char *libvips_version;	/* set by main: part of every recipe */
	unsigned char background[3];
	uint64_t max_pixels;
	uint64_t max_file_size;		/* bytes; 0: no limit */
	int max_frames;			/* pages of a multi-page source; 0: no limit */
	int timeout;			/* seconds per source; 0: none */
	int lenient;			/* fail_on none, as a second try */
	int follow_symlinks;		/* -L: walks follow links */
	int allow_outside;		/* ... even out of the source roots */
	const char *allow_loaders[OPT_MAX_LOADERS];	/* libvips nicknames, "svgload" */
	int n_allow_loaders;
	uint64_t memory_budget;		/* bytes; 0 until main picks the default */

	char **sources;			/* argv entries, not owned; '-' removed */
	int n_sources;
};

/* Parse argv into *o.  Returns 0 to run, 1 when --help or --version
 * was handled (exit 0), -1 on a usage error (already reported with a
 * short usage on stderr; exit 2).  Main thread only. */
int options_parse(struct options *o, int argc, char **argv);
void options_release(struct options *o);

/* The effective output name template. */
const char *options_template(const struct options *o);

/* Whether the width in a name made from template tmpl may run into what
 * is next to it: {w} beside another placeholder or a digit, as in
 * {stem}{w}, where a4.jpg at 80 pixels and a.jpg at 480 both name
 * a480.  With a non-digit between (the default {stem}-{w}), two names
 * are one only where the plan sees it. */
int options_width_ambiguous(const char *tmpl);

/* Whether some outputs' names are known only as the run goes, so that
 * two sources' names may meet where the plan could not see it: an
 * ambiguous {w} with -w, where a source narrower than every width names
 * its one output by its own; or --allow-loader, where whether a source
 * of a type imgbake has no loader for is converted (or skipped) is
 * known only once libvips has looked at it. */
int options_names_late(const struct options *o);

/* Pure parsers, exposed for the unit tests.  Each returns 0 or -1. */
int parse_format_list(const char *s, enum out_format *out, int *n);
int parse_quality(const char *s, int quality[FMT_COUNT]);
int parse_width_list(const char *s, int **widths, int *n);
int parse_color(const char *s, unsigned char rgb[3]);
int parse_count(const char *s, uint64_t *out);	/* 1000, 64k, 256M, 1G */
/* A template whose file name, without {ext}, ends in the extension of
 * another image format than one of the n formats f (AVIF written into
 * "x.webp"): -1 and a message. */
int check_template_ext(const char *tmpl, const enum out_format *f, int n, char *err,
	size_t errlen);
int check_template(const char *tmpl, int n_widths, int n_formats,
	char *err, size_t errlen);

/* Print --help (to stdout) from the option table. */
void options_help(void);
/* Print the one-line usage to stderr. */
void options_usage(void);

#endif
