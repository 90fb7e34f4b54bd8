// The REST baseline: a Fastify JSON route over HTTP/1.1, as a team without
// gRPC would write Greet.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.post<{ Body: { name: string } }>("/greet", async (request) => ({
  greeting: `Hello, ${request.body.name}!`,
  language: "en",
}));
const address = await app.listen({ port: 0, host: "127.0.0.1" });
console.log(`PORT ${new URL(address).port}`);
