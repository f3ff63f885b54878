/*
 * Atomic output files and the registry of live temporary files.
 *
 * The registry is an array of slots, a group of them for each worker
 * (as many as one job has outputs, since a job's outputs are renamed
 * into place together at its end) and one for the main thread, so a
 * thread registers its temporary files without a lock, and the signal
 * handler can walk them without taking one: a slot's name is written
 * completely before its `live` flag is raised and the flag is cleared
 * before the name is reused.  The handler only reads and calls
 * unlink(2).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "output.h"
#include "paths.h"

struct temp_slot {
	atomic_int live;
	char path[PATH_MAX];
};

/* The main thread's slot, and the workers' groups once output_workers
 * has made them; never freed, as a signal may come at any time. */
static struct temp_slot main_slot;
static struct temp_slot *_Atomic worker_slots;
/* Whether a finished temporary file keeps its descriptor, and so its
 * lock, until it is renamed: a job holds all its outputs until the last
 * is written, and jobs x outputs descriptors must fit RLIMIT_NOFILE. */
static int hold_temps = 1;

static atomic_int n_groups, group_size;
static mode_t file_mode = 0644;
static int durable;		/* --fsync */

void
output_init(int durable_writes)
{
	mode_t mask = umask(0);

	umask(mask);
	file_mode = 0666 & ~mask;
	durable = durable_writes;
}

/* Whether `held` more descriptors fit, with room for the sources, the
 * decoders' and the run's own: the soft limit is raised towards the
 * hard one if need be (1024 is a common soft limit; 40 widths of 4
 * formats at -j8 hold 1280). */
static int
fd_room(rlim_t held)
{
	struct rlimit rl;
	rlim_t need = held + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need)) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return 0;
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need;
}

int
output_workers(int n, int per_worker)
{
	struct temp_slot *slots;

	if (n < 1 || per_worker < 1 || n >= OUTPUT_MAX_SLOTS ||
	    !(slots = calloc((size_t)n * (size_t)per_worker, sizeof(*slots))))
		return -1;
	hold_temps = fd_room((rlim_t)n * (rlim_t)per_worker);
	atomic_store(&group_size, per_worker);
	atomic_store(&worker_slots, slots);
	atomic_store(&n_groups, n);
	return 0;
}

/* A free slot of group `group`, or NULL. */
static struct temp_slot *
free_slot(int group)
{
	struct temp_slot *slots = atomic_load(&worker_slots);
	int k, size = atomic_load(&group_size);

	if (group == OUTPUT_MAX_SLOTS - 1)
		return atomic_load(&main_slot.live) ? NULL : &main_slot;
	if (group < 0 || group >= atomic_load(&n_groups))
		return NULL;
	for (k = 0; k < size; k++)
		if (!atomic_load(&slots[group * size + k].live))
			return &slots[group * size + k];
	return NULL;
}

/* With --fsync, make the creation or rename of `path` durable: flush
 * the directory it is in.  0, or -1 with errno.  A file system that
 * cannot sync a directory (EINVAL) keeps it as durable as it can. */
static int
sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, r = -1, saved;

	if (!durable)
		return 0;
	if (!slash)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (!dir)
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		r = fsync(fd) && errno != EINVAL ? -1 : 0;
		saved = errno;
		close(fd);
		errno = saved;
	}
	saved = errno;
	free(dir);
	errno = saved;
	return r;
}

static int
mkdirs(const char *dir)
{
	char *buf, *p;
	int ret = 0;

	if (!*dir || (mkdir(dir, 0777) == 0 && !sync_parent(dir)) || errno == EEXIST)
		return 0;
	if (errno != ENOENT || !(buf = strdup(dir)))
		return -1;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) ? errno != EEXIST : sync_parent(buf)) {
			ret = -1;
			break;
		}
		*p = '/';
	}
	if (ret == 0 && (mkdir(buf, 0777) ? errno != EEXIST : sync_parent(buf)))
		ret = -1;
	free(buf);
	return ret;
}

/* With --fsync the lock makes "the directory exists" mean "its entry is
 * on disk": without it a worker finding a directory that another has
 * just made (EEXIST) could commit an output into it before the maker's
 * sync of the parent, and a crash then would lose a reported output. */
int
output_mkdirs(const char *dir)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int ret, saved;

	if (!durable)
		return mkdirs(dir);
	pthread_mutex_lock(&lock);
	ret = mkdirs(dir);
	saved = errno;
	pthread_mutex_unlock(&lock);
	errno = saved;
	return ret;
}

/* Take the lock of a temporary file just made: 1, or 0 when a sweep
 * holds it or has removed it (the file at path is another, or none).
 * A file system without locks: 1 while the file is there. */
static int
locked_at(int fd, const char *path)
{
	struct stat held, named;

	if (flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK)
		return 0;
	return !fstat(fd, &held) && !lstat(path, &named) &&
	       held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/* mkostemp(3), but the name is in registry slot `slot` (and marked
 * live) before open(2) can create the file. */
static int
create_registered(char *path, struct temp_slot *reg)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static atomic_uint counter;
	size_t len = strlen(path);
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() * 2654435761u ^
			atomic_fetch_add(&counter, 1) * 40503u;
	int tries, i, fd;

	for (tries = 0; tries < 100; tries++) {
		for (i = 0; i < 6; i++)
			path[len - 6 + i] = chars[rand_r(&seed) % (sizeof(chars) - 1)];
		atomic_store(&reg->live, 0);
		memcpy(reg->path, path, len + 1);
		atomic_store(&reg->live, 1);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			/* held until the file has its final name: a sweep by
			 * another run removes only temporary files no live
			 * run holds (see output_sweep_temps).  One that took
			 * this file between its creation and the lock holds
			 * it, or has removed it: another name then. */
			if (!locked_at(fd, path)) {
				close(fd);
				continue;
			}
			return fd;
		}
		atomic_store(&reg->live, 0);
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
output_open(struct tempfile *t, const char *final_path, int slot,
	char *err, size_t errlen)
{
	const char *slash = strrchr(final_path, '/');
	size_t dlen = slash ? (size_t)(slash - final_path) : 0;
	const char *base = slash ? slash + 1 : final_path;
	struct temp_slot *reg = free_slot(slot);
	char *dir = NULL;
	int saved;

	t->fd = -1;
	t->reg = NULL;
	t->path = NULL;
	t->final_path = NULL;
	t->swapped = 0;
	if (!reg) {
		errno = EINVAL;
		snprintf(err, errlen, "too many temporary files at once");
		return -1;
	}
	if (!(dir = strndup(final_path, dlen)) || !(t->final_path = strdup(final_path)))
		goto fail;
	/* With --fsync the directories are made, and synced, first.
	 * Otherwise a directory is made when the first output into it
	 * finds it missing, rather than tried once for every output. */
	if (durable && output_mkdirs(dir))
		goto fail_dir;
	/* ".name.imgbake-XXXXXX": hidden, and recognisable by the walk;
	 * of a name near NAME_MAX, its start */
	if (asprintf(&t->path, "%.*s%s.%.*s.imgbake-XXXXXX", (int)dlen, final_path,
		     slash ? "/" : "", NAME_MAX - (int)sizeof(".imgbake-XXXXXX"), base) < 0) {
		t->path = NULL;
		goto fail;
	}
	if (strlen(t->path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	/* register each candidate name before the file can exist, so a
	 * signal at any moment finds every temporary file in the registry */
	t->fd = create_registered(t->path, reg);
	if (t->fd < 0 && errno == ENOENT && !durable) {
		if (output_mkdirs(dir))
			goto fail_dir;
		t->fd = create_registered(t->path, reg);
	}
	if (t->fd < 0)
		goto fail;
	t->reg = reg;
	free(dir);
	return 0;
fail:
	snprintf(err, errlen, "cannot create '%s': %s", final_path, strerror(errno));
	goto fail_quiet;
fail_dir:
	snprintf(err, errlen, "cannot create directory '%s': %s", dir, strerror(errno));
fail_quiet:
	saved = errno;
	free(dir);
	output_discard(t);
	errno = saved;
	return -1;
}

void
output_discard(struct tempfile *t)
{
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	if (t->reg) {
		atomic_store(&t->reg->live, 0);
		t->reg = NULL;
	}
	if (t->path) {
		unlink(t->path);
		free(t->path);
		t->path = NULL;
	}
	free(t->final_path);
	t->final_path = NULL;
	t->swapped = 0;
}

int
output_finish(struct tempfile *t, char *err, size_t errlen)
{
	int r, saved;

	r = fchmod(t->fd, file_mode) || (durable && fsync(t->fd)) ? -1 : 0;
	saved = errno;
	/* the descriptor, and its lock, stay until the rename, where they
	 * fit; close(2) frees it even when it fails: once only */
	if (!hold_temps || r) {
		if (close(t->fd) && !r) {
			r = -1;
			saved = errno;
		}
		t->fd = -1;
	}
	if (r) {
		snprintf(err, errlen, "cannot write '%s': %s", t->final_path, strerror(saved));
		output_discard(t);
		errno = saved;
	}
	return r;
}

/* t's file has its final name: the temporary one is free again.  The
 * caller owns final_path still, unless this fails. */
static int
output_published(struct tempfile *t, char *err, size_t errlen)
{
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	atomic_store(&t->reg->live, 0);
	t->reg = NULL;
	free(t->path);
	t->path = NULL;
	/* a failed job leaves no output: not one whose rename may not last */
	if (sync_parent(t->final_path)) {
		int saved = errno;

		snprintf(err, errlen, "cannot sync the directory of '%s': %s",
			 t->final_path, strerror(saved));
		unlink(t->final_path);
		free(t->final_path);
		t->final_path = NULL;
		errno = saved;
		return -1;
	}
	return 0;
}

int
output_publish(struct tempfile *t, char *err, size_t errlen)
{
	int r;

	if (rename(t->path, t->final_path)) {
		int saved = errno;

		snprintf(err, errlen, "cannot rename to '%s': %s", t->final_path,
			 saved == ENOENT ? "temporary file removed" : strerror(saved));
		output_discard(t);
		errno = saved;
		return -1;
	}
	if ((r = output_published(t, err, errlen)) == 0) {
		free(t->final_path);
		t->final_path = NULL;
	}
	return r;
}

int
output_publish_keep(struct tempfile *t, char *err, size_t errlen)
{
	struct stat st;

	if (renameat2(AT_FDCWD, t->path, AT_FDCWD, t->final_path, RENAME_NOREPLACE) == 0)
		return output_published(t, err, errlen);
	/* a directory or a special file in the way fails as before */
	if (errno != EEXIST || lstat(t->final_path, &st) || !S_ISREG(st.st_mode) ||
	    renameat2(AT_FDCWD, t->path, AT_FDCWD, t->final_path, RENAME_EXCHANGE))
		return output_publish(t, err, errlen);
	t->swapped = 1;
	/* the file replaced is under the temporary name now, for
	 * output_unpublish: held, so that no sweep takes it meanwhile */
	if (t->fd >= 0) {
		close(t->fd);
		if ((t->fd = open(t->path, O_RDONLY | O_CLOEXEC)) >= 0)
			(void)flock(t->fd, LOCK_EX | LOCK_NB);
	}
	if (sync_parent(t->final_path)) {
		int saved = errno;

		snprintf(err, errlen, "cannot sync the directory of '%s': %s",
			 t->final_path, strerror(saved));
		output_unpublish(t);
		output_discard(t);
		errno = saved;
		return -1;
	}
	return 0;
}

void
output_unpublish(struct tempfile *t)
{
	if (t->swapped) {
		/* the new file back under the temporary name, for
		 * output_discard() to remove */
		if (renameat2(AT_FDCWD, t->path, AT_FDCWD, t->final_path, RENAME_EXCHANGE) == 0)
			t->swapped = 0;
		sync_parent(t->final_path);
	} else if (!t->path && t->final_path) {
		unlink(t->final_path);
		sync_parent(t->final_path);
		free(t->final_path);
		t->final_path = NULL;
	}
}

int
output_commit(struct tempfile *t, char *err, size_t errlen)
{
	return output_finish(t, err, errlen) ? -1 : output_publish(t, err, errlen);
}

int
output_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
output_remove_temps(int main_too)
{
	/* in the reverse order of output_workers' stores */
	int n = atomic_load(&n_groups), i;
	struct temp_slot *slots = atomic_load(&worker_slots);

	n *= atomic_load(&group_size);

	if (main_too && atomic_load(&main_slot.live))
		unlink(main_slot.path);
	for (i = 0; i < n && slots; i++)
		if (atomic_load(&slots[i].live))
			unlink(slots[i].path);
}

/* ".name.imgbake-XXXXXX", the temporary name output_open makes. */
static int
is_temp_name(const char *name)
{
	size_t len = strlen(name);

	/* the last one: ".imgbake-manifest.json.imgbake-XXXXXX" */
	return name[0] == '.' && len > 15 && !strncmp(name + len - 15, ".imgbake-", 9) &&
	       !strchr(name + len - 6, '.') && !strchr(name + len - 6, '/');
}

/* Remove the temporary file at path if it is a dead run's: no run
 * holds its lock (a run into an output root nested in this one holds
 * its own, and no lock of this root).  Removed under the lock, which a
 * run that has just made the file and not locked it yet finds taken, or
 * the file gone (see locked_at).  On a file system without locks,
 * removed only when no other run holds the root.  1 when removed. */
static int
remove_dead_temp(const char *path, int others)
{
	int fd, dead;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	dead = flock(fd, LOCK_EX | LOCK_NB) == 0 || (errno != EWOULDBLOCK && !others);
	dead = dead && unlink(path) == 0;
	close(fd);
	return dead;
}

static size_t
sweep(const char *dir, int others)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t count = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char *path;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			break;
		if (lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				count += sweep(path, others);
			else if (S_ISREG(st.st_mode) && is_temp_name(de->d_name) &&
				 remove_dead_temp(path, others))
				count++;
		}
		free(path);
	}
	closedir(d);
	return count;
}

size_t
output_sweep_temps(const char *dir, int others)
{
	return sweep(dir, others);
}

/* Whether the file at path is empty or starts with `start`: what a
 * temporary copy of a manifest or report holds, not a user's file that
 * happens to be named like one. */
static int
starts_so(const char *path, const char *start)
{
	size_t len = strlen(start);
	char buf[64];
	struct stat st;
	ssize_t n;
	int fd, yes;

	if (len > sizeof(buf) ||
	    (fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	yes = !fstat(fd, &st) && S_ISREG(st.st_mode) &&
	      (st.st_size == 0 ||
	       ((n = pread(fd, buf, len, 0)) == (ssize_t)len && !memcmp(buf, start, len)));
	close(fd);
	return yes;
}

size_t
output_sweep_beside(const char *final_path, const char *start)
{
	const char *slash = strrchr(final_path, '/');
	const char *base = slash ? slash + 1 : final_path;
	char *dir = !slash ? strdup(".") : slash == final_path ? strdup("/") :
		    strndup(final_path, (size_t)(slash - final_path));
	char *prefix = NULL;
	struct dirent *de;
	size_t count = 0, plen;
	DIR *d = NULL;

	/* the name output_open gives final_path's temporary files */
	if (dir && asprintf(&prefix, ".%.*s.imgbake-",
			    NAME_MAX - (int)sizeof(".imgbake-XXXXXX"), base) < 0)
		prefix = NULL;
	if (!prefix || !(d = opendir(dir))) {
		free(prefix);
		free(dir);
		return 0;
	}
	plen = strlen(prefix);
	while ((de = readdir(d))) {
		char *path;

		if (strncmp(de->d_name, prefix, plen) || strlen(de->d_name) != plen + 6 ||
		    !is_temp_name(de->d_name) ||
		    asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		/* held by a live run (another writing the same file waits
		 * for the lock first; this is for safety), or not ours: left */
		if (starts_so(path, start))
			count += remove_dead_temp(path, 1);
		free(path);
	}
	closedir(d);
	free(prefix);
	free(dir);
	return count;
}

int
output_lock_root(const char *root, size_t *swept)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), alone;

	if (swept)
		*swept = 0;
	if (fd < 0)
		return -1;
	/* alone, or on a file system without locks: as if alone */
	alone = !flock(fd, LOCK_EX | LOCK_NB) || errno != EWOULDBLOCK;
	if (swept)
		*swept = output_sweep_temps(root, !alone);
	/* from now on shared: other runs may join, none may sweep */
	while (flock(fd, LOCK_SH) && errno == EINTR)
		;
	return fd;
}

/* All of `in` to `out`: in the kernel where it can, or through a
 * buffer (another file system, one without copy_file_range). */
static int
copy_data(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;

	for (;;) {
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EOPNOTSUPP && errno != ENOSYS &&
		    errno != EINVAL)
			return -1;
		break;
	}
	/* both offsets are where the kernel stopped: the rest by hand */
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (output_write_all(out, buf, (size_t)n))
			return -1;
	}
	return 0;
}

int
output_copy(const char *src, const char *dst, int slot, int hard_link,
	char *err, size_t errlen)
{
	struct tempfile t;
	int in = -1, ret = -1, saved;

	if (output_open(&t, dst, slot, err, errlen))
		return -1;
	if (hard_link) {
		/* the name stays registered while it is swapped for the link,
		 * which is locked as the file was; a sweep that took it in
		 * between (a sweep takes a file under its lock) means another
		 * try */
		int tries;

		for (tries = 0; tries < 3; tries++) {
			close(t.fd);
			t.fd = -1;
			if ((unlink(t.path) && errno != ENOENT) || link(src, t.path)) {
				snprintf(err, errlen, "cannot link '%s' to '%s': %s", dst, src,
					 strerror(errno));
				goto out;
			}
			if ((t.fd = open(t.path, O_RDONLY | O_CLOEXEC)) >= 0 &&
			    locked_at(t.fd, t.path))
				break;
		}
		ret = output_publish(&t, err, errlen);
		goto out;
	}
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", src, strerror(errno));
		goto out;
	}
	if (copy_data(in, t.fd)) {
		snprintf(err, errlen, "cannot copy '%s' to '%s': %s", src, dst,
			 strerror(errno));
		goto out;
	}
	ret = output_commit(&t, err, errlen);
out:
	saved = errno;
	if (in >= 0)
		close(in);
	output_discard(&t);
	errno = saved;
	return ret;
}

int
output_check_dirs(const char *root, const char *rel, char *err, size_t errlen)
{
	char *path = path_join(root, rel), *p;
	size_t skip = strlen(root);
	struct stat st;
	int ret = 0;

	if (!path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* each directory below the root, shortest first; the file's own
	 * name is replaced by rename(2), which never follows a link */
	for (p = path + skip + (path[skip] == '/'); (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (!lstat(path, &st) && !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "'%s' is %s, not a directory", path,
				 S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
			ret = S_ISLNK(st.st_mode) ? 1 : -1;
			break;
		}
		*p = '/';
	}
	free(path);
	return ret;
}


int
output_open_existing(const char *path, const char *what, int *fd,
	char *err, size_t errlen)
{
	struct stat st;
	int e;

	/* O_NONBLOCK: a FIFO opens at once, to be refused */
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		e = errno;
		if (stat(path, &st))
			return 0;
		snprintf(err, errlen, "cannot read '%s': %s: not writing %s over it",
			 path, strerror(e), what);
		return -1;
	}
	if (fstat(*fd, &st) || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		if (S_ISDIR(st.st_mode))
			snprintf(err, errlen, "'%s' is a directory: %s needs a file name",
				 path, what);
		else
			snprintf(err, errlen, "'%s' is not a regular file: not writing %s over it",
				 path, what);
		return -1;
	}
	return 0;
}

char *
output_resolved(const char *path)
{
	char *abs = NULL, *cwd = NULL, *out, *cut, *real = NULL;
	const char *rest;

	if (path[0] == '/')
		abs = strdup(path);
	else if ((cwd = getcwd(NULL, 0)))
		abs = path_join(cwd, path);
	free(cwd);
	if (!abs)
		return NULL;
	/* the longest prefix that resolves */
	for (cut = abs + strlen(abs); ; ) {
		char save = *cut;

		*cut = '\0';
		real = realpath(*abs ? abs : "/", NULL);
		*cut = save;
		if (real || cut == abs)
			break;
		while (cut > abs && *--cut != '/')
			;
	}
	if (!real) {
		free(abs);
		return NULL;
	}
	for (rest = cut; *rest == '/'; rest++)
		;
	out = path_absolute(*rest ? rest : ".", real);
	free(real);
	free(abs);
	return out;
}

int
output_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	char *ra, *rb;
	int same;

	if (!stat(a, &sa) && !stat(b, &sb))
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	ra = output_resolved(a);
	rb = output_resolved(b);
	same = ra && rb && !strcmp(ra, rb);
	free(ra);
	free(rb);
	return same;
}

static pthread_mutex_t claims_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *claims;	/* name -> owner, under claims_lock */

int
output_claim(const char *rel, const void *owner, int *fresh)
{
	gconstpointer first;
	int ret = 0;

	if (fresh)
		*fresh = 0;
	pthread_mutex_lock(&claims_lock);
	if (!claims)
		claims = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	if ((first = g_hash_table_lookup(claims, rel))) {
		ret = first != owner;
	} else {
		char *key = strdup(rel);

		if (key)
			g_hash_table_insert(claims, key, (gpointer)owner);
		else
			ret = -1;
		if (key && fresh)
			*fresh = 1;
	}
	pthread_mutex_unlock(&claims_lock);
	return ret;
}

int
output_claimed_by_other(const char *rel, const void *owner)
{
	gconstpointer first = NULL;

	pthread_mutex_lock(&claims_lock);
	if (claims)
		first = g_hash_table_lookup(claims, rel);
	pthread_mutex_unlock(&claims_lock);
	return first && first != owner;
}

void
output_unclaim(const char *rel)
{
	pthread_mutex_lock(&claims_lock);
	if (claims)
		g_hash_table_remove(claims, rel);
	pthread_mutex_unlock(&claims_lock);
}

void
output_claims_release(void)
{
	pthread_mutex_lock(&claims_lock);
	if (claims)
		g_hash_table_destroy(claims);
	claims = NULL;
	pthread_mutex_unlock(&claims_lock);
}
