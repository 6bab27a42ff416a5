#!/usr/bin/env python3
"""Checks many user-data and network-config files in one Python process, with the functions
`cloud-init schema -c` and `cloud-init devel net-convert` call (paths on stdin, one a line). The CLI costs ~0.6 s a file in
start-up alone; 200 random specs would take minutes. Prints one JSON line per file."""
import json
import sys
import tempfile

from cloudinit import distros, safeyaml
from cloudinit.config.schema import get_schema, validate_cloudconfig_file
from cloudinit.net import network_state, networkd

schema = get_schema()
distro = distros.fetch("ubuntu")("ubuntu", {}, None)

for path in sys.stdin.read().split("\n"):
    if not path:
        continue
    try:
        if path.endswith("user-data"):
            validate_cloudconfig_file(path, schema)
        else:
            with open(path, encoding="utf-8") as f:
                data = safeyaml.load(f.read())
            renderer = networkd.Renderer(config=distro.renderer_configs.get("networkd"))
            state = network_state.parse_net_config_data(data, renderer=renderer)
            with tempfile.TemporaryDirectory() as target:
                renderer.render_network_state(state, target=target)
        print(json.dumps({"file": path, "ok": True}))
    except Exception as error:  # every failure is a finding about that file
        print(json.dumps({"file": path, "ok": False, "error": f"{type(error).__name__}: {error}"}))
