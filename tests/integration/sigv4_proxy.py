"""An HTTP proxy that checks S3 requests the way S3 does before passing them
on to an S3-compatible server that does not (s3rver ignores SigV4
signatures). For every request it recomputes the AWS Signature Version 4
with botocore's own signer (S3SigV4Auth) from the method, path, query,
signed headers and x-amz-date it received and the known secret, and answers
403 SignatureDoesNotMatch on a mismatch or a missing signature; it checks
that x-amz-content-sha256 is the SHA-256 of the body (400
XAmzContentSHA256Mismatch, as S3 answers); then it forwards the request to
the upstream server and relays the answer. Bodies are buffered (test sizes).

Run with Debian's interpreter, which has python3-botocore:

  /usr/bin/python3 sigv4_proxy.py --upstream 127.0.0.1:PORT [--listen 127.0.0.1:0]
      [--access-key S3RVER --secret S3RVER --region us-east-1] [--log FILE]

It prints "sigv4_proxy listening on 127.0.0.1:PORT" once it accepts
connections, and logs one line per request to --log:
"METHOD TARGET STATUS CODE" (CODE is "-" when the request was forwarded).

For fault-injection tests, POST /__proxy/flip-next-put makes it flip the
last byte of the next PUT body after checking it, so that the server
stores something other than what the client sent.
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import http.server
import sys
import threading
import urllib.parse
import uuid
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "expect"}
MAX_SKEW = datetime.timedelta(minutes=15)


class Rejection(Exception):
    def __init__(self, status, code, message, extra=None):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


def parse_authorization(value):
    """(access key, date, region, service, terminator, signed headers, signature)."""
    algo, _, rest = value.partition(" ")
    if algo != "AWS4-HMAC-SHA256":
        raise Rejection(400, "InvalidArgument", f"unsupported authorization type {algo!r}")
    fields = {}
    for part in rest.split(","):
        name, _, val = part.strip().partition("=")
        fields[name] = val
    try:
        scope = fields["Credential"].split("/")
        signed, signature = fields["SignedHeaders"], fields["Signature"]
    except KeyError as missing:
        raise Rejection(403, "SignatureDoesNotMatch", f"the Authorization header has no {missing}")
    if len(scope) != 5 or not signature:
        raise Rejection(400, "AuthorizationHeaderMalformed", "bad Credential scope or no Signature")
    return (*scope, signed, signature)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and "100 Continue" for uploads
    cfg = None  # set in main
    state = {"flip_next_put": False}
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: one line per request in --log instead
        pass

    def record(self, status, code):
        if self.cfg.log:
            with self.lock, open(self.cfg.log, "a") as f:
                f.write(f"{self.command} {self.path} {status} {code}\n")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size]
                if size == 0:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_any(self):
        body = self.read_body()
        if self.path.startswith("/__proxy/"):
            return self.control()
        try:
            self.verify(body)
        except Rejection as r:
            self.record(r.status, r.code)
            return self.answer_error(r)
        if self.command == "PUT" and body:
            with self.lock:
                flip, self.state["flip_next_put"] = self.state["flip_next_put"], False
            if flip:
                body = body[:-1] + bytes([body[-1] ^ 0xFF])
        self.forward(body)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = do_any

    def control(self):
        if self.command == "POST" and self.path == "/__proxy/flip-next-put":
            with self.lock:
                self.state["flip_next_put"] = True
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.answer_error(Rejection(404, "NoSuchProxyControl", self.path))

    def verify(self, body):
        """Raises Rejection unless the request is signed with the secret."""
        cfg, h = self.cfg, self.headers
        auth = h.get("Authorization")
        if not auth:
            raise Rejection(403, "SignatureDoesNotMatch", "the request carries no signature")
        key, date, region, service, term, signed, signature = parse_authorization(auth)
        if key != cfg.access_key:
            raise Rejection(403, "InvalidAccessKeyId",
                            "The AWS Access Key Id you provided does not exist in our records.")
        if region != cfg.region or service != "s3" or term != "aws4_request":
            raise Rejection(400, "AuthorizationHeaderMalformed",
                            f"the scope {date}/{region}/{service}/{term} is wrong; expecting "
                            f"region '{cfg.region}' and service 's3'")
        amz_date = h.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            raise Rejection(403, "AccessDenied", "no valid x-amz-date header")
        if amz_date[:8] != date or abs(datetime.datetime.utcnow() - when) > MAX_SKEW:
            raise Rejection(403, "RequestTimeTooSkewed",
                            "The difference between the request time and the current time is "
                            "too large.")
        names = signed.split(";")
        for need in ("host", "x-amz-date", "x-amz-content-sha256"):
            if need not in names:
                raise Rejection(403, "AccessDenied", f"the header {need} is not signed")
        for name in h.keys():
            if name.lower().startswith("x-amz-") and name.lower() not in names:
                raise Rejection(403, "AccessDenied",
                                f"There were headers present in the request which were not "
                                f"signed: {name.lower()}")
        missing = [n for n in names if n not in h]
        if missing:
            raise Rejection(403, "SignatureDoesNotMatch",
                            f"signed headers missing from the request: {missing}")

        # S3 decodes the query and canonicalises it again (sorted, each name
        # and value percent-encoded), so give botocore the decoded pairs.
        path, _, query = self.path.partition("?")
        params = urllib.parse.parse_qsl(query, keep_blank_values=True)
        request = AWSRequest(method=self.command, url=f"http://{h['host']}{path}",
                             headers={n: h.get_all(n)[0] if len(h.get_all(n)) == 1
                                      else ",".join(h.get_all(n)) for n in names},
                             params=params)
        request.context["timestamp"] = amz_date
        signer = S3SigV4Auth(Credentials(cfg.access_key, cfg.secret), "s3", cfg.region)
        canonical = signer.canonical_request(request)
        to_sign = signer.string_to_sign(request, canonical)
        expected = signer.signature(to_sign, request)
        botocore_signed = signer.signed_headers(signer.headers_to_sign(request))
        if botocore_signed != signed or not hmac.compare_digest(expected, signature):
            raise Rejection(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature "
                            "you provided. Check your key and signing method.",
                            {"CanonicalRequest": canonical, "StringToSign": to_sign})

        claimed = h.get("x-amz-content-sha256", "")
        if claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
            raise Rejection(400, "XAmzContentSHA256Mismatch",
                            "The provided 'x-amz-content-sha256' header does not match what "
                            "was computed.")

    def forward(self, body):
        up = http.client.HTTPConnection(self.cfg.upstream_host, self.cfg.upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        try:
            up.request(self.command, self.path, body=body or None, headers=headers)
            resp = up.getresponse()
            data = resp.read()
        except OSError as e:
            self.record(503, "ServiceUnavailable")
            return self.answer_error(Rejection(503, "ServiceUnavailable",
                                               f"the upstream server is unreachable: {e}"))
        finally:
            up.close()
        self.record(resp.status, "-")
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP | {"content-length", "date", "server"}:
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
        elif resp.status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and resp.status not in (204, 304):
            self.wfile.write(data)

    def answer_error(self, r):
        extra = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in r.extra.items())
        doc = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               f"<Error><Code>{escape(r.code)}</Code><Message>{escape(r.message)}</Message>"
               f"{extra}<RequestId>{uuid.uuid4().hex[:16]}</RequestId></Error>").encode()
        self.send_response(r.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(doc)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the S3 server")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--access-key", default="S3RVER")
    ap.add_argument("--secret", default="S3RVER")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--log")
    cfg = ap.parse_args()
    cfg.upstream_host, _, port = cfg.upstream.rpartition(":")
    cfg.upstream_port = int(port)
    Proxy.cfg = cfg
    host, _, port = cfg.listen.rpartition(":")
    server = http.server.ThreadingHTTPServer((host, int(port)), Proxy)
    server.daemon_threads = True
    print(f"sigv4_proxy listening on {host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
