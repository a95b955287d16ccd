#!/bin/sh
# Issue 13 figures: how many places fold the event stream, run the key preflight, read
# apply_patch headers or count diff lines, and front-end leaks (emit / private imports /
# session internals). Usage: sh bench/fold_counts.sh [tree]  (a checkout with agent/ cli/ tui/ tools/)
set -u
cd "${1:-.}"
echo "== folds of usage into totals (consumers matching UsageUpdated, producer agent/turn.py excluded)"
grep -rlE "isinstance\((event|e), ev\.UsageUpdated\)|ev\.UsageUpdated: |kind == \"usage_updated\"" agent cli tui --include=*.py | grep -v "^agent/turn.py"
echo "== preflight: missing_key( call sites outside providers/"
grep -rn "missing_key(" agent cli tui --include=*.py
echo "== apply_patch header parsers (regex or line parser)"
grep -rnF 'Add|Update|Delete) File' agent cli tui tools --include=*.py
echo "== diff-stat computations"
grep -rnE "def diff_stats|\"--shortstat\"|removed \+= i2 - i1|startswith\(\"\+\"\)" agent cli tui tools --include=*.py
echo "== front-end session.emit / private imports"
grep -rn "\.emit(" cli tui --include=*.py
grep -rnE "from realcost_agent\S* import \(?_[a-zA-Z]|import .*, _[a-zA-Z]" cli tui --include=*.py
echo "== fold: files that accumulate tokens or cost from events"
grep -rlE "\+= *(event|e)\.(input_tokens|output_tokens)|usage\[key\] \+=|self\.input_tokens = event|row\.input_tokens \+ e\.input_tokens" agent cli tui --include=*.py
echo "== session internals read by front-ends (session.<figure>)"
grep -rnoE "session\.(total_cost|unpriced_calls|total_input|total_output|tasks|flow|busy|sandboxed|model)\b" cli tui --include=*.py | wc -l
