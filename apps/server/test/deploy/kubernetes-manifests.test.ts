import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { ServerReflection as ReflectionV1 } from "@greeter/proto/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "@greeter/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { Health } from "@greeter/proto/health/v1/health_pb.js";
import { Gateway, GRPCRoute, HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { loadConfig } from "../../src/config.js";
import { DEPLOY_DIR, loadManifests, type Manifest } from "./manifests.js";

// The models validate against the Kubernetes and Gateway API OpenAPI
// schemas, offline. Every kind the manifests use must be listed here, so
// none goes unchecked.
const MODELS = {
  "apps/v1 Deployment": Deployment,
  "v1 Service": Service,
  "v1 Namespace": Namespace,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2 HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1 NetworkPolicy": NetworkPolicy,
  "gateway.networking.k8s.io/v1 Gateway": Gateway,
  "gateway.networking.k8s.io/v1 GRPCRoute": GRPCRoute,
  "gateway.networking.k8s.io/v1 HTTPRoute": HTTPRoute,
} as const;

const KUSTOMIZE = /^kustomize\.config\.k8s\.io\//;
const KUSTOMIZATION_KEYS = new Set(["apiVersion", "kind", "namespace", "resources", "components", "images"]);

const manifests = loadManifests();
const resources = manifests.filter((m) => !KUSTOMIZE.test(m.doc.apiVersion));
const kustomizations = manifests.filter((m) => KUSTOMIZE.test(m.doc.apiVersion));

function only<T>(kind: string, name: string, make: (doc: Manifest["doc"]) => T): T {
  const found = resources.filter((m) => m.doc.kind === kind && m.doc.metadata.name === name);
  assert.equal(found.length, 1, `exactly one ${kind} ${name}`);
  return make((found[0] as Manifest).doc);
}

const deployment = only("Deployment", "greeter", (d) => new Deployment(d as never));
const pod = deployment.spec?.template.spec;
const container = pod?.containers.find((c) => c.name === "greeter");
const podLabels = deployment.spec?.template.metadata?.labels ?? {};
const containerPort = container?.ports?.find((p) => p.name === "grpc")?.containerPort;
const adminContainerPort = container?.ports?.find((p) => p.name === "admin")?.containerPort;
const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? ""]));
const config = loadConfig(env, []);

function selects(selector: Record<string, string> | undefined): boolean {
  return selector !== undefined && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
}

describe("deploy/kubernetes", () => {
  test("every manifest passes its Kubernetes or Gateway API schema", () => {
    assert.ok(resources.length >= 9, `only ${resources.length} manifests`);
    for (const { file, doc } of resources) {
      const Model = MODELS[`${doc.apiVersion} ${doc.kind}` as keyof typeof MODELS];
      assert.ok(Model, `${file}: ${doc.apiVersion} ${doc.kind} has no validator here; add it to MODELS`);
      assert.doesNotThrow(() => new Model(doc as never).validate(), `${file} is not a valid ${doc.kind}`);
    }
  });

  test("the schema check can fail: a broken Deployment is refused", () => {
    const broken = structuredClone(only("Deployment", "greeter", (d) => d));
    (broken as unknown as { spec: { template: unknown } }).spec.template = {
      spec: { containers: [{ image: "greeter" }] },
    };
    assert.throws(() => new Deployment(broken as never).validate(), /name/);
  });

  test("kustomizations list files that exist, and every manifest file is listed", () => {
    const listed = new Set<string>();
    for (const { file, doc } of kustomizations) {
      for (const key of Object.keys(doc)) assert.ok(KUSTOMIZATION_KEYS.has(key), `${file}: unexpected "${key}"`);
      const dir = dirname(file);
      const entries = [...((doc.resources as string[]) ?? []), ...((doc.components as string[]) ?? [])];
      for (const entry of entries) {
        const path = join(DEPLOY_DIR, "kubernetes", dir, entry);
        assert.ok(existsSync(path), `${file}: ${entry} does not exist`);
        listed.add(join(dir, entry));
      }
      for (const image of (doc.images as { name: string }[]) ?? []) {
        assert.equal(image.name, container?.image, `${file}: images[].name must be the Deployment's image`);
      }
    }
    for (const { file } of resources) assert.ok(listed.has(file), `${file} is in no kustomization`);
  });

  test("the container's environment is a valid server configuration, with one worker per pod", () => {
    assert.equal(config.port, containerPort);
    assert.equal(config.workers, 1);
    assert.equal(config.host, "0.0.0.0");
  });

  test("Prometheus scrapes /metrics on the admin port, which no Service exposes and only monitoring may reach", () => {
    assert.ok(config.adminPort, "ADMIN_PORT is set: /metrics is not on the public port");
    assert.equal(adminContainerPort, config.adminPort);
    // The scraper connects to the pod's IP, never its loopback.
    assert.equal(config.adminHost, "0.0.0.0");
    assert.deepEqual(deployment.spec?.template.metadata?.annotations, {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(config.adminPort),
      "prometheus.io/path": "/metrics",
    });
    for (const name of ["greeter", "greeter-headless"]) {
      const service = only("Service", name, (d) => new Service(d as never));
      for (const port of service.spec?.ports ?? []) {
        assert.ok(
          port.targetPort !== "admin" && port.targetPort !== config.adminPort && port.port !== config.adminPort,
          `Service ${name} exposes the admin port`,
        );
      }
    }
    const policy = only("NetworkPolicy", "greeter", (d) => new NetworkPolicy(d as never));
    const rules = policy.spec?.ingress ?? [];
    const opening = rules.filter((r) => r.ports?.some((p) => p.port === config.adminPort));
    assert.equal(opening.length, 1, "one ingress rule opens the admin port");
    const [rule] = opening;
    assert.deepEqual(
      rule?.ports?.map((p) => p.port),
      [config.adminPort],
      "the admin port's rule opens nothing else",
    );
    const from = rule?.from ?? [];
    assert.ok(from.length > 0, "the admin port is not open to everyone");
    for (const peer of from) {
      assert.ok(
        Object.keys(peer.namespaceSelector?.matchLabels ?? {}).length > 0 ||
          Object.keys(peer.podSelector?.matchLabels ?? {}).length > 0,
        "each peer allowed to scrape is named",
      );
    }
  });

  test("probes ask the gRPC health service on the server's port", () => {
    for (const probe of [container?.startupProbe, container?.readinessProbe, container?.livenessProbe]) {
      assert.equal(probe?.grpc?.port, config.port);
      // "" is the server's overall status, which turns NOT_SERVING when it drains.
      assert.equal(probe?.grpc?.service ?? "", "");
    }
  });

  test("the drain fits in the termination grace period", () => {
    // A preStop `sleep` or the server's own DRAIN_DELAY_MS: either keeps
    // new calls served while the endpoint removal spreads.
    const preStop = container?.lifecycle?.preStop?.exec?.command ?? [];
    const preStopMs = preStop[0] === "sleep" ? Number(preStop[1]) * 1_000 : 0;
    const pauseMs = preStopMs + config.drainDelayMs;
    assert.ok(pauseMs >= 1_000, "a pause lets endpoints update before the drain");
    const graceMs = (pod?.terminationGracePeriodSeconds ?? 30) * 1_000;
    assert.ok(
      pauseMs + config.shutdownGraceMs + 1_000 <= graceMs,
      `preStop ${preStopMs} ms + DRAIN_DELAY_MS ${config.drainDelayMs} ms + SHUTDOWN_GRACE_MS ${config.shutdownGraceMs} ms must end before the kubelet's SIGKILL at ${graceMs} ms`,
    );
    assert.ok(config.maxConnectionAgeMs > 0, "connections age out, so dns:/// clients find new pods");
  });

  test("the memory guard's limit leaves the pod room for what Node's HTTP/2 holds outside it", () => {
    const limit = container?.resources?.limits?.memory;
    const mi = /^(\d+)Mi$/.exec(String(limit))?.[1];
    assert.ok(mi, `the pod's memory limit in Mi: ${limit}`);
    const podBytes = Number(mi) * 1024 * 1024;
    // Under the stalled-stream attack RSS reached about twice the guard's
    // limit (apps/server/test/attacks): half the pod at most.
    assert.ok(config.memoryLimitBytes !== undefined && config.memoryLimitBytes > 0, "MEMORY_LIMIT_BYTES is set");
    assert.ok(
      config.memoryLimitBytes <= podBytes / 2,
      `MEMORY_LIMIT_BYTES ${config.memoryLimitBytes} ≤ half of ${limit}`,
    );
    assert.ok(config.requestBufferTotalBytes <= config.memoryLimitBytes / 2, "request buffers fit well inside it");
  });

  test("runs as non-root, read-only, without capabilities", () => {
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.ok((pod?.securityContext?.runAsUser ?? 0) > 0);
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container?.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container?.securityContext?.capabilities?.drop, ["ALL"]);
    assert.ok(container?.resources?.requests?.cpu && container.resources.limits?.memory);
  });

  test("Services, budget, autoscaler and network policy point at these pods and this port", () => {
    const service = only("Service", "greeter", (d) => new Service(d as never));
    const headless = only("Service", "greeter-headless", (d) => new Service(d as never));
    for (const s of [service, headless]) {
      assert.ok(selects(s.spec?.selector), `${s.metadata?.name} selects the pods`);
      assert.equal(s.spec?.ports?.[0]?.targetPort, "grpc");
    }
    assert.equal(headless.spec?.clusterIP, "None");
    const pdb = only("PodDisruptionBudget", "greeter", (d) => new PodDisruptionBudget(d as never));
    assert.ok(selects(pdb.spec?.selector?.matchLabels));
    const hpa = only("HorizontalPodAutoscaler", "greeter", (d) => new HorizontalPodAutoscaler(d as never));
    assert.deepEqual(
      { kind: hpa.spec?.scaleTargetRef.kind, name: hpa.spec?.scaleTargetRef.name },
      { kind: "Deployment", name: "greeter" },
    );
    assert.equal(deployment.spec?.replicas, undefined, "the autoscaler owns the replica count");
    const policy = only("NetworkPolicy", "greeter", (d) => new NetworkPolicy(d as never));
    assert.ok(selects(policy.spec?.podSelector?.matchLabels));
    assert.equal(policy.spec?.ingress?.[0]?.ports?.[0]?.port, config.port);
  });

  test("the routes send gRPC services the server has, and browsers, to the Service's port", () => {
    const grpc = only("GRPCRoute", "greeter", (d) => new GRPCRoute(d as never));
    const http = only("HTTPRoute", "greeter", (d) => new HTTPRoute(d as never));
    const reflection = config.reflection === "off" ? [] : [ReflectionV1, ReflectionV1alpha];
    const served = new Set([Greeter, Health, ...reflection].map((s) => s.typeName));
    const routed = grpc.spec?.rules?.flatMap((r) => r.matches?.map((m) => m.method?.service) ?? []) ?? [];
    assert.ok(routed.includes(Greeter.typeName));
    for (const service of routed) assert.ok(served.has(service ?? ""), `${service} is not served`);
    for (const route of [grpc, http]) {
      for (const ref of route.spec?.rules?.flatMap((r) => r.backendRefs ?? []) ?? []) {
        assert.deepEqual({ name: ref.name, port: ref.port }, { name: "greeter", port: 50051 });
      }
    }
    const hosts = new Set(grpc.spec?.hostnames);
    for (const host of http.spec?.hostnames ?? []) assert.ok(!hosts.has(host), `${host} is claimed by both routes`);
  });

  test("the Dockerfile builds in two stages, runs the bundle as the pod's user, with the pinned pnpm", () => {
    const dockerfile = readFileSync(join(DEPLOY_DIR, "Dockerfile"), "utf8");
    assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, "multi-stage");
    // The image runs the Node the project pins, as `pnpm dev` and the tests do.
    const nodeVersion = readFileSync(join(DEPLOY_DIR, "../.node-version"), "utf8").trim();
    assert.match(
      dockerfile,
      new RegExp(`^ARG NODE_IMAGE=node:${nodeVersion.replaceAll(".", "\\.")}-[\\w-]*slim$`, "m"),
    );
    const packageManager = JSON.parse(readFileSync(join(DEPLOY_DIR, "../package.json"), "utf8")).packageManager;
    assert.ok(dockerfile.includes(`npm install --global --no-fund --no-audit ${packageManager}`));
    assert.match(dockerfile, /deploy\/build-bundle\.sh \/out/);
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    assert.deepEqual(
      [Number(user?.[1]), Number(user?.[2])],
      [pod?.securityContext?.runAsUser, pod?.securityContext?.runAsGroup],
    );
    assert.match(dockerfile, new RegExp(`WEB_ROOT=${env.WEB_ROOT}\\b`));
    assert.match(dockerfile, /^CMD \["node", "server\/dist\/main\.js"\]$/m);
  });
});
