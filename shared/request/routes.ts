/**
 * Which API an HTTP event speaks, by its path: this project's request schema, or the OpenAI and
 * TEI (Hugging Face Text Embeddings Inference) routes their clients call. Pure.
 */

/** The routes besides this project's own schema (served at any other path, `/` included). */
export const ROUTES = {
  openaiEmbeddings: { api: 'openai', method: 'POST', paths: ['/v1/embeddings', '/embeddings'] },
  openaiModels: { api: 'openai', method: 'GET', paths: ['/v1/models'] },
  teiEmbed: { api: 'tei', method: 'POST', paths: ['/embed'] },
  teiEmbedSparse: { api: 'tei', method: 'POST', paths: ['/embed_sparse'] },
  teiRerank: { api: 'tei', method: 'POST', paths: ['/rerank'] },
  teiInfo: { api: 'tei', method: 'GET', paths: ['/info'] },
  // Public, as TEI's is: a load balancer's health check has no key.
  health: { api: 'own', method: 'GET', paths: ['/health'] },
} as const;

/** The API whose request and error shapes a route speaks. */
export function apiOf(route: RouteName): 'openai' | 'tei' | 'own' {
  return route === 'invoke' ? 'own' : ROUTES[route].api;
}

export type RouteName = keyof typeof ROUTES | 'invoke';

/** What a route answers: a status, a JSON body and extra headers. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Where each kind of model is served, for errors that send a caller to the right route. */
export const ROUTE_FOR_KIND = {
  text: 'POST /v1/embeddings (OpenAI) or /embed (TEI)',
  sparse: 'POST /embed_sparse (TEI)',
  rerank: 'POST /rerank (TEI)',
  image: 'the invoke schema, {"images": [{"base64": "..."}]}',
} as const;

/** The parts of an HTTP event that locate it (API Gateway v1/v2, Function URL). */
export interface EventLocation {
  rawPath?: string;
  path?: string;
  requestContext?: { stage?: unknown };
}

/**
 * The event's path without the API's stage: a Function URL or HTTP API `$default` stage has none;
 * a named HTTP API stage keeps it in `rawPath` (`/prod/v1/embeddings`); REST's `path` drops it.
 */
export function pathOf(event: EventLocation): string {
  const path = event.rawPath ?? event.path ?? '/';
  const stage = event.requestContext?.stage;
  if (typeof stage === 'string' && stage !== '$default' && event.rawPath !== undefined && path.startsWith(`/${stage}/`)) {
    return path.slice(stage.length + 1);
  }
  return path;
}

/**
 * The route a path ends with, so that a custom domain's base path (`/vectorizer/v1/embeddings`)
 * reaches it too; any other path is this project's own schema.
 * @example routeOf('/prod/embed') // 'teiEmbed'
 */
export function routeOf(path: string): RouteName {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  for (const [name, route] of Object.entries(ROUTES)) {
    if (route.paths.some((suffix) => trimmed === suffix || trimmed.endsWith(suffix))) return name as RouteName;
  }
  return 'invoke';
}
