export { Health } from "@greeter/proto/health/v1/health_pb.js";
export {
  createHealthService,
  type HealthService,
  type HealthServiceOptions,
  OVERALL_SERVICE,
  ServingStatus,
} from "./health-service.js";
