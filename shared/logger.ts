import { Console } from 'node:console';
import { Logger } from '@aws-lambda-powertools/logger';
import { logDestination } from './log-destination.ts';

/** The one logger of the process; Powertools reads POWERTOOLS_LOG_LEVEL and friends itself. */
export const logger = new Logger({ serviceName: 'serverless-vectorizer' });

if (logDestination() === 'stderr') {
  // Powertools has no option for its stream; it prints through its `console` (a Console on
  // process.stdout/stderr), which is replaced by one whose every method writes to stderr.
  (logger as unknown as { console: Console }).console = new Console({ stdout: process.stderr, stderr: process.stderr });
}
