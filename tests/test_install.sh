#!/usr/bin/env bash
# make install / uninstall into a DESTDIR: the binary, voxbench(1), the bash and zsh
# completions and the LICENSE; the man page renders (man -l) and names every op of
# `voxbench list`; the bash completion, sourced from where it was installed, completes
# sub-commands, options, their values and op names (voxbench run --ops gaus<TAB>).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dest=$TEST_TMP/dest
prefix=/usr/local
failures=0

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

if ! make -s -C "$root" install BUILD="$BUILD" DESTDIR="$dest" PREFIX="$prefix" \
	>"$TEST_TMP/make.log" 2>&1; then
	bad "make install DESTDIR=... failed: $(tail -c 400 "$TEST_TMP/make.log")"
	exit 1
fi
ok "make install DESTDIR=$dest PREFIX=$prefix"
bin=$dest$prefix/bin/voxbench
man1=$dest$prefix/share/man/man1/voxbench.1
bashc=$dest$prefix/share/bash-completion/completions/voxbench
zshc=$dest$prefix/share/zsh/site-functions/_voxbench
lic=$dest$prefix/share/doc/voxbench/LICENSE
check "the binary is installed, executable, and runs" \
	bash -c "[ -x '$bin' ] && '$bin' --version | grep -q '^voxbench '"
for f in "$man1" "$bashc" "$zshc" "$lic"; do
	check "installed ${f#"$dest"} (mode 644)" bash -c "[ -s '$f' ] && [ \"\$(stat -c %a '$f')\" = 644 ]"
done
check "the licence installed is the tree's LICENSE" cmp -s "$lic" "$root/LICENSE"

# the man page: renders, has its sections, every sub-command and every op of the table
if command -v man >/dev/null 2>&1; then
	MANWIDTH=100 man -l "$man1" >"$TEST_TMP/man.txt" 2>"$TEST_TMP/man.err"
	check "man -l renders voxbench(1) without warnings" \
		bash -c "[ -s '$TEST_TMP/man.txt' ] && [ ! -s '$TEST_TMP/man.err' ]"
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPS ENVIRONMENT "EXIT STATUS"; do
		check "the man page has the section $s" grep -q "^$s" "$TEST_TMP/man.txt"
	done
	missing=$("$VOXBENCH" list --json | "$PYTHON" -c '
import json, sys
ops = json.load(sys.stdin)
ops = ops["ops"] if isinstance(ops, dict) else ops
text = open(sys.argv[1]).read().replace("\u2010", "-")
print(" ".join(o["name"] for o in ops if o["name"] not in text))' "$TEST_TMP/man.txt")
	check "the man page names every op of 'voxbench list' (missing: ${missing:-none})" [ -z "$missing" ]
	check "the man page documents run --ops and compare --metric" \
		bash -c "grep -q -- '--ops LIST' '$TEST_TMP/man.txt' && grep -q -- '--metric WHAT' '$TEST_TMP/man.txt'"
else
	ok "man -l # SKIP man is not installed"
fi
if command -v groff >/dev/null 2>&1; then
	check "groff finds no roff mistakes in voxbench(1)" \
		bash -c "[ -z \"\$(groff -man -ww -z '$man1' 2>&1)\" ]"
fi

# complete WORDS...: COMPREPLY of the installed bash completion for the words typed so far
complete_words() {
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_voxbench; printf "%s\n" "${COMPREPLY[@]}"' _ "$bashc" "$@"
}
got=$(complete_words voxbench run --ops gaus | sort | tr '\n' ' ')
check "bash: voxbench run --ops gaus<TAB> offers gaussian_blur and only gaus* (${got})" \
	bash -c "echo '$got' | grep -qw gaussian_blur && [ -z \"\$(echo '$got' | tr ' ' '\n' | grep -v '^gaus' | grep .)\" ]"
got=$(complete_words voxbench run --ops copy,gaus | tr '\n' ' ')
check "bash: a comma list completes its last name (copy,gaus -> ${got})" \
	bash -c "echo '$got' | grep -qw 'copy,gaussian_blur'"
got=$(complete_words voxbench run --ops = gaus | tr '\n' ' ')
check "bash: --ops=gaus completes too (${got})" bash -c "echo '$got' | grep -qw gaussian_blur"
got=$(complete_words voxbench r | sort | tr '\n' ' ')
check "bash: voxbench r<TAB> offers report and run (${got})" [ "$got" = "report run " ]
got=$(complete_words voxbench report --plots '' | sort | tr '\n' ' ')
check "bash: report --plots <TAB> offers svg, dumb, none (${got})" [ "$got" = "dumb none svg " ]
got=$(complete_words voxbench compare --me | tr '\n' ' ')
check "bash: compare --me<TAB> offers --metric (${got})" [ "$got" = "--metric " ]
got=$(complete_words voxbench list thresh | sort | tr '\n' ' ')
check "bash: list thresh<TAB> offers the threshold ops (${got})" \
	bash -c "echo '$got' | grep -qw threshold_otsu"
if command -v zsh >/dev/null 2>&1; then
	check "zsh parses the zsh completion" zsh -n "$zshc"
else
	ok "zsh completion parses # SKIP zsh is not installed"
fi

make -s -C "$root" uninstall BUILD="$BUILD" DESTDIR="$dest" PREFIX="$prefix" >/dev/null 2>&1
check "make uninstall removes the binary, the man page, both completions and the licence" \
	bash -c "[ ! -e '$bin' ] && [ ! -e '$man1' ] && [ ! -e '$bashc' ] && [ ! -e '$zshc' ] && [ ! -e '$lic' ]"
[ "$failures" -eq 0 ]
