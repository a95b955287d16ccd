#!/usr/bin/env bash
# Print how many lines the file $1 has.
set -eu
wc -w < "$1" | tr -d ' '
