#!/usr/bin/env python3
"""Remakes slack_web_openapi_v2.json from Slack's full description: keeps the
method families trainbot and its test server use (see `keep`) and every
definition, and writes it compactly.

    python3 prune_slack.py slack_web_openapi_v2.full.json slack_web_openapi_v2.json

The full file is `web-api/slack_web_openapi_v2.json` of the repository
slackapi/slack-api-specs.
"""
import json
import sys

# Method families (the part before the first dot) kept: what trainbot sends
# (chat, auth, usergroups, users, apps for Socket Mode) and their neighbours
# a test may touch.
keep = ("apps.", "auth.", "chat.", "conversations.", "usergroups.", "users.")

src, dst = sys.argv[1], sys.argv[2]
with open(src) as f:
    d = json.load(f)
d["paths"] = {p: v for p, v in d["paths"].items() if p.lstrip("/").startswith(keep)}
with open(dst, "w") as f:
    json.dump(d, f, separators=(",", ":"), sort_keys=True)
    f.write("\n")
