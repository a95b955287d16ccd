"""Safety checks that sit between a model's tool call and its execution: destructive-command
recognition, allow/deny rules, repeat detection, and an optional bubblewrap sandbox."""
