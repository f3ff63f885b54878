/*
 * A fault for the tests, preloaded with LD_PRELOAD: readdir(3) on a
 * directory whose last path component is $IMGBAKE_TEST_READDIR_EIO
 * returns its first entry other than "." and "..", then fails with EIO,
 * as a disk or network file system may in the middle of a listing.
 * Other directories, and every directory when the variable is unset,
 * read as usual.  Only readdir is replaced, the one imgbake calls.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dirent *readdir(DIR *dir);
int closedir(DIR *dir);

static DIR *last;	/* the walk reads one directory at a time */
static int given;

static int
is_target(DIR *dir, const char *want)
{
	char link[64], path[PATH_MAX], *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd(dir));
	if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
		return 0;
	path[n] = '\0';
	base = strrchr(path, '/');
	return base && !strcmp(base + 1, want);
}

struct dirent *
readdir(DIR *dir)
{
	static struct dirent *(*real)(DIR *);
	const char *want = getenv("IMGBAKE_TEST_READDIR_EIO");
	struct dirent *de;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "readdir");
	if (!want || !is_target(dir, want))
		return real(dir);
	if (dir != last) {
		last = dir;
		given = 0;
	}
	while ((de = real(dir)) &&
	       (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")))
		;
	if (!de || given++) {
		errno = EIO;
		return NULL;
	}
	return de;
}

int
closedir(DIR *dir)
{
	static int (*real)(DIR *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "closedir");
	if (dir == last)
		last = NULL;
	return real(dir);
}
