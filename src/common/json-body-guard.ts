import type { NextFunction, Request, Response } from 'express';

/** Deeper than any body of the API; a deeper one is an attack on the validators' recursion. */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses, with a 400, JSON bodies that PostgreSQL or the validators cannot take: text holding a
 * NUL character (PostgreSQL rejects it in text and jsonb) and nesting deeper than MAX_JSON_DEPTH.
 */
export function jsonBodyGuard(request: Request, response: Response, next: NextFunction): void {
  const problem = inspect(request.body, 0);
  if (!problem) return next();
  response.status(400).json({ statusCode: 400, error: 'Bad Request', message: problem });
}

function inspect(value: unknown, depth: number): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? 'The request body contains a NUL character (\\u0000), which text cannot hold' : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_JSON_DEPTH) return `The request body is nested deeper than ${MAX_JSON_DEPTH} levels`;
  const entries = Array.isArray(value) ? value.map((item) => ['', item] as const) : Object.entries(value);
  for (const [key, item] of entries) {
    const problem = inspect(key, depth + 1) ?? inspect(item, depth + 1);
    if (problem) return problem;
  }
  return null;
}
