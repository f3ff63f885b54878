/*
 * The unit of work and its outcome.
 *
 * The planner fills one struct job per source before any pixel is
 * touched; a worker fills the matching struct result.  Both live in
 * arrays indexed by plan position, so the main thread can report
 * results in plan order whatever order the workers finish in.
 */
#ifndef IMGBAKE_JOB_H
#define IMGBAKE_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum out_format { FMT_WEBP, FMT_AVIF, FMT_JPEG, FMT_PNG, FMT_COUNT };

/* Encoder settings, chosen for batch work on the web and recorded in
 * the manifest: effort trades CPU for bytes (WebP 0-6, AVIF 0-9). */
#define WEBP_EFFORT 4
#define AVIF_EFFORT 4
/* libaom's intra block copy: off, see avif_encode() in convert.c */
#define AVIF_INTRA_BLOCK_COPY 0
#define JPEG_OPTIMIZE_CODING 1
#define PNG_COMPRESSION 6

/* Source types imgbake decodes, decided by content (libmagic). */
enum src_type {
	SRC_NONE,	/* not an image */
	SRC_OTHER,	/* an image type imgbake does not decode */
	SRC_JPEG,
	SRC_PNG,
	SRC_WEBP,
	SRC_GIF,
	SRC_TIFF,
	SRC_HEIF
};

enum job_status { JOB_PENDING, JOB_CONVERTED, JOB_SKIPPED, JOB_FAILED, JOB_UP_TO_DATE };

/* Why a source was skipped or failed; the manifest's "reason" class. */
enum job_reason {
	REASON_NONE,
	REASON_NOT_AN_IMAGE,
	REASON_UNSUPPORTED,
	REASON_SYMLINK,
	REASON_NOT_REGULAR,
	REASON_COLLISION,
	REASON_UNSAFE_PATH,
	REASON_IO,		/* reading the source or writing an output */
	REASON_CORRUPT,		/* the decoder refused the data */
	REASON_ENCODE,
	REASON_LIMIT,
	REASON_TIMEOUT,
	REASON_INTERRUPTED
};

struct out_record {
	char *path;		/* relative to the output root */
	enum out_format format;
	int width, height;
	uint64_t bytes;
	char recipe[17];	/* hash of all that shapes this output, hex */
	int given_up;		/* of a record carried over: --shard, another
				 * task plans it (see shard_owner in plan.c) */
};

struct prev_source;

/* One planned source. Strings are owned by the plan. */
struct job {
	char *src_path;		/* as given or walked, for open() and messages */
	char *rel_dir;		/* mirrored directory under the output root, "" at top */
	char *stem;		/* file name without its last extension */
	char *mime;		/* libmagic's answer, NULL if not read */
	enum src_type type;
	off_t bytes;
	int named;		/* named on the command line or listed, not walked */
	int killed;		/* a killed run was converting it alone */
	int hand_killed;	/* ... killed by hand, not blamed (see
				 * killed_by_hand in manifest.c) */
	uint64_t killed_budget;	/* ... and that run's memory budget, or that
				 * of its record's (refuse_killed in plan.c) */
	int ext_mismatch;	/* extension says another type than the content */
	int may_skip;		/* no image it converts would be skipped, not
				 * failed (see refused_status in plan.c) */
	char hash[40];		/* "xxh128:" + 32 hex, "" until computed */
	int64_t mtime_ns;	/* when sniffed: to know it unchanged next time */
	uint64_t inode;
	int width, height;	/* upright size, when known from the last run */

	/* Another job with the same content, earlier in the plan, or -1:
	 * this one copies that one's outputs instead of converting. */
	long dup_of;
	/* The jobs that copy this one, in plan order: the first, and in
	 * each the next, or -1. */
	long first_copy, next_copy;

	/* Outputs a previous run made that are still valid: the worker
	 * copies them into the result instead of encoding them again. */
	struct out_record *reuse;
	size_t n_reuse;

	/* The source's identity, from one stat(2) as the plan is made;
	 * have_id 0 when it could not be stat'ed. */
	dev_t dev;
	ino_t ino;
	int have_id;
	const char *entry_dir;	/* its directory resolved, interned; NULL:
				 * unknown (see plan.c) */

	/* Its record in the last manifest, under its path or another name
	 * of its directory entry (./a.png for a.png), or NULL.  Owned by
	 * the prev_manifest, which outlives the plan's use of it. */
	const struct prev_source *prev;

	/* An output an earlier run recorded for another source, still
	 * there, that this job writes instead (the first such), and that
	 * source: for a warning.  Strings of the prev_manifest. */
	const char *took_output, *took_from;

	/* Set when the planner already knows the outcome. */
	enum job_status pre_status;
	enum job_reason pre_reason;
	char *pre_error;
};

/* Filled by exactly one worker; read by the main thread after the
 * scheduler says the job is done. */
struct result {
	enum job_status status;
	enum job_reason reason;
	char *error;		/* detail text, owned */
	int width, height;	/* upright source size, 0 if unknown */
	char hash[40];
	struct out_record *outputs;
	size_t n_outputs;
	size_t n_kept;		/* of them, made by an earlier run and kept */
	uint64_t bytes_out;
	char *warning;		/* --lenient: what the strict decode refused */
	uint64_t lowered;	/* the estimate once the pixels were read, when
				 * lower than before they were; else 0 */
	int disk_full;		/* ENOSPC or EDQUOT: the run must stop */
};

const char *format_name(enum out_format f);
const char *format_ext(enum out_format f);
const char *reason_name(enum job_reason r);
const char *status_name(enum job_status s);

void result_release(struct result *res);

#endif
