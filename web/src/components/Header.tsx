// The top bar: brand, project switcher, the pages the caller may open, and the account with
// "Change password" and "Log out". Below 900px the page links fold into a menu button.
import { useEffect, useId, useState } from 'react';
import { useDashboard } from '../context';
import { Link, navigate, paths, usePath, type Route } from '../router';
import { ChangePasswordModal } from './ChangePasswordModal';

export function Header({ onLogout, route }: { onLogout: () => void; route: Route }) {
  const { session, can, projects, selectedProjectId } = useDashboard();
  const [menuOpen, setMenuOpen] = useState(false);
  const [changingPassword, setChangingPassword] = useState(false);
  const menuId = useId();
  const switcherId = useId();

  // A page change closes the phone menu.
  const path = usePath();
  useEffect(() => setMenuOpen(false), [path]);

  const switchProject = (projectId: string) => {
    navigate(route.page === 'project-settings' ? paths.projectSettings(projectId) : paths.keys(projectId));
  };

  const links: { to: string; label: string; current: boolean; testId: string }[] = [];
  if (selectedProjectId !== null) {
    links.push({ to: paths.keys(selectedProjectId), label: 'API Keys', current: route.page === 'keys' || route.page === 'key', testId: 'nav-keys' });
  }
  if (can('members:manage')) links.push({ to: paths.members(), label: 'Members & roles', current: route.page === 'members', testId: 'nav-members' });
  if (can('audit:read')) links.push({ to: paths.audit(), label: 'Audit log', current: route.page === 'audit', testId: 'nav-audit' });
  if (can('projects:manage') && selectedProjectId !== null) {
    links.push({
      to: paths.projectSettings(selectedProjectId),
      label: 'Project settings',
      current: route.page === 'project-settings',
      testId: 'nav-project-settings',
    });
  }

  return (
    <header className="app-header">
      <div className="app-header-inner">
        <Link to="/" className="brand" aria-label={`Keyward, ${session.workspace.name}`}>
          <svg aria-hidden="true" viewBox="0 0 32 32" width="28" height="28">
            <rect width="32" height="32" rx="7" fill="var(--accent)" />
            <circle cx="12" cy="16" r="5" fill="none" stroke="#fff" strokeWidth="2.5" />
            <path d="M17 16h9m-3 0v4" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" />
          </svg>
          <span className="brand-text">
            <span className="brand-name">Keyward</span>
            <span className="brand-workspace">{session.workspace.name}</span>
          </span>
        </Link>

        {projects.length > 0 && (
          <div className="project-switcher">
            <label htmlFor={switcherId} className="project-switcher-label">
              Project
            </label>
            <select
              id={switcherId}
              value={selectedProjectId ?? ''}
              onChange={(event) => switchProject(event.target.value)}
              data-testid="project-switcher"
            >
              {projects.map((project) => (
                <option key={project.id} value={project.id}>
                  {project.name}
                </option>
              ))}
            </select>
          </div>
        )}

        <button
          type="button"
          className="menu-button icon-button"
          aria-expanded={menuOpen}
          aria-controls={menuId}
          onClick={() => setMenuOpen((open) => !open)}
          data-testid="menu-button"
        >
          <svg aria-hidden="true" viewBox="0 0 20 20" width="20" height="20">
            {menuOpen ? (
              <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
            ) : (
              <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
            )}
          </svg>
          <span className="visually-hidden">Menu</span>
        </button>

        <div id={menuId} className={`header-menu${menuOpen ? ' header-menu-open' : ''}`}>
          <nav aria-label="Main" className="main-nav">
            <ul>
              {links.map((link) => (
                <li key={link.testId}>
                  <Link to={link.to} aria-current={link.current ? 'page' : undefined} data-testid={link.testId}>
                    {link.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="account-box">
            <span className="account-who" data-testid="current-account">
              <span className="account-name">{session.account.name}</span>
              <span className="account-role">{session.account.role}</span>
            </span>
            <div className="account-actions">
              <button type="button" className="button button-ghost button-small" onClick={() => setChangingPassword(true)} data-testid="change-password-button">
                Change password
              </button>
              <button type="button" className="button button-secondary button-small" onClick={onLogout} data-testid="logout">
                Log out
              </button>
            </div>
          </div>
        </div>
      </div>
      {changingPassword && <ChangePasswordModal onClose={() => setChangingPassword(false)} />}
    </header>
  );
}
