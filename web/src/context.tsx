// What every page of a signed-in dashboard shares: the session and its permission points, the
// workspace's projects, the member list (when the caller may read it), and the chosen project.
import { createContext, useContext } from 'react';
import type { Account, Permission, Project, Session } from './api/types';

export interface DashboardContextValue {
  session: Session;
  can: (permission: Permission) => boolean;
  projects: Project[];
  reloadProjects: () => Promise<Project[]>;
  /** Every member, or null when the caller lacks members:manage (or the list failed). */
  accounts: Account[] | null;
  reloadAccounts: () => void;
  /** A member's name, or null when unknown. */
  accountName: (accountId: string) => string | null;
  selectedProjectId: string | null;
  selectProject: (projectId: string) => void;
  /** After the caller's own password changed: the server has ended this session, so sign out. */
  passwordChanged: () => void;
  /** After the caller's own name or e-mail changed: the header follows. */
  accountChanged: (account: Account) => void;
}

export const DashboardContext = createContext<DashboardContextValue | null>(null);

export function useDashboard(): DashboardContextValue {
  const value = useContext(DashboardContext);
  if (value === null) throw new Error('useDashboard outside a signed-in dashboard');
  return value;
}

const LAST_PROJECT = 'keyward.lastProjectId';

export function rememberedProjectId(): string | null {
  try {
    return window.localStorage.getItem(LAST_PROJECT);
  } catch {
    return null;
  }
}

export function rememberProjectId(projectId: string): void {
  try {
    window.localStorage.setItem(LAST_PROJECT, projectId);
  } catch {
    // Storage can be off (private mode); the switcher still works for this visit.
  }
}
