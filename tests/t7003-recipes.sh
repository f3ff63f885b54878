#!/bin/sh
# The recipes of the README and the man page, run as written: changed
# images from git, a srcset from the manifest, nginx choosing AVIF or
# WebP by Accept (its configuration read from the README).
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || skip_all "git not installed"

# ---- git diff --name-only -z | imgbake -0 -
mkdir -p repo/src/img/sub
cd repo || exit 1
git init -q . && git config user.email t@example.invalid && git config user.name t
mkimg src/img/a.jpg 600x400
mkimg src/img/sub/b.png 500x300
mkimg src/img/c.jpg 400x300
git add -A && git commit -qm one
"$IMGBAKE" -q -w 480,960 -o public/img src/img
ok $? "the first full conversion"
mkimg src/img/sub/new.jpg 520x300
rm src/img/c.jpg
mkimg src/img/a.jpg 610x400
git add -A && git commit -qm two
git diff --name-only -z --diff-filter=AM HEAD~1 -- src/img |
	"$IMGBAKE" -v -0 --base src/img -w 480,960 -o public/img - 2>../diff.err
ok $? "changed images from git diff: exit 0" || cat ../diff.err
is "$(grep -c "^imgbake: converted '" ../diff.err)" 2 "exactly the two changed images converted"
like "$(cat ../diff.err)" "converted 'src/img/sub/new.jpg'" "... the new one"
is "$(json_get public/img/imgbake-manifest.json 'scalar @{$j->{sources}}')" 3 \
	"the manifest keeps the unlisted source that exists, drops the deleted one"
is "$(size public/img/a-480.webp)" 480x315 "a.jpg's new version was converted"
cd .. || exit 1

# ---- a srcset per source with jq
if command -v jq >/dev/null; then
	srcset=$(jq -r '.sources[] | select(.outputs) | .path + "\t" +
		([.outputs[] | select(.format == "webp") | "\(.path) \(.width)w"] | join(", "))' \
		repo/public/img/imgbake-manifest.json | sort)
	like "$srcset" "src/img/a.jpg	a-480.webp 480w" "jq srcset: a.jpg's 480w"
	is "$(printf '%s\n' "$srcset" | grep -c '^src/img/.*	.*w$')" 3 "jq srcset: a line per converted source"
else
	skip "jq not installed"
	skip "jq not installed"
fi

# ---- nginx serving AVIF or WebP by Accept: the README's recipe as written,
# but for the root and the port
readme=$TOP/README.md
if command -v nginx >/dev/null && command -v curl >/dev/null && [ -r "$readme" ]; then
	# nginx's workers drop root: let them in
	chmod 755 "$PWD"
	mkdir -p www/img/sub ng/logs
	mkimg www/img/a.jpg 300x200
	mkimg www/img/sub/b.png 200x100 4
	mkimg www/img/c.JPG 120x80
	"$IMGBAKE" -q -f webp,avif -o www/img-opt www/img
	rm www/img-opt/c.avif
	port=$((20000 + $$ % 20000))
	awk '/^nginx \(`try_files`/ { f = 1; next } f && /^    / { print; next } f && /^Caddy/ { exit }' \
		"$readme" | sed 's/^    //' >ng/recipe.conf
	like "$(cat ng/recipe.conf)" 'try_files' "precondition: the README's nginx recipe is found"
	# the man page's EXAMPLES give the same
	awk '/^map \$http_accept \$img_avif/ { f = 1 } f && /^\.Ed/ { exit } f' "$TOP/man/imgbake.1" |
		sed 's/\\e/\\/g' >ng/man.conf
	is "$(cat ng/man.conf)" "$(cat ng/recipe.conf)" "the man page's nginx recipe is the README's"
	sed -i "s|root /srv/www;|listen 127.0.0.1:$port; root $PWD/www;|" ng/recipe.conf
	cat >ng/nginx.conf <<CONF
pid $PWD/ng/nginx.pid;
error_log $PWD/ng/logs/error.log;
events {}
http {
	access_log off;
	types { image/jpeg jpg; image/png png; image/webp webp; image/avif avif; application/json json; }
	include $PWD/ng/recipe.conf;
}
CONF
	nginx -p "$PWD/ng" -c "$PWD/ng/nginx.conf" -g 'daemon off;' 2>ng/start.err &
	ngpid=$!
	i=0
	while [ $i -lt 50 ] && ! curl -s -o /dev/null "http://127.0.0.1:$port/"; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s ng/start.err ] && diag "nginx: $(cat ng/start.err)"
	ctype() { curl -s -o /dev/null -w '%{content_type}' -H "Accept: $2" "http://127.0.0.1:$port$1"; }
	is "$(ctype /img/a.jpg 'image/avif,image/webp,*/*')" image/avif "nginx: AVIF to a browser that takes it"
	is "$(ctype /img/a.jpg 'image/webp,*/*')" image/webp "nginx: WebP to one that takes WebP only"
	is "$(ctype /img/a.jpg '*/*')" image/jpeg "nginx: the original to the others"
	is "$(ctype /img/sub/b.png 'image/webp,*/*')" image/webp "nginx: PNG in a subdirectory too"
	is "$(ctype /img/c.JPG 'image/avif,image/webp,*/*')" image/webp \
		"nginx: WebP where the AVIF is missing, extension in capitals"
	is "$(ctype /img/a.jpg 'image/avif;q=0,image/webp,*/*')" image/webp \
		"nginx: not the AVIF to a client refusing it with q=0"
	is "$(ctype /img/a.jpg 'image/avif; q=0.0, image/webp;q=0, */*')" image/jpeg \
		"nginx: the original when both are refused"
	is "$(ctype /img/a.jpg 'image/avif;q=0.5,*/*')" image/avif "nginx: AVIF at q=0.5"
	is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/img-opt/imgbake-manifest.json")" 403 \
		"nginx: the manifest is refused"
	# a killed run's journal, a shard's manifest and a manifest being
	# written list source paths too
	for f in imgbake-manifest.json.journal imgbake-manifest.0-of-2.json \
	    .imgbake-manifest.json.imgbake-Ab12Cd; do
		printf '{}' >"www/img-opt/$f"
		is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/img-opt/$f")" 403 \
			"nginx: $f is refused"
	done
	kill "$ngpid" 2>/dev/null
	wait "$ngpid" 2>/dev/null
else
	skip "nginx or curl not installed"
fi

done_testing
