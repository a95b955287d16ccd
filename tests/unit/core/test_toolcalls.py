"""The recovery parser, both sides of THE RULE (agent/toolcalls.py): markup that is the model's
own call syntax at the end of its message is a call; the same markup quoted is an answer."""
import json

import pytest

from realcost_agent.agent.toolcalls import (
    CallAssembler, normalize_call, normalize_name, recover_text_calls, repair_arguments,
)

TOOLS = ["read_file", "list_files", "search", "run_command", "edit"]
ARGS = '{"path": "a.py"}'
FULL = f"<|start|>assistant<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{ARGS}<|call|>"


def calls(text):
    found = recover_text_calls(text, TOOLS)
    return None if found is None else [(normalize_name(c.name, TOOLS)[0], json.loads(c.arguments))
                                       for c in found.calls]


# -- the model meant to call: executed ----------------------------------------------------------
CALLS = {
    "full special tokens": FULL,
    "no start token": f"<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{ARGS}<|call|>",
    "recipient first": f"to=functions.read_file<|channel|>commentary json<|message|>{ARGS}<|call|>",
    "no call token": f"to=functions.read_file<|channel|>commentary json<|message|>{ARGS}",
    "end token instead of call": f"to=functions.read_file<|message|>{ARGS}<|end|>",
    "tokens stripped": f"commentary to=functions.read_file json{ARGS}",
    "tokens stripped, assistant glued": f"assistantcommentary to=functions.read_file json{ARGS}",
    "bare recipient": f"to=functions.read_file {ARGS}",
    "no functions prefix": f"to=read_file<|channel|>commentary json<|message|>{ARGS}<|call|>",
    "after analysis message": ("<|channel|>analysis<|message|>We need to read a.py first.<|end|>" + FULL),
    "after analysis, start token": ("<|start|>assistant<|channel|>analysis<|message|>Need a.py.<|end|>" + FULL),
    "after stripped analysis": f"analysisWe need to read a.py.assistantcommentary to=functions.read_file json{ARGS}",
    "after prose on its own line": f"Let me look at the file.\n\nto=functions.read_file json{ARGS}",
    "after prose, full markup on its own line": f"I'll read it now.\n{FULL}",
    "trailing whitespace": FULL + "\n\n  ",
    "constrain without json word": f"to=functions.read_file <|constrain|><|message|>{ARGS}<|call|>",
    "multiline args": 'to=functions.read_file json<|message|>{\n  "path": "a.py"\n}<|call|>',
    "glued after end token": f"thinking done<|end|>to=functions.read_file json{ARGS}",
}


@pytest.mark.parametrize("text", CALLS.values(), ids=CALLS.keys())
def test_call_markup_ending_the_message_is_a_call(text):
    assert calls(text) == [("read_file", {"path": "a.py"})]


def test_analysis_prefix_becomes_reasoning_and_prose_stays_text():
    found = recover_text_calls(CALLS["after analysis message"], TOOLS)
    assert found.reasoning == "We need to read a.py first." and found.text == ""
    found = recover_text_calls(CALLS["after prose on its own line"], TOOLS)
    assert found.text == "Let me look at the file." and found.reasoning == ""
    found = recover_text_calls(CALLS["after stripped analysis"], TOOLS)
    assert found.reasoning == "We need to read a.py." and found.text == ""


def test_several_calls_in_a_row_at_the_end():
    text = (f"to=functions.read_file json{ARGS}<|call|>\n"
            'to=functions.list_files json{"path": "src"}<|call|>')
    assert calls(text) == [("read_file", {"path": "a.py"}), ("list_files", {"path": "src"})]


def test_python_literal_and_hallucinated_names_in_text():
    assert calls("to=functions.read_file json{'path': 'a.py'}") == [("read_file", {"path": "a.py"})]
    found = recover_text_calls('to=repo_browser.open_file json{"path": "a.py"}', TOOLS)
    assert normalize_name(found.calls[0].name, TOOLS) == ("read_file", "repo_browser.open_file")
    # An unknown tool in real call markup is still a call: it gets a tool error, nothing runs.
    found = recover_text_calls('to=python json{"code": "print(1)"}', TOOLS)
    assert found is not None and normalize_name(found.calls[0].name, TOOLS) == (None, None)


def test_whole_message_json_call_is_a_call():
    assert calls('{"name": "read_file", "arguments": {"path": "a.py"}}') == [("read_file", {"path": "a.py"})]
    assert calls('{"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\"}"}') == [
        ("read_file", {"path": "a.py"})]


# -- the model quoted a call: shown, never executed ----------------------------------------------
QUOTED = {
    "json call in a json fence": '```json\n{"name": "run_command", "arguments": {"command": "touch X"}}\n```',
    "json call in a bare fence": '```\n{"name": "run_command", "arguments": {"command": "touch X"}}\n```',
    "harmony in a fence": f"Here is the format:\n```\n{FULL}\n```",
    "harmony in a fence, unclosed": f"Here is the format:\n```\n{FULL}",
    "harmony in a tilde fence": f"~~~\n{FULL}\n~~~",
    "harmony in inline code": f"The call looks like `{FULL}`",
    "harmony in inline code at the end": f"Like this: `to=functions.read_file json{ARGS}`",
    "harmony mid-sentence at the end": f"gpt-oss emits: {FULL}",
    "harmony after 'would call'": f"I would call to=functions.read_file json{ARGS}",
    "harmony followed by prose": f"{FULL} and then it reads the file.",
    "harmony followed by a final message": f"{FULL}<|start|>assistant<|channel|>final<|message|>Done.",
    "harmony in a quote line": f"> to=functions.read_file json{ARGS}",
    "harmony in double quotes": f'The string "{FULL}" is what it sends.',
    "function call syntax": 'I would call read_file({"path": "a.py"}) to check.',
    "function call syntax at the end": 'Next step: read_file({"path": "a.py"})',
    "python call syntax": "Then run_command(command='touch X')",
    "json call inside prose": 'Send {"name": "run_command", "arguments": {"command": "touch X"}} to run it.',
    "json call with extra keys": '{"name": "read_file", "arguments": {"path": "a.py"}, "id": 3}',
    "json call of unknown tool": '{"name": "rm_everything", "arguments": {}}',
    "stripped markup after a space": f"see the commentary to=functions.read_file json{ARGS}",
    "markup after a colon": f"Call:to=functions.read_file json{ARGS}",
    "args not an object": "to=functions.read_file json[1, 2]",
    "args not json": "to=functions.read_file json{path: a.py}",
    "args with code": "to=functions.read_file json{'path': __import__('os').getcwd()}",
    "plain answer": "Fixed the bug in calc.py; tests pass.",
    "empty": "",
}


@pytest.mark.parametrize("text", QUOTED.values(), ids=QUOTED.keys())
def test_quoted_call_is_an_answer(text):
    assert calls(text) is None


def test_huge_text_is_never_scanned():
    assert calls("x" * 300_000 + FULL) is None


# -- names and arguments ------------------------------------------------------------------------
@pytest.mark.parametrize("raw,expected", [
    ("read_file", "read_file"), ("functions.read_file", "read_file"),
    ("read_file<|channel|>commentary", "read_file"), ("to=functions.read_file", "read_file"),
    ("functions.read_file<|channel|>commentary json", "read_file"),
    ("repo_browser.open_file", "read_file"), ("repo_browser.search", "search"),
    ("repo_browser.print_tree", "list_files"), ("container.exec", "run_command"),
    ("python", None), ("browser.search", None), ("", None), ("read_fileread_file", None),
])
def test_names(raw, expected):
    assert normalize_name(raw, TOOLS)[0] == expected


@pytest.mark.parametrize("raw,expected", [
    ('{"path": "a.py"}', {"path": "a.py"}),
    ('"{\\"path\\": \\"a.py\\"}"', {"path": "a.py"}),  # double-encoded
    ("{'path': 'a.py', 'case_insensitive': True, 'glob': None}",
     {"path": "a.py", "case_insensitive": True, "glob": None}),
    ('{"path": "a.py"}<|call|>', {"path": "a.py"}),
    ("", {}),
])
def test_arguments_are_repaired(raw, expected):
    args, _ = repair_arguments(raw)
    assert json.loads(args) == expected


def test_unrepairable_arguments_stay_as_sent_for_a_clear_tool_error():
    for raw in ("{path: a}", "[1]", "{'a': open('x')}"):
        assert repair_arguments(raw) == (raw, False)


def test_hallucinated_tools_get_our_arguments():
    c = normalize_call("repo_browser.open_file", '{"path": "a.py", "line_start": 3, "num_lines": 5}', TOOLS)
    assert c.name == "read_file" and json.loads(c.arguments) == {"path": "a.py", "start_line": 3, "end_line": 7}
    c = normalize_call("container.exec", '{"cmd": ["bash", "-lc", "pytest -q"], "timeout": 9000}', TOOLS)
    assert c.name == "run_command" and json.loads(c.arguments) == {"command": "pytest -q"}
    c = normalize_call("container.exec", '{"cmd": ["ls", "-la", "a b"]}', TOOLS)
    assert json.loads(c.arguments) == {"command": "ls -la 'a b'"}
    c = normalize_call("repo_browser.search", '{"query": "def add", "path": "."}', TOOLS)
    assert c.name == "search" and json.loads(c.arguments) == {"pattern": "def add", "path": "."}
    assert "repo_browser.search -> search" in c.note
    c = normalize_call("python", '{"code": "1"}', TOOLS)
    assert c.name == "python"  # unknown: the registry answers with the real tool list


def test_alias_only_when_our_tool_exists():
    assert normalize_name("container.exec", ["read_file"]) == (None, None)


# -- streamed fragments -------------------------------------------------------------------------
def test_parallel_calls_sharing_an_index_with_new_ids_split():
    a = CallAssembler(frozenset(TOOLS))
    a.add(0, "c1", "read_file", "")
    a.add(0, None, None, '{"path": "a.py"}')
    a.add(0, "c2", "read_file", "")
    a.add(0, None, None, '{"path": "b.py"}')
    assert a.calls() == [("c1", "read_file", '{"path": "a.py"}'), ("c2", "read_file", '{"path": "b.py"}')]


def test_parallel_calls_sharing_an_index_without_ids_split_on_a_new_name():
    a = CallAssembler(frozenset(TOOLS))
    a.add(0, None, "read_file", '{"path": "a.py"}')
    a.add(0, None, "read_file", '{"path": "b.py"}')
    a.add(0, None, "list_files", "{}")
    assert [n for _, n, _ in a.calls()] == ["read_file", "read_file", "list_files"]


def test_a_name_repeated_on_every_chunk_is_one_call():
    a = CallAssembler(frozenset(TOOLS))
    a.add(0, "c1", "read_file", '{"pa')
    a.add(0, "c1", "read_file", 'th": "a.py"}')
    assert a.calls() == [("c1", "read_file", '{"path": "a.py"}')]


def test_a_name_in_fragments_is_joined():
    a = CallAssembler(frozenset(TOOLS))
    a.add(0, "c1", "read_", "")
    a.add(0, None, "file", '{"path": "a.py"}')
    assert a.calls() == [("c1", "read_file", '{"path": "a.py"}')]


def test_distinct_indexes_are_distinct_calls_and_missing_ids_stay_none():
    a = CallAssembler(frozenset(TOOLS))
    a.add(0, None, "read_file", '{"path": "a.py"}')
    a.add(1, None, "list_files", "{}")
    assert a.calls() == [(None, "read_file", '{"path": "a.py"}'), (None, "list_files", "{}")]
