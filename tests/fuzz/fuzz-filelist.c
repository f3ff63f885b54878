/*
 * The source lists of -T FILE (and '-'), newline- or NUL-separated
 * (-0), read by inputs_collect in inputs.c.  Input: one byte of flags
 * (bit 0: -0, bit 1: --base sub, bit 2: -L, bit 3: --allow-outside),
 * then the list.
 *
 * The plan and the walk are replaced by fakes that record what
 * inputs.c hands them, and the run happens in a scratch directory with
 * known regular files and directories and no symlinks.  Checked: every
 * non-empty entry of the list, in order, becomes exactly one source
 * (a directory is walked, anything else is added as named); nothing
 * else is added; a newline list holding a NUL is refused; a walked directory is one of the roots -L may follow
 * links into; a source accepted for conversion is a regular file and
 * its mirrored path is relative, normalised, free of "..", and names
 * the same file under the base; one under the base with no ".." is
 * never refused; every refused source has a reason and no mirror path.
 *
 * An input runs inside the scratch directory: give libFuzzer an
 * absolute -artifact_prefix, or a crashing input is saved there.
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "inputs.h"
#include "paths.h"

struct event {
	char *path, *rel;
	int named, walked;
	enum job_status status;
	enum job_reason reason;
	int has_error;
};

static struct event *events;
static size_t n_events, cap_events;
static char sandbox[PATH_MAX], list_path[PATH_MAX];
static int list_fd = -1, sandbox_fd = -1, home_fd = -1;

static void
record(const char *path, const char *rel, int named, int walked,
	enum job_status status, enum job_reason reason, const char *error)
{
	struct event *e;

	if (n_events == cap_events) {
		cap_events = cap_events ? 2 * cap_events : 64;
		if (!(events = realloc(events, cap_events * sizeof(*events))))
			abort();
	}
	e = &events[n_events++];
	e->path = strdup(path);
	e->rel = rel ? strdup(rel) : NULL;
	if (!e->path || (rel && !e->rel))
		abort();
	e->named = named;
	e->walked = walked;
	e->status = status;
	e->reason = reason;
	e->has_error = error && *error;
}

/* The fake plan: remember the call. */
int
plan_add(struct plan *p, const char *path, const char *rel, int named,
	enum job_status status, enum job_reason reason, const char *error)
{
	(void)p;
	CHECK(path);
	record(path, rel, named, 0, status, reason, error);
	return 0;
}

static const struct options *cur_options;

/* Nothing is excluded here: the fake has no output root. */
int
walk_excluded(const struct walk_exclude *ex, const struct stat *st)
{
	(void)st;
	CHECK(ex && !ex->n);
	return 0;
}

/* The fake walk: remember the root, hand back one walked entry so the
 * callback path is taken too (its record carries named = 0).  A walked
 * directory is one of the roots -L may follow links into. */
int
walk_tree(const char *root, const struct walk_exclude *ex,
	const struct walk_links *links, walk_fn fn, void *arg)
{
	char *child = path_join(root, "walked.png"), *real = realpath(root, NULL);
	size_t i;

	(void)ex;
	CHECK(root && child && real && links);
	CHECK(links->follow == cur_options->follow_symlinks);
	CHECK(links->allow_outside == cur_options->allow_outside);
	for (i = 0; i < links->n_roots; i++)
		if (!strcmp(links->roots[i], real))
			break;
	CHECK(i < links->n_roots);
	free(real);
	record(root, NULL, 1, 1, JOB_PENDING, REASON_NONE, NULL);
	CHECK(fn(arg, child, "walked.png", JOB_PENDING, REASON_NONE, NULL) == 0);
	free(child);
	return 0;
}

static void
make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd))
		abort();
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	if (list_fd >= 0)
		unlink(list_path);
	if (*sandbox)
		nftw(sandbox, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	(void)argc;
	(void)argv;
	snprintf(sandbox, sizeof(sandbox), "%s/imgbake-fuzz-list.XXXXXX", tmp);
	snprintf(list_path, sizeof(list_path), "%s/imgbake-fuzz-list.XXXXXX", tmp);
	if (!mkdtemp(sandbox) || (list_fd = mkstemp(list_path)) < 0)
		abort();
	atexit(cleanup);
	/* libFuzzer still reads corpora and dictionaries relative to the
	 * current directory: enter the sandbox only while an input runs */
	if ((home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (sandbox_fd = open(sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fchdir(sandbox_fd))
		abort();
	/* physical path: the checks compare with realpath() */
	if (!getcwd(sandbox, sizeof(sandbox)))
		abort();
	if (mkdir("sub", 0755) || mkdir("sub/deeper", 0755) || mkdir("empty", 0755) ||
	    mkfifo("fifo", 0644))
		abort();
	make_file("a.jpg");
	make_file("b c.png");
	make_file(".hidden.webp");
	make_file("-");
	make_file("sub/d.webp");
	make_file("sub/deeper/e.gif");
	make_file("sub/new\nline.jpg");
	if (fchdir(home_fd))
		abort();
	return 0;
}

static void
check_event(const struct event *e, const char *base_real)
{
	struct stat st;
	int exists = stat(e->path, &st) == 0;

	CHECK(e->named);
	if (e->walked) {
		CHECK(exists && S_ISDIR(st.st_mode));
		return;
	}
	CHECK(!(exists && S_ISDIR(st.st_mode)));
	if (e->status != JOB_PENDING) {
		CHECK(e->status == JOB_FAILED);
		CHECK(e->reason != REASON_NONE && e->has_error);
		CHECK(!e->rel);
	} else {
		char *norm, *joined, real[PATH_MAX];

		CHECK(e->reason == REASON_NONE && e->rel);
		CHECK(exists && S_ISREG(st.st_mode));
		CHECK(e->rel[0] && e->rel[0] != '/' && strcmp(e->rel, "."));
		CHECK(!path_has_dotdot(e->rel));
		norm = path_normalize(e->rel);
		CHECK(norm && !strcmp(norm, e->rel));
		free(norm);
		/* no symlinks here: the mirror path names the file itself */
		if (e->path[0] != '/') {
			CHECK(realpath(e->path, real));
			joined = path_join(base_real, e->rel);
			CHECK(joined && !strcmp(joined, real));
			free(joined);
		}
	}
	/* a regular file under the base, named without "..", is taken */
	if (e->path[0] != '/' && exists && S_ISREG(st.st_mode)) {
		char *norm = path_normalize(e->path), real[PATH_MAX];
		size_t blen = strlen(base_real);

		CHECK(norm && realpath(e->path, real));
		if (!path_has_dotdot(norm) && !strncmp(real, base_real, blen) &&
		    real[blen] == '/')
			CHECK(e->status == JOB_PENDING);
		free(norm);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options o;
	struct walk_exclude ex = { NULL, 0, 0 };
	struct plan p = { 0 };
	char err[256], base_real[PATH_MAX];
	const uint8_t *list, *end, *rec;
	size_t list_len, i;
	int sep, r;

	if (size < 1)
		return 0;
	if (fchdir(sandbox_fd))
		abort();
	memset(&o, 0, sizeof(o));
	o.null_separated = data[0] & 1;
	o.base_dir = data[0] & 2 ? "sub" : NULL;
	o.follow_symlinks = !!(data[0] & 4);
	o.allow_outside = !!(data[0] & 8);
	o.files_from = list_path;
	cur_options = &o;
	sep = o.null_separated ? '\0' : '\n';
	list = data + 1;
	list_len = size - 1;
	if (ftruncate(list_fd, 0) ||
	    pwrite(list_fd, list, list_len, 0) != (ssize_t)list_len)
		abort();
	CHECK(realpath(o.base_dir ? o.base_dir : ".", base_real));

	n_events = 0;
	err[0] = '\0';
	r = inputs_collect(&o, &ex, &p, err, sizeof(err));
	/* a NUL in a newline list: refused, -0 named in the message */
	if (!o.null_separated && memchr(list, '\0', list_len)) {
		CHECK(r == -1 && strstr(err, "needs -0"));
		goto out;
	}
	CHECK(r == 0);

	/* replay the list: one source per non-empty entry, in order */
	for (rec = list, end = list + list_len, i = 0; rec < end; ) {
		const uint8_t *stop = memchr(rec, sep, (size_t)(end - rec));
		size_t len = stop ? (size_t)(stop - rec) : (size_t)(end - rec);

		if (len) {
			/* the entry as a C string (without -0, one with a NUL
			 * was refused above) */
			size_t clen = strnlen((const char *)rec, len);
			const struct event *e;

			CHECK(i < n_events);
			e = &events[i++];
			CHECK(strlen(e->path) == clen && !memcmp(e->path, rec, clen));
			check_event(e, base_real);
			if (e->walked) {
				/* followed by the entry the fake walk gave back */
				CHECK(i < n_events);
				CHECK(!events[i].named && events[i].rel &&
				      !strcmp(events[i].rel, "walked.png"));
				i++;
			}
		}
		rec += len + (stop ? 1 : 0);
	}
	CHECK(i == n_events);
out:
	for (i = 0; i < n_events; i++) {
		free(events[i].path);
		free(events[i].rel);
	}
	if (fchdir(home_fd))
		abort();
	return 0;
}
