"""Drive python-xcaplib's XCAPClient for the interop tests (tests/python_xcaplib_test.ts).

Reads one JSON object from stdin:
  {"root": XCAP_ROOT, "sip_address": "sip:alice@example.com", "password": "..." or null,
   "ops": [{"op": "get"|"put"|"delete"|"replace"|"insert", "app": AUID, "node": ...,
            "body": TEXT, "etag": ..., "etagnot": ..., "globaltree": bool, "filename": ...}]}
runs every operation with ONE XCAPClient (so urllib's Digest state carries over from request
to request, as in python-sipsimple), and writes one JSON object per operation to stdout:
  {"ok": true, "status": 200, "etag": ..., "content_type": ..., "body": ..., "kind": CLASS}
  {"ok": false, "error": "HTTPError", "status": 409, "body": ..., "www_authenticate": ...}
  {"ok": false, "error": "ValueError", "message": ...}     (any other exception)
"""
import json
import sys

from xcaplib.client import XCAPClient, make_resource_from_httpresponse
from xcaplib.error import HTTPError


def run(client, op):
    kwargs = {}
    for key in ('etag', 'etagnot', 'globaltree', 'filename'):
        if op.get(key) is not None:
            kwargs[key] = op[key]
    name = op['op']
    body = op.get('body')
    if body is not None:
        body = body.encode('utf-8')
    if name == 'get':
        # What XCAPClient.get does, keeping the HTTP response: python-xcaplib 2.0.1 builds
        # Element, AttributeValue and NSBindings with the response in the content_type slot.
        response = client._get(op['app'], op.get('node'), **kwargs)
        result = make_resource_from_httpresponse(response)
        return {'ok': True, 'status': response.status, 'etag': result.etag,
                'content_type': response.headers.get('content-type'), 'body': str(result),
                'kind': type(result).__name__}
    if name == 'put':
        response = client.put(op['app'], body, op.get('node'), **kwargs)
    elif name == 'delete':
        response = client.delete(op['app'], op.get('node'), **kwargs)
    elif name == 'replace':
        old, response = client.replace(op['app'], body, op.get('node'), **kwargs)
    elif name == 'insert':
        response = client.insert(op['app'], body, op.get('node'), **kwargs)
    else:
        raise ValueError('unknown operation %r' % name)
    return {'ok': True, 'status': response.status, 'etag': response.etag,
            'content_type': response.headers.get('content-type'), 'body': response.body,
            'kind': type(response).__name__}


def main():
    spec = json.load(sys.stdin)
    client = XCAPClient(spec['root'], spec['sip_address'], password=spec.get('password'))
    for op in spec['ops']:
        try:
            result = run(client, op)
        except HTTPError as error:
            result = {'ok': False, 'error': 'HTTPError', 'status': error.status,
                      'reason': error.reason, 'body': error.body,
                      'content_type': error.headers.get('content-type'),
                      'www_authenticate': error.headers.get('www-authenticate')}
        except Exception as error:
            result = {'ok': False, 'error': type(error).__name__, 'message': str(error)}
        sys.stdout.write(json.dumps(result) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
