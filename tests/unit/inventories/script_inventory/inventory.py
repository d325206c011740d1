#!/usr/bin/env python3
import json, sys
if sys.argv[1:] == ["--list"]:
    print(json.dumps({
        "gpus": {"hosts": ["s1", "s2"], "vars": {"from_script": True}, "children": ["fast"]},
        "fast": ["s3"],
        "_meta": {"hostvars": {"s1": {"ansible_host": "10.2.0.1"}, "s3": {"speed": 9}}},
    }))
else:
    print("{}")
