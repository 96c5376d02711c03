/**
 * A contract call made from inside the app's page, as its screens make them (fetch to
 * /api/<method> with the tab's token), timed in the page: what a screen waits for.
 */
import type { Page } from 'playwright-core';

export interface PageCall<T> {
  ms: number;
  result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
}

export async function callFromPage<T>(
  page: Page,
  method: string,
  input: unknown,
): Promise<PageCall<T>> {
  return page.evaluate(
    async ([m, i]) => {
      const token = sessionStorage.getItem('firebackup.token');
      const started = performance.now();
      const response = await fetch(`/api/${m}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(i),
      });
      const result = await response.json();
      return { ms: performance.now() - started, result };
    },
    [method, input] as const,
  ) as Promise<PageCall<T>>;
}
