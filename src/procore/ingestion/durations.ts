/** `75 minutes`, `3 hours`, `40 seconds`: how long something has been going on, for messages. */
export function describeDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes >= 120) return `${Math.floor(minutes / 60)} hours`;
  if (minutes >= 1) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `${Math.max(0, Math.round(ms / 1000))} seconds`;
}
