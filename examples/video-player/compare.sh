#!/usr/bin/env sh
# Run the seed's experiment on this example: each model in its own git worktree, the check after
# each attempt, automatic follow-ups on failure, and the comparison as Markdown and HTML.
#
#   examples/video-player/compare.sh                      # the three models, in parallel
#   examples/video-player/compare.sh --models gpt-oss-120b,o4-mini --max-followups 3
#
# `agent compare` needs a git repository at a commit, so the example is copied into a fresh one
# (in $WORKDIR, default a new temp directory) and committed there first.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
workdir=${WORKDIR:-$(mktemp -d)}
repo="$workdir/video-player"
mkdir -p "$repo"
cp -R "$here"/. "$repo"/
cd "$repo"
git init -q
git add -A
git -c user.name=agent -c user.email=agent@example.invalid commit -qm "video player without timeline previews"
node --test tests/ >/dev/null 2>&1 && { echo "the check passes already: nothing to compare" >&2; exit 1; }
agent compare --task-file task.toml "$@"
echo "the comparison is in $repo/.agent/compare/ (compare.md, compare.html)"
