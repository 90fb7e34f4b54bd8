export { connectNodeCallInfo } from "./connect-node/call-info.js";
export {
  type ConnectServer,
  type ConnectServerOptions,
  type ConnectServerRouterOptions,
  createConnectServer,
  type RefusedCall,
} from "./connect-server.js";
