// Client-side routing on the History API: the path is the state, `navigate` pushes a new one and
// every `usePath` re-renders. The server answers any dashboard path with index.html.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

const NAVIGATED = 'keyward:navigated';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

const currentPath = () => window.location.pathname;

export function usePath(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (options.replace === true) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(NAVIGATED));
}

export type Route =
  | { page: 'home' }
  | { page: 'keys'; projectId: string }
  | { page: 'key'; keyId: string }
  | { page: 'members' }
  | { page: 'audit' }
  | { page: 'project-settings'; projectId: string }
  | { page: 'not-found' };

export function matchRoute(path: string): Route {
  const parts = path.split('/').filter((part) => part !== '').map(decodeURIComponent);
  const [first, second, third] = parts;
  if (parts.length === 0) return { page: 'home' };
  if (first === 'projects' && second !== undefined && third === 'keys' && parts.length === 3) return { page: 'keys', projectId: second };
  if (first === 'projects' && second !== undefined && third === 'settings' && parts.length === 3) {
    return { page: 'project-settings', projectId: second };
  }
  if (first === 'keys' && second !== undefined && parts.length === 2) return { page: 'key', keyId: second };
  if (first === 'members' && parts.length === 1) return { page: 'members' };
  if (first === 'audit' && parts.length === 1) return { page: 'audit' };
  return { page: 'not-found' };
}

export const paths = {
  keys: (projectId: string) => `/projects/${encodeURIComponent(projectId)}/keys`,
  key: (keyId: string) => `/keys/${encodeURIComponent(keyId)}`,
  projectSettings: (projectId: string) => `/projects/${encodeURIComponent(projectId)}/settings`,
  members: () => '/members',
  audit: () => '/audit',
};

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; children: ReactNode };

/** An ordinary link (open in new tab, copy address all work) that navigates in place on a plain click. */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={handleClick} {...rest}>
      {children}
    </a>
  );
}
