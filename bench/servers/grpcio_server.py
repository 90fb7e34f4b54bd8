"""The seed talk's stack: Python grpcio with a synchronous thread pool.

Usage: grpcio_server.py STUBS_DIR
"""

import sys
from concurrent import futures

import grpc

sys.path.insert(0, sys.argv[1])
from greeter.v1 import greeter_pb2, greeter_pb2_grpc  # noqa: E402


class Greeter(greeter_pb2_grpc.GreeterServicer):
    def Greet(self, request, context):
        return greeter_pb2.GreetingResponse(greeting=f"Hello, {request.name}!", language="en")


server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
greeter_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"PORT {port}", flush=True)
server.wait_for_termination()
