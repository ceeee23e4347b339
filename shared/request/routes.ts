/**
 * Which API an HTTP event speaks, by its path: this project's request schema, or the OpenAI and
 * TEI (Hugging Face Text Embeddings Inference) routes their clients call. Pure.
 */

/** The routes besides this project's own schema (served at any other path, `/` included). */
export const ROUTES = {
  openaiEmbeddings: { method: 'POST', paths: ['/v1/embeddings', '/embeddings'] },
  openaiModels: { method: 'GET', paths: ['/v1/models'] },
  teiEmbed: { method: 'POST', paths: ['/embed'] },
  teiEmbedSparse: { method: 'POST', paths: ['/embed_sparse'] },
  teiRerank: { method: 'POST', paths: ['/rerank'] },
  teiInfo: { method: 'GET', paths: ['/info'] },
  health: { method: 'GET', paths: ['/health'] },
} as const;

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
