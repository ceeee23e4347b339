import type { DownloadProgress } from '../models/download.ts';

/** A one-line progress bar for model downloads, redrawn in place on a terminal. */
export function progressLine(progress: DownloadProgress): string {
  const mb = (bytes: number) => (bytes / 1_048_576).toFixed(1);
  if (!progress.total) return `downloading ${progress.file}: ${mb(progress.loaded)} MB`;
  const ratio = Math.min(progress.loaded / progress.total, 1);
  const width = 30;
  const filled = Math.round(ratio * width);
  return `downloading ${progress.file} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${mb(progress.loaded)}/${mb(progress.total)} MB`;
}
