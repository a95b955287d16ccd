"""Destructive command recognition: spellings, wrappers, chaining, nesting, and look-alikes."""
from __future__ import annotations

import pytest

from realcost_agent.agent.safety.commands import classify, simple_commands
from realcost_agent.agent.safety.shell import ShellSyntaxError, lex

DESTRUCTIVE = [
    # rm -r in every spelling
    "rm -r dir",
    "rm -R dir",
    "rm -rf /",
    "rm -fr build",
    "rm -r -f build",
    "rm -f -r build",
    "rm --recursive build",
    "rm --recursive --force build",
    "rm --rec build",
    "rm build -rf",
    "rm -vrf build",
    "rm -rf -- build",
    "/bin/rm -rf build",
    "/usr/bin/rm -r build",
    "\\rm -rf build",
    '"rm" -rf build',
    "'rm' '-rf' 'build dir'",
    "rm -{r,f} build",
    "rm --no-preserve-root -f /",
    # wrappers
    "sudo rm -rf /var/lib/x",
    "sudo -u root -- rm -rf x",
    "sudo -E env FOO=1 rm -rf x",
    "FOO=bar rm -rf x",
    "A=1 B=2 rm -rf x",
    "env FOO=bar rm -rf x",
    "env -i PATH=/bin rm -rf x",
    "env -S 'rm -rf x'",
    "nohup rm -rf x &",
    "command rm -rf x",
    "exec rm -rf x",
    "time rm -rf x",
    "nice -n 10 rm -rf x",
    "nice -10 rm -rf x",
    "timeout 10 rm -rf x",
    "timeout -s KILL 5s rm -rf x",
    "ionice -c3 rm -rf x",
    "stdbuf -oL rm -rf x",
    "setsid rm -rf x",
    "busybox rm -rf x",
    "flock /tmp/lock rm -rf x",
    "flock /tmp/lock -c 'rm -rf x'",
    "watch -n 5 rm -rf x",
    "su -c 'rm -rf /home/u'",
    "doas rm -rf x",
    "sudo nice -n 5 timeout 3 rm -rf x",
    # chaining and control flow
    "ls && rm -rf build",
    "false || rm -rf build",
    "echo hi; rm -rf build",
    "cat x | rm -rf build",
    "sleep 1 & rm -rf build",
    "echo hi\nrm -rf build",
    "echo a \\\n && rm -rf build",
    "(cd sub && rm -rf build)",
    "{ rm -rf build; }",
    "if true; then rm -rf build; fi",
    "for d in a b; do rm -r $d; done",
    "while true; do git clean -fd; done",
    "! rm -rf build",
    "2>/dev/null rm -rf build",
    "rm -rf build > /dev/null 2>&1",
    "f() { rm -rf build; }; f",
    "function f { rm -rf build; }",
    "case $x in a) rm -rf build;; esac",
    "ls # comment\nrm -rf build",
    # nested shells and substitutions
    "bash -c 'rm -rf build'",
    'sh -c "rm -rf build"',
    "bash -lc 'cd x && rm -rf build'",
    "bash -o pipefail -c 'git reset --hard'",
    "zsh -c 'git clean -fdx'",
    "bash -c \"bash -c 'rm -rf build'\"",
    "eval 'rm -rf build'",
    "echo $(rm -rf build)",
    'echo "$(rm -rf build)"',
    "echo `rm -rf build`",
    "x=$(git stash drop)",
    "diff <(rm -rf build) b",
    'echo "${X:-$(rm -rf build)}"',
    "bash <<'EOF'\nrm -rf build\nEOF",
    "sh <<EOF\ngit reset --hard\nEOF",
    "cat <<EOF\n$(rm -rf build)\nEOF",
    # find and xargs
    "find . -delete",
    "find . -name '*.pyc' -delete",
    "find . -name '*.pyc' -exec rm {} \\;",
    "find . -type d -exec rm -rf {} +",
    "find . -name x -execdir rm -f {} ';'",
    "find . | xargs rm",
    "find . -print0 | xargs -0 rm -f",
    "ls | xargs -I{} rm -rf {}",
    "ls | xargs -n 1 rm",
    # git
    "git reset --hard",
    "git reset --hard HEAD~1",
    "git -C /tmp/repo reset --hard",
    "git --no-pager reset --hard origin/main",
    "git -c core.pager=cat reset --hard",
    "git checkout -- .",
    "git checkout .",
    "git checkout -- src/app.py",
    "git checkout HEAD -- src/app.py",
    "git checkout HEAD src/app.py",
    "git checkout main.py",
    "git checkout -f",
    "git checkout --force main",
    "git checkout '*.py'",
    "git switch -f main",
    "git switch --discard-changes main",
    "git restore .",
    "git restore src/app.py",
    "git restore --worktree --staged x",
    "git restore -SW x",
    "git restore --source=HEAD~2 x",
    "git clean -f",
    "git clean -fd",
    "git clean -fdx",
    "git clean -xf",
    "git clean -d -f",
    "git clean --force",
    "git clean -ffdx",
    "git clean -d",
    "git push --force",
    "git push -f origin main",
    "git push -uf origin main",
    "git push --force-with-lease",
    "git push origin +main",
    "git push origin :old-branch",
    "git push --delete origin old",
    "git push --mirror",
    "git branch -D feature",
    "git branch -d -f feature",
    "git branch --delete --force feature",
    "git stash drop",
    "git stash clear",
    "git reflog expire --expire=now --all",
    # other tools
    "dd if=/dev/zero of=/dev/sda",
    "dd if=x of=y bs=1M",
    "mkfs.ext4 /dev/sdb1",
    "mkfs -t ext4 /dev/sdb1",
    "mke2fs /dev/sdb1",
    "wipefs -a /dev/sdb",
    "shred -u secrets.txt",
    "truncate -s 0 app.log",
    "truncate -s0 app.log",
    "truncate --size=0 app.log",
    "truncate -s -100 app.log",
    "chmod -R 777 /",
    "chmod -R 000 /etc",
    "chown -R nobody /",
    "chown -R u:u ~",
    "chgrp --recursive g /usr/",
    "rsync -a --delete src/ dst/",
]

SAFE = [
    "rm file.txt",
    "rm -f file.txt",
    "rm -- -r",
    "rm -i a b",
    "rmdir empty",
    "unlink x",
    "ls -la",
    "git status",
    "git diff --cached",
    "git log --oneline -5",
    "git add -A",
    "git commit -m 'rm -rf everything'",
    "git checkout -b new",
    "git checkout -b new origin/main",
    "git checkout main",
    "git checkout release-1.2",
    "git checkout HEAD~1",
    "git checkout main --",
    "git switch -c topic",
    "git reset --soft HEAD~1",
    "git reset",
    "git reset HEAD file",
    "git restore --staged file",
    "git restore -S file",
    "git clean -n",
    "git clean -nfd",
    "git clean --dry-run -fd",
    "git push",
    "git push -u origin main",
    "git push -n --force",
    "git branch -d merged",
    "git branch new",
    "git stash",
    "git stash list",
    "git stash pop",
    "git reflog",
    "grep -r rm .",
    "grep -rn 'rm -rf' src",
    "echo rm -rf /",
    'echo "rm -rf /"',
    "echo 'git reset --hard'",
    "printf '%s\\n' 'rm -rf /'",
    "find . -name x",
    "find . -name '*.py' -exec grep -l foo {} +",
    "xargs echo rm -rf",
    "pytest -x 2>&1 | tail -20",
    "make clean",
    "npm run clean",
    "cargo clean",
    "mv a b",
    "cp -r a b",
    "echo data > file.txt",
    ": > log.txt",
    "cat > notes.md <<'EOF'\ndon't rm -rf this, it's fine\nEOF",
    "cat <<'EOF'\n$(rm -rf build)\nEOF",
    "command -v rm",
    "type rm",
    "which rm",
    "man rm",
    "chmod -R 755 build",
    "chmod +x script.sh",
    "chmod -r file",
    "chown -R me:me .",
    "truncate -s 10M disk.img",
    "dd if=/dev/zero bs=1M count=1",
    "bash script.sh",
    "bash -c 'echo hi'",
    "sudo apt-get install -y ripgrep",
    "rsync -a src/ dst/",
    "ls # rm -rf /",
    "echo '#'; ls",
    "",
    "   ",
]


@pytest.mark.parametrize("command", DESTRUCTIVE)
def test_destructive(command):
    verdict = classify(command)
    assert verdict.destructive, command
    assert verdict.reason and verdict.matched


@pytest.mark.parametrize("command", SAFE)
def test_not_destructive(command):
    verdict = classify(command)
    assert not verdict.destructive, (command, verdict)


@pytest.mark.parametrize("command", ["echo 'unbalanced", 'echo "open', "echo $(ls", "echo `ls",
                                     "x=${y", "echo $'a\\'"])
def test_unparseable_is_destructive(command):
    verdict = classify(command)
    assert verdict.destructive and "could not parse" in verdict.reason


def test_matched_names_the_inner_command():
    assert classify("ls && bash -c 'git reset --hard'").matched == "git reset --hard"
    assert classify("sudo /bin/rm -rf x").matched == "/bin/rm -rf x"


def test_deep_nesting_is_refused():
    cmd = "ls"
    for _ in range(12):
        cmd = "bash -c " + _quote(cmd)
    assert classify(cmd).destructive


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def test_lexer_drops_redirections_and_fds():
    assert lex("2>/dev/null pytest -x >out.txt 2>&1").segments == [["pytest", "-x"]]
    assert lex("a && b || c; d | e & f\ng").segments == [["a"], ["b"], ["c"], ["d"], ["e"], ["f"], ["g"]]


def test_lexer_heredoc_body_is_not_a_command():
    lexed = lex("cat <<'EOF' > f\nrm -rf x\nEOF\necho done")
    assert lexed.segments == [["cat"], ["echo", "done"]]
    assert lexed.heredocs == {0: ["rm -rf x"]}


def test_lexer_raises_on_unterminated_quote():
    with pytest.raises(ShellSyntaxError):
        lex("echo 'x")


def test_simple_commands_for_rules():
    got = simple_commands("FOO=1 pytest -x 2>&1 | tail -20 && bash -c 'git push'; echo $(date)")
    assert [c.text for c in got] == ["pytest -x", "tail -20", "bash -c git push", "git push",
                                     "echo $(...)", "date"]


def test_simple_commands_peel_wrappers():
    got = simple_commands("sudo -u me timeout 5 env X=1 git push; su -c 'rm x'; command -v git")
    assert [(c.text, c.core) for c in got] == [
        ("sudo -u me timeout 5 env X=1 git push", "git push"),
        ("rm x", "rm x"),
        ("su -c rm x", "su -c rm x"),
        ("command -v git", "command -v git"),
    ]


@pytest.mark.parametrize("cmd", [
    "bash <<< 'rm -rf x'",
    'sh <<<"rm -rf x"',
    "su -c'rm -rf x'",
    "su -lc 'rm -rf x'",
    "coproc rm -rf x",
])
def test_review_found_variants_are_destructive(cmd):
    assert classify(cmd).destructive, cmd


@pytest.mark.parametrize("cmd", ["grep foo <<< 'rm -rf x'", "cat <<< hello", "su -l user"])
def test_here_strings_to_non_shells_are_not(cmd):
    assert not classify(cmd).destructive, cmd
