/* Unit tests: lexical path rules and the name template. */
#include <stdlib.h>

#include "paths.h"
#include "tap.h"

static void
check_norm(const char *in, const char *want)
{
	char *got = path_normalize(in);

	is_str(got, want, "normalize '%s'", in);
	free(got);
}

static void
check_abs(const char *path, const char *cwd, const char *want)
{
	char *got = path_absolute(path, cwd);

	is_str(got, want, "'%s' from '%s' made absolute", path, cwd);
	free(got);
}

static void
check_rel(const char *path, const char *base, const char *want)
{
	char *got = path_relative_to(path, base);

	is_str(got, want, "'%s' relative to '%s'", path, base);
	free(got);
}

static void
check_between(const char *from, const char *to, const char *want)
{
	char *got = path_between(from, to);

	is_str(got, want, "from '%s' to '%s'", from, to);
	free(got);
}

static void
check_rebase(const char *prefix, const char *path, const char *want)
{
	char *got = path_rebase(prefix, path);

	is_str(got, want, "'%s' read through '%s'", path, prefix);
	free(got);
}

static void
check_expand(const char *tmpl, const char *dir, const char *stem, int w,
	const char *want)
{
	char *got = path_expand(tmpl, dir, stem, w, "webp", "0123456789");

	is_str(got, want, "expand '%s' dir='%s' stem='%s' w=%d", tmpl, dir, stem, w);
	free(got);
}

static void
check_split(const char *path, const char *dir, const char *stem, const char *ext)
{
	char *d = NULL, *s = NULL;
	const char *e = NULL;

	ok(path_split(path, &d, &s, &e) == 0, "split '%s'", path);
	is_str(d, dir, "  dir of '%s'", path);
	is_str(s, stem, "  stem of '%s'", path);
	is_str(e, ext, "  extension of '%s'", path);
	free(d);
	free(s);
}

int
main(void)
{
	char buf[64];

	check_norm("a/b.jpg", "a/b.jpg");
	check_norm("./a//b/./c.png", "a/b/c.png");
	check_norm("/x/./y/", "/x/y");
	check_norm("", ".");
	check_norm("./", ".");
	check_norm("a/../b", "a/../b");

	check_abs("../src", "/r/work", "/r/src");
	check_abs("/r/work/../src/", "/x", "/r/src");
	check_abs("./a//b/./c", "/r", "/r/a/b/c");
	check_abs("../../..", "/r/w", "/");
	check_abs(".", "/", "/");
	check_abs("a/..b/..", "/r", "/r/a");

	ok(path_has_dotdot("a/../b"), "a/../b has ..");
	ok(path_has_dotdot(".."), ".. has ..");
	ok(!path_has_dotdot("a/..b/c"), "a/..b/c has no .. component");
	ok(!path_has_dotdot("...x"), "...x has no .. component");

	check_rel("/srv/www/img/a.jpg", "/srv/www", "img/a.jpg");
	check_rel("/srv/wwwx/a.jpg", "/srv/www", NULL);
	check_rel("/srv/www", "/srv/www", NULL);
	check_rel("/etc/passwd", "/srv/www", NULL);
	check_rel("/a.jpg", "/", "a.jpg");

	check_between("/srv/www", "/srv/www", ".");
	check_between("/srv/www", "/srv/www/img", "img");
	check_between("/srv/www/img", "/srv/www", "..");
	check_between("/srv/www/img", "/srv/src", "../../src");
	check_between("/srv/ab", "/srv/a", "../a");
	check_between("/srv/a", "/srv/ab/c", "../ab/c");
	check_between("/", "/srv", "srv");
	check_between("/srv/x", "/", "../..");

	check_rebase("proj", "src/a.png", "proj/src/a.png");
	check_rebase("proj", "./src//a.png", "proj/src/a.png");
	check_rebase("../..", "src/a.png", "../../src/a.png");
	check_rebase("a/b", "../c/x.png", "a/c/x.png");
	check_rebase("a/b", "../../../x.png", "../x.png");
	check_rebase("../a", "../../x.png", "../../x.png");
	check_rebase("a", "..", ".");
	check_rebase("a", "/abs/x.png", "/abs/x.png");
	check_rebase("..", "src/../x.png", "../src/../x.png");

	check_split("a/b/c.jpg", "a/b", "c", "jpg");
	check_split("c.tar.gz", "", "c.tar", "gz");
	check_split("dir/.hidden", "dir", ".hidden", "");
	check_split("noext", "", "noext", "");

	check_expand("{dir}/{stem}.{ext}", "", "b", 0, "b.webp");
	check_expand("{dir}/{stem}.{ext}", "a/x", "b", 0, "a/x/b.webp");
	check_expand("{dir}/{stem}-{w}.{ext}", "a", "b", 480, "a/b-480.webp");
	check_expand("{dir}/{stem}.{hash}.{ext}", "a", "b", 0, "a/b.0123456789.webp");
	check_expand("flat/{stem}_{w}.{ext}", "deep/er", "b", 96, "flat/b_96.webp");
	check_expand("{dir}//{stem}.{ext}", "", "b", 0, "b.webp");
	check_expand("{dir}//{stem}.{ext}", "a", "b", 0, "a/b.webp");
	check_expand("/{stem}.{ext}", "", "b", 0, NULL);
	check_expand("{dir}/{stem}.{ext}", "", "..", 0, "...webp");
	check_expand("../{stem}.{ext}", "", "b", 0, NULL);
	check_expand("{dir}/{stem}", "", ".", 0, NULL);
	check_expand("x/{dir}/../../../{stem}.{ext}", "a", "b", 0, NULL);

	is_str(path_quote("a\nb\tc\x01", buf, sizeof(buf)), "a\\nb\\tc\\x01",
	       "control characters are escaped");
	is_str(path_quote("a\\nb", buf, sizeof(buf)), "a\\\\nb",
	       "a backslash is doubled: the name a\\nb reads apart from a<LF>b");
	is_str(path_quote("x\xc2\x9b" "31my\xc2\xa0.jpg", buf, sizeof(buf)),
	       "x\\xc2\\x9b31my\xc2\xa0.jpg",
	       "a C1 control in UTF-8 (CSI) is escaped, a no-break space is not");
	is_str(path_quote("caf\xe9 \x9b" "31m caf\xc3\xa9 \xed\xa0\x80", buf, sizeof(buf)),
	       "caf\\xe9 \\x9b31m caf\xc3\xa9 \\xed\\xa0\\x80",
	       "bytes that are not UTF-8 are escaped (0x9b alone is CSI), UTF-8 is kept");
	is_str(path_quote("plain 'q'.jpg", buf, sizeof(buf)), "plain 'q'.jpg",
	       "printable text is kept");
	path_quote("0123456789012345678901234567890123456789", buf, 16);
	ok(strlen(buf) < 16, "quoting never overflows the buffer");
	return done_testing();
}
