import { Server } from 'node:net';
import { startFauxqs } from 'fauxqs';

export type FauxqsOptions = NonNullable<Parameters<typeof startFauxqs>[0]>;
export type Fauxqs = Awaited<ReturnType<typeof startFauxqs>>;

/** The address the emulator listens on unless told otherwise: this machine only. */
export const LOOPBACK = '127.0.0.1';

/**
 * fauxqs listening on `bindHost` only. fauxqs (2.4) always listens on 0.0.0.0 (its `host` option
 * only names queue URLs), which would open an unauthenticated S3 and SQS to the network; while it
 * starts, its listen call is given this host instead. `0.0.0.0` exposes it on purpose.
 */
export async function startFauxqsOn(bindHost: string, options: FauxqsOptions): Promise<Fauxqs> {
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const [first] = args;
    if (typeof first === 'object' && first !== null && (first as { host?: string }).host === '0.0.0.0') {
      args[0] = { ...(first as object), host: bindHost };
    }
    return (listen as (...rest: unknown[]) => Server).apply(this, args);
  } as typeof Server.prototype.listen;
  try {
    return await startFauxqs({ ...options, host: bindHost === '0.0.0.0' ? LOOPBACK : bindHost });
  } finally {
    Server.prototype.listen = listen;
  }
}
