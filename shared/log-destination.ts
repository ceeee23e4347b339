/**
 * Where the process's log lines go. On Lambda they go where Powertools writes them (stdout, which
 * Lambda ships to CloudWatch); a CLI command's stdout is its result alone, so the CLI entries (and
 * with them the local stack) send logs to stderr. Set by the entry point before the logger loads;
 * kept apart from logger.ts so setting it costs no Powertools import at start-up.
 */
let destination: 'stdout' | 'stderr' = 'stdout';

export function sendLogsToStderr(): void {
  destination = 'stderr';
}

export function logDestination(): 'stdout' | 'stderr' {
  return destination;
}
