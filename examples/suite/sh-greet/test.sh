#!/usr/bin/env bash
set -eu
got=$(bash greet.sh Ada)
if [ "$got" != "Hello, Ada!" ]; then echo "expected 'Hello, Ada!', got '$got'"; exit 1; fi
got=$(bash greet.sh Bob Hi)
if [ "$got" != "Hi, Bob!" ]; then echo "expected 'Hi, Bob!', got '$got'"; exit 1; fi
echo ok
