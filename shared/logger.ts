import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of the process; Powertools reads POWERTOOLS_LOG_LEVEL and friends itself. */
export const logger = new Logger({ serviceName: 'serverless-vectorizer' });
