"""The seed talk's own stack as an interop client: Python grpcio calling the Greeter.

Usage: greeter_client.py STUBS_DIR ADDRESS
Stubs are generated from proto/ by grpc_tools.protoc into STUBS_DIR.
Prints one JSON object per line, one per check, for the Node test to assert.
"""

import json
import sys

import grpc

sys.path.insert(0, sys.argv[1])
from greeter.v1 import greeter_pb2, greeter_pb2_grpc  # noqa: E402


def report(check, **fields):
    print(json.dumps({"check": check, **fields}), flush=True)


def main():
    address = sys.argv[2]
    with grpc.insecure_channel(address) as channel:
        stub = greeter_pb2_grpc.GreeterStub(channel)

        res = stub.Greet(greeter_pb2.GreetingRequest(name="Ada"), timeout=5)
        report("greet", greeting=res.greeting)

        try:
            stub.Greet(greeter_pb2.GreetingRequest(name=""), timeout=5)
            report("greet-empty", code="OK")
        except grpc.RpcError as err:
            report("greet-empty", code=err.code().name, details=err.details())

        stream = stub.GreetStream(greeter_pb2.GreetStreamRequest(name="Grace", count=3, interval_ms=10), timeout=5)
        report("greet-stream", greetings=[r.greeting for r in stream])

        try:
            for _ in stub.GreetStream(greeter_pb2.GreetStreamRequest(name="Grace", count=50, interval_ms=100), timeout=0.3):
                pass
            report("greet-stream-deadline", code="OK")
        except grpc.RpcError as err:
            report("greet-stream-deadline", code=err.code().name)

        names = iter([greeter_pb2.GreetingRequest(name=n) for n in ("Ada", "Grace", "Linus")])
        res = stub.GreetEveryone(names, timeout=5)
        report("greet-everyone", greeting=res.greeting, count=res.count)

        chat = stub.Chat(iter([greeter_pb2.ChatRequest(name="Ada", message="hi")]), timeout=5)
        report("chat", replies=[r.reply for r in chat])


if __name__ == "__main__":
    main()
