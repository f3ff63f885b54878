/*
 * Path arithmetic with no I/O: normalising, splitting, refusing paths
 * that would escape the output root, expanding the name template.
 * All functions are thread-safe; returned strings are malloc'd and
 * owned by the caller.
 */
#ifndef IMGBAKE_PATHS_H
#define IMGBAKE_PATHS_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/* Room for a message that names a path of any length and its cause:
 * "cannot create '<path>': <reason>". */
#define PATH_MSG_MAX (2 * PATH_MAX + 512)

/* qsort(3)/bsearch(3) comparison of two char * by their bytes, the
 * order paths are sorted in. */
int path_cmp_ptrs(const void *a, const void *b);

/* Collapse "//" and "." components and trailing slashes, lexically.
 * ".." components are kept.  "" and "." become ".". */
char *path_normalize(const char *path);

/* path made absolute against the absolute directory cwd, with ".",
 * ".." and "//" collapsed lexically ("/a/b/../c" is "/a/c"): for
 * comparing spellings of a path that may not exist, so no link is
 * followed.  NULL when memory runs out. */
char *path_absolute(const char *path, const char *cwd);

/* Whether a normalised path has a ".." component. */
int path_has_dotdot(const char *path);

/* The path of `path` relative to the directory `base`: both absolute
 * and normalised.  NULL when path is not strictly inside base. */
char *path_relative_to(const char *path, const char *base);

/* The relative path that leads from the directory `from` to `to`, both
 * absolute, normalised and free of symbolic links (realpath(3)), so that
 * ".." is lexical: "../b" from "/x/a" to "/x/b", "." when they are one. */
char *path_between(const char *from, const char *to);

/* A relative path written from one directory, rewritten to be read from
 * another: `prefix` is path_between(new, old).  Its leading ".." are
 * taken off the prefix's last names.  An absolute path stays as it is. */
char *path_rebase(const char *prefix, const char *path);

/* Join a and b with one slash; either may be empty. */
char *path_join(const char *a, const char *b);

/* Split a relative file path into its directory ("" at the top) and
 * its stem (the file name without its last extension).  The extension
 * pointer, into path, is "" when there is none. */
int path_split(const char *path, char **dir, char **stem, const char **ext);

/* Expand {dir} {stem} {w} {ext} {hash} in tmpl.  `w` <= 0 expands to
 * nothing.  The result is normalised; NULL when it would be empty,
 * absolute or contain ".." (errno EINVAL), or out of memory. */
char *path_expand(const char *tmpl, const char *dir, const char *stem,
	int w, const char *ext, const char *hash);

/* Copy s into buf (size len) with control characters escaped
 * (\n, \t, \xNN; C1 controls in UTF-8 too) and a backslash doubled,
 * for messages.  Returns buf. */
char *path_quote(const char *s, char *buf, size_t len);

/* Write the text s to f with control characters, C1 controls in UTF-8
 * and bytes that are not UTF-8 escaped as path_quote escapes them, but
 * backslashes as they are: for whole messages, whose paths path_quote
 * has quoted already, and whatever else they hold comes out on one
 * line, with nothing a terminal would obey. */
void text_write_safe(FILE *f, const char *s);

#endif
