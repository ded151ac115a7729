import type Router from '@koa/router';
import { consoleKit, type ConsoleDeps } from './console.js';
import { cooperationRoutes } from './cooperation.js';
import { overviewRoutes } from './overview.js';
import { portalRoutes } from './portal.js';
import { signInRoutes } from './sign-in.js';
import { userRoutes } from './users.js';

/** The admin console at /admin/{tenant} (docs/architecture.md § Layers): thin routes over the admin use cases of /manage/v1. */
export function adminConsoleRouters(deps: ConsoleDeps): Router[] {
  const kit = consoleKit(deps);
  return [signInRoutes(deps, kit), userRoutes(kit, deps), portalRoutes(kit, deps), cooperationRoutes(kit, deps), overviewRoutes(kit, deps)];
}
