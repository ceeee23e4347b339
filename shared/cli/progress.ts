import type { DownloadProgress } from '../models/download.ts';

/**
 * A fixed-width bar and percentage for a ratio in [0, 1]. Pure.
 * @example progressBar(0.5, 10) // '[#####.....]  50%'
 */
export function progressBar(ratio: number, width = 30): string {
  const clamped = Math.min(Math.max(ratio, 0), 1);
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(clamped * 100).toFixed(0).padStart(3)}%`;
}

/** A one-line progress bar for model downloads, redrawn in place on a terminal. */
export function progressLine(progress: DownloadProgress): string {
  const mb = (bytes: number) => (bytes / 1_048_576).toFixed(1);
  if (!progress.total) return `downloading ${progress.file}: ${mb(progress.loaded)} MB`;
  return `downloading ${progress.file} ${progressBar(progress.loaded / progress.total)} ${mb(progress.loaded)}/${mb(progress.total)} MB`;
}
