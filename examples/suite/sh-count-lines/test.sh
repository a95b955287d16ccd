#!/usr/bin/env bash
set -eu
printf 'one two\nthree four\nfive\n' > sample.txt
got=$(bash count_lines.sh sample.txt)
if [ "$got" != "3" ]; then echo "expected 3 lines, got $got"; exit 1; fi
echo ok
