/* Unit tests: the option value parsers and the command-line checks. */
#include <stdlib.h>

#include "options.h"
#include "tap.h"

/* argv strings are writable in a real main */
#define S(lit) ((char *)(lit))

static int
parse(int argc, char **argv, struct options *o)
{
	int r;

	/* usage errors print; keep the TAP stream clean */
	FILE *saved = stderr;

	stderr = fopen("/dev/null", "w");
	r = options_parse(o, argc, argv);
	fclose(stderr);
	stderr = saved;
	return r;
}

int
main(void)
{
	enum out_format f[FMT_COUNT];
	int q[FMT_COUNT] = { 1, 2, 3, 4 };
	unsigned char rgb[3];
	uint64_t count;
	int *w = NULL, n;
	char err[128];
	struct options o;

	ok(parse_format_list("webp,avif", f, &n) == 0 && n == 2 &&
	   f[0] == FMT_WEBP && f[1] == FMT_AVIF, "webp,avif");
	ok(parse_format_list("jpg,jpeg,png", f, &n) == 0 && n == 2 &&
	   f[0] == FMT_JPEG && f[1] == FMT_PNG, "jpg is jpeg, repeats dropped");
	ok(parse_format_list("gif", f, &n) < 0, "gif is refused");
	ok(parse_format_list("webp,", f, &n) < 0, "trailing comma is refused");
	ok(parse_format_list("", f, &n) < 0, "empty list is refused");

	ok(parse_quality("70", q) == 0 && q[FMT_WEBP] == 70 && q[FMT_AVIF] == 70 &&
	   q[FMT_JPEG] == 70 && q[FMT_PNG] == 4, "one quality for all lossy formats");
	ok(parse_quality("webp=81,jpg=90", q) == 0 && q[FMT_WEBP] == 81 &&
	   q[FMT_JPEG] == 90 && q[FMT_AVIF] == 70, "per-format quality");
	ok(parse_quality("0", q) < 0, "quality 0 is refused");
	ok(parse_quality("101", q) < 0, "quality 101 is refused");
	ok(parse_quality("png=50", q) < 0, "png has no quality");
	ok(parse_quality("webp=", q) < 0, "missing value is refused");
	ok(parse_quality("webp=8x", q) < 0, "junk after the number is refused");

	ok(parse_width_list("960,480,960,1920", &w, &n) == 0 && n == 3 &&
	   w[0] == 480 && w[1] == 960 && w[2] == 1920, "widths sorted, repeats dropped");
	free(w);
	ok(parse_width_list("0", &w, &n) < 0, "width 0 is refused");
	ok(parse_width_list("480,,960", &w, &n) < 0, "empty width is refused");
	ok(parse_width_list("-5", &w, &n) < 0, "negative width is refused");

	ok(parse_color("#ff8000", rgb) == 0 && rgb[0] == 255 && rgb[1] == 128 &&
	   rgb[2] == 0, "#ff8000");
	ok(parse_color("#f80", rgb) == 0 && rgb[1] == 0x88, "#f80 short form");
	ok(parse_color("black", rgb) == 0 && rgb[0] == 0, "black");
	ok(parse_color("BLACK", rgb) == 0 && rgb[0] == 0 && parse_color("White", rgb) == 0 &&
	   rgb[2] == 255, "colour names in any letter case");
	ok(parse_color("#12345", rgb) < 0, "five digits refused");
	ok(parse_color("#gggggg", rgb) < 0, "non-hex refused");

	ok(parse_count("256M", &count) == 0 && count == 256ULL << 20, "256M");
	ok(parse_count("1000", &count) == 0 && count == 1000, "1000");
	ok(parse_count("2G", &count) == 0 && count == 2ULL << 30, "2G");
	ok(parse_count("12X", &count) < 0, "unknown suffix refused");
	ok(parse_count("0", &count) < 0, "zero refused");
	ok(parse_count("99999999999999999999", &count) < 0, "overflow refused");

	ok(!options_width_ambiguous("{dir}/{stem}-{w}.{ext}"), "{stem}-{w}: the width is delimited");
	ok(!options_width_ambiguous("{w}/{stem}.{ext}"), "{w} first, then /: delimited");
	ok(!options_width_ambiguous("{dir}/{stem}.{ext}"), "no {w}: not ambiguous");
	ok(options_width_ambiguous("{stem}{w}.{ext}"), "{stem}{w}: ambiguous");
	ok(options_width_ambiguous("{stem}_2{w}.{ext}"), "a digit before {w}: ambiguous");
	ok(options_width_ambiguous("{dir}/{w}{stem}.{ext}"), "{w}{stem}: ambiguous");
	ok(options_width_ambiguous("{stem}-{w}0.{ext}"), "a digit after {w}: ambiguous");

	ok(check_template("{dir}/{stem}.{ext}", 0, 1, err, sizeof(err)) == 0, "default template");
	ok(check_template("{dir}/{stem}.{ext}", 2, 1, err, sizeof(err)) < 0,
	   "several widths need {w}");
	ok(check_template("{dir}/{stem}-{w}.{ext}", 0, 1, err, sizeof(err)) < 0,
	   "{w} needs -w");
	ok(check_template("{dir}/{stem}-{w}", 2, 2, err, sizeof(err)) < 0,
	   "several formats need {ext}");
	ok(check_template("{hash}.{ext}", 0, 1, err, sizeof(err)) == 0, "{hash} alone names a file");
	ok(check_template("{dir}/{size}.{ext}", 0, 1, err, sizeof(err)) < 0, "unknown field");
	ok(check_template("/abs/{stem}.{ext}", 0, 1, err, sizeof(err)) < 0, "absolute template");
	ok(check_template_ext("{dir}/{stem}.webp", (enum out_format[]){ FMT_AVIF }, 1, err, sizeof(err)) < 0 &&
	   strstr(err, "'.webp'") && strstr(err, "avif"),
	   "AVIF into a name ending .webp is refused, and the message says so");
	ok(check_template_ext("{stem}.JPEG", (enum out_format[]){ FMT_JPEG }, 1, err, sizeof(err)) == 0 &&
	   check_template_ext("{stem}.jpe", (enum out_format[]){ FMT_JPEG }, 1, err, sizeof(err)) == 0 &&
	   check_template_ext("{stem}.webp", (enum out_format[]){ FMT_WEBP }, 1, err, sizeof(err)) == 0,
	   "a template naming the output's own extension, in any case, is taken");
	ok(check_template_ext("{stem}.{ext}", (enum out_format[]){ FMT_PNG }, 1, err, sizeof(err)) == 0 &&
	   check_template_ext("{stem}.bin", (enum out_format[]){ FMT_PNG }, 1, err, sizeof(err)) == 0 &&
	   check_template_ext("img.png/{stem}", (enum out_format[]){ FMT_WEBP }, 1, err, sizeof(err)) == 0 &&
	   check_template_ext("{stem}.{w}", (enum out_format[]){ FMT_PNG }, 1, err, sizeof(err)) == 0,
	   "{ext}, an extension of no image format, or a directory's, is taken");
	ok(check_template_ext("{ext}/{stem}.webp", (enum out_format[]){ FMT_AVIF, FMT_WEBP }, 2,
			      err, sizeof(err)) < 0 && strstr(err, "avif"),
	   "{ext} in a directory's name: the file's own extension still counts");
	ok(check_template_ext("{stem}.jfif", (enum out_format[]){ FMT_AVIF }, 1, err, sizeof(err)) < 0 &&
	   check_template_ext("{stem}.jfif", (enum out_format[]){ FMT_JPEG }, 1, err, sizeof(err)) == 0,
	   ".jfif is JPEG's");
	ok(check_template("{stem.{ext}", 0, 1, err, sizeof(err)) < 0, "unbalanced brace");

	{
		char *argv[] = { S("imgbake"), S("-j2"), S("-f"), S("avif,webp"), S("-w"), S("480"), S("-o"), S("out"), S("src"), S("-"), NULL };

		ok(parse(10, argv, &o) == 0, "a full command line parses");
		is_int(o.jobs, 2, "  -j2");
		is_int(o.n_formats, 2, "  two formats");
		is_int(o.n_sources, 1, "  '-' is not a source path");
		ok(o.read_stdin, "  '-' reads stdin");
		is_str(o.manifest_path, "out/imgbake-manifest.json", "  default manifest");
		is_str(options_template(&o), "{dir}/{stem}-{w}.{ext}", "  template with widths");
		options_release(&o);
	}
	{
		char *argv[] = { S("imgbake"), S("src"), NULL };

		ok(parse(2, argv, &o) < 0, "missing -o is a usage error");
		options_release(&o);
	}
	{
		char *argv[] = { S("imgbake"), S("-o"), S("out"), NULL };

		ok(parse(3, argv, &o) < 0, "no source is a usage error");
		options_release(&o);
	}
	{
		char *argv[] = { S("imgbake"), S("-o"), S("out"), S("--bogus"), S("x"), NULL };

		ok(parse(5, argv, &o) < 0, "unknown option is a usage error");
		options_release(&o);
	}
	{
		char *argv[] = { S("imgbake"), S("-j"), S("0"), S("-o"), S("out"), S("x"), NULL };

		ok(parse(6, argv, &o) < 0, "-j 0 is a usage error");
		options_release(&o);
	}
	return done_testing();
}
