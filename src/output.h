/*
 * Writing outputs safely: every file is written under a temporary name
 * in its destination directory and renamed into place, so a reader sees
 * the old file or the complete new one, never a partial one.  Temporary
 * files are registered so that a signal handler can remove them.
 */
#ifndef IMGBAKE_OUTPUT_H
#define IMGBAKE_OUTPUT_H

#include <stddef.h>

#define OUTPUT_MAX_SLOTS 1024

struct temp_slot;

struct tempfile {
	int fd;			/* -1 when closed */
	struct temp_slot *reg;	/* registry slot, NULL when none */
	char *path;		/* temporary name, owned */
	char *final_path;	/* name to rename to, owned */
	int swapped;		/* path holds the file final_path replaced */
};

/* Make the registry's slots for workers 0..n-1, per_worker each (the
 * most temporary files one worker holds at once).  The main thread's
 * slot, OUTPUT_MAX_SLOTS - 1, is always there.  Call once, before the
 * workers start.  0, or -1 when out of memory. */
int output_workers(int n, int per_worker);

/* Create the directories of `final_path` as needed and open a new
 * temporary file beside it, registered in a free slot of `slot`'s
 * group (a worker's own, so slots need no lock).  Returns 0 or -1 with
 * errno set; `err` receives a message.  Thread-safe for distinct
 * slots. */
int output_open(struct tempfile *t, const char *final_path, int slot,
	char *err, size_t errlen);

/* Give the file the usual mode (0666 & ~umask) and close it, still
 * under its temporary name (flushed to disk first with --fsync).  On
 * failure the temporary file is removed.  0 or -1 with a message and
 * errno set. */
int output_finish(struct tempfile *t, char *err, size_t errlen);

/* Rename a finished file into place.  On failure the temporary file,
 * or the output when its directory cannot be flushed, is removed.  0 or
 * -1 with a message in err and errno set. */
int output_publish(struct tempfile *t, char *err, size_t errlen);

/* output_publish, but a regular file that the output replaces is
 * kept under the temporary name (the two names are swapped), so that
 * output_unpublish() can put it back; output_discard() removes it.
 * Where the file system cannot swap names, the old file is replaced
 * for good, as by output_publish().  0 or -1 with a message in err and
 * errno set. */
int output_publish_keep(struct tempfile *t, char *err, size_t errlen);

/* Undo output_publish_keep(): the file it replaced back in place, or
 * the output removed when it replaced none.  Best effort. */
void output_unpublish(struct tempfile *t);

/* output_finish, then output_publish. */
int output_commit(struct tempfile *t, char *err, size_t errlen);

/* Close and remove the temporary file; safe to call twice. */
void output_discard(struct tempfile *t);

/* Write all of buf to fd.  0 or -1 with errno set. */
int output_write_all(int fd, const void *buf, size_t len);

/* mkdir -p. 0 or -1 with errno set. */
int output_mkdirs(const char *dir);

/* Refuse to write through the output tree: 1 when a directory of
 * `rel` below `root` is a symbolic link, -1 when it is a file (err
 * says which), 0 when each is a directory or not there yet. */
int output_check_dirs(const char *root, const char *rel, char *err, size_t errlen);

/* Remove every registered temporary file, or with main_too 0 the
 * workers' alone.  Async-signal-safe: meant for the signal handler; a
 * worker whose file vanished fails its rename and reports the job as
 * interrupted.  The main thread's file (the manifest, the report, the
 * copy for a duplicate) is left to it on a first signal: it finishes
 * that file and writes the manifest of what finished. */
void output_remove_temps(int main_too);

/* Give dst the content of src, atomically: a copy, or with hard_link a
 * second name for the same file.  Returns 0 or -1 with a message, and
 * errno set. */
int output_copy(const char *src, const char *dst, int slot, int hard_link,
	char *err, size_t errlen);

/* Remove the temporary files a killed run left anywhere under dir
 * (SIGKILL leaves no chance to clean up).  With `others` (other runs
 * write there), only those no run holds: each run holds a lock on its
 * temporary files until they have their final names.  Returns how
 * many. */
size_t output_sweep_temps(const char *dir, int others);

/* Remove the temporary files of final_path (a manifest, a report) that
 * dead runs left beside it, where no sweep of the output tree looks:
 * a manifest given by -m elsewhere, a report written after the journal
 * went.  Only those empty or starting with `start` (what such a file
 * begins with), lest a user's file named so go.  Returns how many. */
size_t output_sweep_beside(const char *final_path, const char *start);

/* Runs that share an output root (the shards of a job array, or two
 * runs started by mistake) each hold a shared lock on its directory for
 * as long as they run.  With `swept`, the temporary files of dead runs
 * under it are removed first, their count in *swept: all of them when
 * no other run holds the root, else those no run holds.
 * Returns the descriptor that holds the lock, to keep open, or -1 when
 * the root cannot be opened (not made yet). */
int output_lock_root(const char *root, size_t *swept);

/* Open for reading the file at path, which a manifest or report (what,
 * "a manifest") is to replace, to see whether it is one: 0 with *fd
 * open, or -1 when there is none (or a directory on the way cannot be
 * searched: writing will say why).  -1 with a message when it must not
 * be replaced: it is not a regular file, or cannot be read (the rename
 * would replace it all the same). */
int output_open_existing(const char *path, const char *what, int *fd,
	char *err, size_t errlen);

/* path made absolute: its longest leading part that exists resolved
 * (realpath: links, and a working directory reached through one), the
 * rest with "." and ".." taken lexically.  NULL when nothing of it
 * resolves or memory runs out. */
char *output_resolved(const char *path);

/* Whether a and b name one file: the same inode if both exist, else the
 * same path once normalised. */
int output_same_file(const char *a, const char *b);

/* Read the process umask, once at start-up by the main thread, before
 * any worker.  With `durable`, every commit and copy is flushed to disk
 * (fsync(2)) before its rename and its directory after it, so a crash
 * or power failure leaves either the old file or the whole new one. */
void output_init(int durable);

/* Claim the output name rel (relative to the output root) for owner (see
 * plan_name_owner): 0 when it is the owner's (claimed now, *fresh set
 * if fresh is not NULL, or before by the same owner), 1 when another
 * claimed it first, -1 when out of memory.  The plan refuses two
 * sources writing one name; this catches the names it could not know,
 * made from a source's own width.  Thread-safe. */
int output_claim(const char *rel, const void *owner, int *fresh);

/* Whether rel is claimed, by another than owner. */
int output_claimed_by_other(const char *rel, const void *owner);

/* Give up the claim on rel: one just made (fresh) by a source that
 * fails before it could write. */
void output_unclaim(const char *rel);

/* Forget every claim. */
void output_claims_release(void);

#endif
