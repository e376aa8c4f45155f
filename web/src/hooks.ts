// Small state helpers shared by the pages: loading a resource with reload and cancellation, and
// debouncing a value (the key search).
import { useCallback, useEffect, useRef, useState } from 'react';
import { isAbort, messageOf } from './api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
  /** Replaces the data in place (after a change whose reply already has the new value). */
  setData: (data: T) => void;
}

/** Runs `load` now and whenever a value in `deps` changes; a newer load cancels an older one.
 * The previous data stays while the next load runs, so paging does not flash an empty table. */
export function useLoader<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setLoading(false);
      },
      (reason: unknown) => {
        if (controller.signal.aborted || isAbort(reason)) return;
        setError(messageOf(reason));
        setLoading(false);
      },
    );
    return () => controller.abort();
    // The caller names the dependencies (`load` is read through a ref, so it may be a new closure each render).
  }, [...deps, version]);

  const reload = useCallback(() => setVersion((value) => value + 1), []);
  return { data, error, loading, reload, setData };
}

export function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/** Sets the document title for the page shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title === '' ? 'Keyward' : `${title} · Keyward`;
  }, [title]);
}
