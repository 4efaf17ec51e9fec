#!/usr/bin/python3
"""Independent DKIM check for the tests: Debian's python3-dkim (dkimpy), keys from the test world's DNS.

usage: dkim_verify.py DNS_HOST DNS_PORT MESSAGE_FILE...
prints one JSON line per file: {"file": ..., "results": [{"d": ..., "s": ..., "a": ..., "ok": bool}]}
"""
import json
import re
import sys

import dkim
import dns.resolver


def make_dnsfunc(host, port):
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.lifetime = 5

    def dnsfunc(name, timeout=5):
        qname = name.decode() if isinstance(name, bytes) else name
        answer = resolver.resolve(qname.rstrip('.'), 'TXT', tcp=False)
        return b''.join(b''.join(r.strings) for r in answer)

    return dnsfunc


def tags(header_value):
    flat = re.sub(rb'\r?\n[ \t]+', b' ', header_value)
    out = {}
    for part in flat.split(b';'):
        if b'=' in part:
            k, v = part.split(b'=', 1)
            out[k.strip().decode()] = v.strip().decode()
    return out


def main():
    host, port, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    dnsfunc = make_dnsfunc(host, port)
    for path in files:
        with open(path, 'rb') as f:
            message = f.read()
        d = dkim.DKIM(message)
        sigs = [value for (name, value) in d.headers if name.lower() == b'dkim-signature']
        results = []
        for idx, value in enumerate(sigs):
            t = tags(value)
            try:
                ok, error = bool(dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc)), None
            except dkim.DKIMException as e:
                ok, error = False, str(e)
            results.append({'d': t.get('d'), 's': t.get('s'), 'a': t.get('a'), 'ok': ok, 'error': error})
        print(json.dumps({'file': path, 'results': results}))


if __name__ == '__main__':
    main()
