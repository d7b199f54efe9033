/** Where to go after sign-in: only a console page of this site, never another host. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 1000) return '/console/budgets';
  if (!/^\/console(\/|\?|$)/.test(next) || next.includes('\\') || next.startsWith('//') || /[\r\n]/.test(next)) return '/console/budgets';
  if (next.startsWith('/console/sign-in') || next.startsWith('/console/auth/')) return '/console/budgets';
  return next;
}

export function signInPath(next?: string, reason?: 'ended' | 'signed-out'): string {
  const params = new URLSearchParams();
  const target = safeNext(next);
  if (target !== '/console/budgets') params.set('next', target);
  if (reason) params.set('reason', reason);
  const query = params.toString();
  return `/console/sign-in${query ? `?${query}` : ''}`;
}
