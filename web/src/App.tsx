// The dashboard's top level: find out whether a session exists, show the login page or the
// signed-in shell, and pick the page for the current path.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, messageOf, onSessionEnded, setCsrfToken } from './api/client';
import * as api from './api/endpoints';
import type { Account, Permission, Session } from './api/types';
import { Header } from './components/Header';
import { EmptyState, ErrorState, Loading } from './components/States';
import { DashboardContext, rememberedProjectId, rememberProjectId, useDashboard, type DashboardContextValue } from './context';
import { useLoader } from './hooks';
import { AuditPage } from './pages/AuditPage';
import { KeyDetailPage } from './pages/KeyDetailPage';
import { KeysPage } from './pages/KeysPage';
import { LoginPage } from './pages/LoginPage';
import { MembersPage } from './pages/MembersPage';
import { NewProjectButton, ProjectSettingsPage } from './pages/ProjectSettingsPage';
import { Link, matchRoute, navigate, paths, usePath } from './router';

type AuthState =
  | { state: 'checking' }
  | { state: 'unreachable'; message: string }
  | { state: 'signed-out'; sessionEnded: boolean; passwordChangedFor?: string }
  | { state: 'signed-in'; session: Session };

export function App() {
  const [auth, setAuth] = useState<AuthState>({ state: 'checking' });

  const signedIn = useCallback((session: Session) => {
    setCsrfToken(session.csrfToken);
    setAuth({ state: 'signed-in', session });
  }, []);

  const check = useCallback(() => {
    setAuth({ state: 'checking' });
    api.auth.session().then(signedIn, (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) setAuth({ state: 'signed-out', sessionEnded: false });
      else setAuth({ state: 'unreachable', message: messageOf(error) });
    });
  }, [signedIn]);

  useEffect(() => {
    onSessionEnded(() => {
      setCsrfToken(null);
      setAuth((current) => (current.state === 'signed-in' ? { state: 'signed-out', sessionEnded: true } : current));
    });
    check();
  }, [check]);

  // The server ends every session of an account whose password changes, this one included.
  const passwordChanged = useCallback((email: string) => {
    setCsrfToken(null);
    setAuth({ state: 'signed-out', sessionEnded: false, passwordChangedFor: email });
  }, []);

  const accountChanged = useCallback((account: Account) => {
    setAuth((current) =>
      current.state === 'signed-in' && current.session.account.id === account.id
        ? { state: 'signed-in', session: { ...current.session, account: { ...current.session.account, name: account.name, email: account.email } } }
        : current,
    );
  }, []);

  const logout = useCallback(() => {
    api.auth.logout().then(
      () => undefined,
      () => undefined, // Signed out either way: the cookie is cleared or was already invalid.
    );
    setCsrfToken(null);
    setAuth({ state: 'signed-out', sessionEnded: false });
  }, []);

  switch (auth.state) {
    case 'checking':
      return (
        <main className="page-center">
          <Loading label="Loading Keyward…" />
        </main>
      );
    case 'unreachable':
      return (
        <main className="page-center">
          <ErrorState message={auth.message} onRetry={check} />
        </main>
      );
    case 'signed-out':
      return <LoginPage sessionEnded={auth.sessionEnded} passwordChangedFor={auth.passwordChangedFor} onLoggedIn={signedIn} />;
    case 'signed-in':
      return (
        <Dashboard
          key={auth.session.account.id}
          session={auth.session}
          onLogout={logout}
          onPasswordChanged={passwordChanged}
          onAccountChanged={accountChanged}
        />
      );
  }
}

interface DashboardProps {
  session: Session;
  onLogout: () => void;
  onPasswordChanged: (email: string) => void;
  onAccountChanged: (account: Account) => void;
}

function Dashboard({ session, onLogout, onPasswordChanged, onAccountChanged }: DashboardProps) {
  const path = usePath();
  const route = matchRoute(path);
  const permissions = useMemo(() => new Set(session.permissions), [session.permissions]);
  const can = useCallback((permission: Permission) => permissions.has(permission), [permissions]);

  const projectsLoad = useLoader(() => api.projects.list(), []);
  const projects = projectsLoad.data;
  const setProjects = projectsLoad.setData;
  const reloadProjects = useCallback(async () => {
    const list = await api.projects.list();
    setProjects(list);
    return list;
  }, [setProjects]);

  const mayListAccounts = can('members:manage');
  const accountsLoad = useLoader(async (): Promise<Account[] | null> => (mayListAccounts ? api.accounts.list() : null), [mayListAccounts]);
  const accounts = accountsLoad.data ?? null;
  const accountName = useCallback(
    (accountId: string) => {
      if (accountId === session.account.id) return session.account.name;
      return accounts?.find((account) => account.id === accountId)?.name ?? null;
    },
    [accounts, session.account],
  );

  const [chosenProjectId, setChosenProjectId] = useState<string | null>(rememberedProjectId);
  const routeProjectId = route.page === 'keys' || route.page === 'project-settings' ? route.projectId : null;
  const selectProject = useCallback((projectId: string) => {
    setChosenProjectId(projectId);
    rememberProjectId(projectId);
  }, []);
  useEffect(() => {
    if (routeProjectId !== null) selectProject(routeProjectId);
  }, [routeProjectId, selectProject]);

  const known = (id: string | null): id is string => id !== null && projects?.some((project) => project.id === id) === true;
  const selectedProjectId = known(routeProjectId) ? routeProjectId : known(chosenProjectId) ? chosenProjectId : (projects?.[0]?.id ?? null);

  // `/` opens the keys of the last project used.
  useEffect(() => {
    if (route.page === 'home' && selectedProjectId !== null) navigate(paths.keys(selectedProjectId), { replace: true });
  }, [route.page, selectedProjectId]);

  const context: DashboardContextValue = {
    session,
    can,
    projects: projects ?? [],
    reloadProjects,
    accounts,
    reloadAccounts: accountsLoad.reload,
    accountName,
    selectedProjectId,
    selectProject,
    passwordChanged: () => onPasswordChanged(session.account.email),
    accountChanged: onAccountChanged,
  };

  let content;
  if (projects === undefined) {
    content = projectsLoad.error !== null ? <ErrorState message={projectsLoad.error} onRetry={projectsLoad.reload} /> : <Loading />;
  } else {
    content = <RoutePage route={route} hasProjects={projects.length > 0} />;
  }

  return (
    <DashboardContext.Provider value={context}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header onLogout={onLogout} route={route} />
      <main id="main" className="page" tabIndex={-1}>
        {content}
      </main>
    </DashboardContext.Provider>
  );
}

function RoutePage({ route, hasProjects }: { route: ReturnType<typeof matchRoute>; hasProjects: boolean }) {
  switch (route.page) {
    case 'home':
      return hasProjects ? <Loading /> : <NoProjects />;
    case 'keys':
      return <KeysPage key={route.projectId} projectId={route.projectId} />;
    case 'key':
      return <KeyDetailPage key={route.keyId} keyId={route.keyId} />;
    case 'members':
      return <MembersPage />;
    case 'audit':
      return <AuditPage />;
    case 'project-settings':
      return <ProjectSettingsPage key={route.projectId} projectId={route.projectId} />;
    case 'not-found':
      return <NotFound />;
  }
}

function NoProjects() {
  const { can } = useDashboard();
  return (
    <EmptyState title="No projects yet">
      {can('projects:manage') ? (
        <>
          <p>Keys live in projects. Create the first one to start issuing keys.</p>
          <NewProjectButton />
        </>
      ) : (
        <p>Ask an owner or admin of this workspace to create a project.</p>
      )}
    </EmptyState>
  );
}

function NotFound() {
  return (
    <EmptyState title="Page not found" testId="not-found">
      <p>
        <Link to="/">Go to your API keys</Link>
      </p>
    </EmptyState>
  );
}
