// Everything a request needs, built from one Config. A reload builds a new state and swaps it in;
// requests already running keep the state they started with.
import type { Config } from '../config/types.js';
import { Router, type RoutingExtensions } from '../routing/router.js';
import { ClientAuth } from './client-auth.js';

export interface GatewayState {
  config: Config;
  router: Router;
  auth: ClientAuth;
  loadedAt: Date;
}

export function buildState(config: Config, extensions: RoutingExtensions = {}): GatewayState {
  return {
    config,
    router: new Router(config, extensions),
    auth: new ClientAuth(config.clientKeys, config.adminKeys),
    loadedAt: new Date(),
  };
}
