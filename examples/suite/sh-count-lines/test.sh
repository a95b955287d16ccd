#!/usr/bin/env bash
set -eu
got=$(printf 'one two\nthree four\nfive\n' | bash count_lines.sh /dev/stdin)
if [ "$got" != "3" ]; then echo "expected 3 lines, got $got"; exit 1; fi
echo ok
