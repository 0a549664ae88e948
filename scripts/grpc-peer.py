#!/usr/bin/python3
"""A gRPC server and client (python3-grpcio, cleartext HTTP/2) for httpeek's captures and live
tests, without generated code: messages are raw bytes.

  grpc-peer.py server HOST PORT          serves httpeek.test.Echo until killed
  grpc-peer.py client HOST PORT [ROUNDS] runs ROUNDS (1) rounds of every call kind on one
                                         channel and prints one JSON line per call:
                                         {"method": "/httpeek.test.Echo/Unary", "code": 0}

Echo's methods: Unary (echoes), Fail (NOT_FOUND, "no such item", trailers-only), Denied
(PERMISSION_DENIED after one response message), ServerStream (5 messages), ClientStream
(counts what came), Bidi (echoes each message), Slow (a message every 0.2 s; the client
cancels it after the first, so the stream ends with RST_STREAM)."""

import json
import sys
import time
from concurrent import futures

import grpc

SERVICE = "httpeek.test.Echo"


def unary(request, context):
    return b"echo:" + request


def fail(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such item")


def denied(request, context):
    yield b"first"
    context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")


def server_stream(request, context):
    for i in range(5):
        yield b"part-%d" % i


def client_stream(requests, context):
    return b"got %d" % sum(1 for _ in requests)


def bidi(requests, context):
    for r in requests:
        yield b"re:" + r


def slow(request, context):
    for i in range(50):
        if not context.is_active():
            return
        yield b"tick-%d" % i
        time.sleep(0.2)


def serve(host, port):
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Denied": grpc.unary_stream_rpc_method_handler(denied),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
        "Slow": grpc.unary_stream_rpc_method_handler(slow),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_insecure_port("%s:%d" % (host, port))
    server.start()
    server.wait_for_termination()


def code_of(call):
    """The status code of a finished call, as its number."""
    try:
        return call.code().value[0]
    except AttributeError:
        return grpc.StatusCode.UNKNOWN.value[0]


def one_round(ch, r):
    """Every kind of call once; yields (method, code)."""
    path = "/%s/" % SERVICE
    call = ch.unary_unary(path + "Unary")
    _, c = call.with_call(b"hello-%d" % r)
    yield "Unary", code_of(c)
    try:
        ch.unary_unary(path + "Fail").with_call(b"x")
        yield "Fail", 0
    except grpc.RpcError as e:
        yield "Fail", e.code().value[0]
    it = ch.unary_stream(path + "Denied")(b"x")
    try:
        list(it)
        yield "Denied", 0
    except grpc.RpcError as e:
        yield "Denied", e.code().value[0]
    it = ch.unary_stream(path + "ServerStream")(b"go")
    list(it)
    yield "ServerStream", code_of(it)
    _, c = ch.stream_unary(path + "ClientStream").with_call(iter([b"a", b"b", b"c"]))
    yield "ClientStream", code_of(c)
    it = ch.stream_stream(path + "Bidi")(iter([b"1", b"2", b"3"]))
    list(it)
    yield "Bidi", code_of(it)
    it = ch.unary_stream(path + "Slow")(b"go")
    next(it)
    it.cancel()
    yield "Slow", grpc.StatusCode.CANCELLED.value[0]


def client(host, port, rounds):
    with grpc.insecure_channel("%s:%d" % (host, port)) as ch:
        grpc.channel_ready_future(ch).result(timeout=5)
        for r in range(rounds):
            for method, code in one_round(ch, r):
                print(json.dumps({"method": "/%s/%s" % (SERVICE, method), "code": code}),
                      flush=True)
        time.sleep(0.3)  # the RST_STREAM of the cancelled call leaves before the channel closes


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("server", "client"):
        sys.exit(__doc__)
    host, port = sys.argv[2], int(sys.argv[3])
    if sys.argv[1] == "server":
        serve(host, port)
    else:
        client(host, port, int(sys.argv[4]) if len(sys.argv) > 4 else 1)


if __name__ == "__main__":
    main()
