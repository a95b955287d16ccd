#!/usr/bin/env bash
# Usage: greet.sh NAME [GREETING]
name="${2:-}"
greeting="${2:-Hello}"
echo "$greeting, $name!"
