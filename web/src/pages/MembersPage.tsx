// Members & roles (members:manage): add accounts, edit their name and e-mail, change their role,
// remove them; and change your own password.
import { useId, useState, type FormEvent } from 'react';
import { fieldOf, messageOf } from '../api/client';
import * as api from '../api/endpoints';
import { ROLES, type Account, type AccountInput, type Role } from '../api/types';
import { ChangePasswordModal } from '../components/ChangePasswordModal';
import { describedBy, Field } from '../components/Field';
import { FormFooter, Modal } from '../components/Modal';
import { Alert, EmptyState, ErrorState, Loading } from '../components/States';
import { useDashboard } from '../context';
import { formatDateTime } from '../format';
import { useLoader, useTitle } from '../hooks';

const ROLE_HELP: Record<Role, string> = {
  owner: 'Everything, including removing other owners.',
  admin: 'Everything in the workspace: every key, members, projects, audit log.',
  developer: 'Creates and manages own keys, reads logs, manages push.',
  viewer: 'Reads own keys and logs.',
};

export function MembersPage() {
  useTitle('Members & roles');
  const { can, session, reloadAccounts, accountChanged } = useDashboard();
  const members = useLoader(() => (can('members:manage') ? api.accounts.list() : Promise.resolve([])), [can]);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Account | null>(null);
  const [editing, setEditing] = useState<Account | null>(null);
  const [changingPassword, setChangingPassword] = useState(false);
  const [rowState, setRowState] = useState<Record<string, { busy?: boolean; error?: string; saved?: boolean }>>({});
  const [notice, setNotice] = useState<string | null>(null);

  if (!can('members:manage')) {
    return (
      <EmptyState title="No access to members" testId="no-access">
        <p>Managing members needs the members:manage permission (owners and admins).</p>
      </EmptyState>
    );
  }

  const changed = () => {
    members.reload();
    reloadAccounts();
  };

  const changeRole = (account: Account, role: Role) => {
    setRowState((current) => ({ ...current, [account.id]: { busy: true } }));
    api.accounts.update(account.id, { role }).then(
      (updated) => {
        setRowState((current) => ({ ...current, [account.id]: { saved: true } }));
        if (members.data !== undefined) members.setData(members.data.map((item) => (item.id === updated.id ? updated : item)));
        reloadAccounts();
      },
      (reason: unknown) => setRowState((current) => ({ ...current, [account.id]: { error: messageOf(reason) } })),
    );
  };

  // Only an owner may change another owner (the server says so too).
  const mayEdit = (account: Account) => account.id === session.account.id || account.role !== 'owner' || session.account.role === 'owner';

  const list = members.data;
  return (
    <section aria-labelledby="members-title">
      <div className="page-header">
        <div>
          <h1 id="members-title">Members &amp; roles</h1>
          <p className="muted page-subtitle">
            A key can do at most what its owner’s role allows today: changing a role changes what the member’s keys can do at once.
          </p>
          <p className="muted page-subtitle">
            To change your own password, use <strong>Change password</strong> in your row (also in the header, next to Log out).
          </p>
        </div>
        <div className="page-actions">
          <button type="button" className="button button-primary" onClick={() => setAdding(true)} data-testid="add-member-button">
            <span aria-hidden="true">+</span> Add member
          </button>
        </div>
      </div>
      {notice !== null && (
        <p className="alert alert-success" role="status" data-testid="notice">
          {notice}
        </p>
      )}

      {list === undefined ? (
        members.error !== null ? (
          <ErrorState message={members.error} onRetry={members.reload} />
        ) : (
          <Loading label="Loading members…" />
        )
      ) : list.length === 0 ? (
        <EmptyState title="No members yet" />
      ) : (
        <div className="table-wrap">
          <table className="table table-cards" data-testid="members-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((account) => {
                const self = account.id === session.account.id;
                const state = rowState[account.id] ?? {};
                return (
                  <tr key={account.id} data-testid="member-row" data-account-id={account.id}>
                    <td data-label="Name">
                      <strong>{account.name}</strong>
                      {self && <span className="tag">You</span>}
                    </td>
                    <td data-label="E-mail" className="break-all">
                      {account.email}
                    </td>
                    <td data-label="Role">
                      <div className="role-cell">
                        <select
                          value={account.role}
                          onChange={(event) => changeRole(account, event.target.value as Role)}
                          disabled={self || state.busy === true || (account.role === 'owner' && session.account.role !== 'owner')}
                          aria-label={`Role of ${account.name}`}
                          title={self ? 'You cannot change your own role' : undefined}
                          data-testid="member-role"
                        >
                          {ROLES.map((role) => (
                            <option key={role} value={role} disabled={role === 'owner' && session.account.role !== 'owner'}>
                              {role}
                            </option>
                          ))}
                        </select>
                        <span aria-live="polite" className="role-state">
                          {state.busy === true ? 'Saving…' : state.saved === true ? 'Saved' : ''}
                        </span>
                      </div>
                      {state.error !== undefined && (
                        <p className="field-error" role="alert" data-testid="member-error">
                          {state.error}
                        </p>
                      )}
                    </td>
                    <td data-label="Added">{formatDateTime(account.createdAt)}</td>
                    <td className="cell-actions">
                      <div className="row-actions">
                        {mayEdit(account) && (
                          <button
                            type="button"
                            className="button button-small button-secondary"
                            onClick={() => setEditing(account)}
                            aria-label={`Edit ${account.name}`}
                            data-testid="edit-member"
                          >
                            Edit
                          </button>
                        )}
                        {self ? (
                          <button
                            type="button"
                            className="button button-small button-secondary"
                            onClick={() => setChangingPassword(true)}
                            data-testid="member-change-password"
                          >
                            Change password
                          </button>
                        ) : (
                          <button
                            type="button"
                            className="button button-small button-danger-ghost"
                            onClick={() => setRemoving(account)}
                            aria-label={`Remove ${account.name}`}
                            data-testid="remove-member"
                          >
                            Remove
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <dl className="role-help" aria-label="What each role may do">
        {ROLES.map((role) => (
          <div key={role}>
            <dt>{role}</dt>
            <dd>{ROLE_HELP[role]}</dd>
          </div>
        ))}
      </dl>

      {adding && (
        <AddMemberModal
          mayAddOwner={session.account.role === 'owner'}
          onClose={() => setAdding(false)}
          onAdded={(account) => {
            setAdding(false);
            setNotice(`Added ${account.name} as ${account.role}.`);
            changed();
          }}
        />
      )}
      {editing !== null && (
        <EditMemberModal
          account={editing}
          onClose={() => setEditing(null)}
          onSaved={(updated) => {
            setEditing(null);
            setNotice(`Saved ${updated.name}.`);
            if (members.data !== undefined) members.setData(members.data.map((item) => (item.id === updated.id ? updated : item)));
            reloadAccounts();
            if (updated.id === session.account.id) accountChanged(updated);
          }}
        />
      )}
      {changingPassword && <ChangePasswordModal onClose={() => setChangingPassword(false)} />}
      {removing !== null && (
        <RemoveMemberModal
          account={removing}
          onClose={() => setRemoving(null)}
          onRemoved={() => {
            setNotice(`Removed ${removing.name}.`);
            setRemoving(null);
            changed();
          }}
        />
      )}
    </section>
  );
}

type MemberField = 'email' | 'name' | 'role' | 'password';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Where a rejected member change belongs: the field the server named, else a duplicate e-mail by its wording. */
function memberErrorField(reason: unknown): MemberField | undefined {
  const field = fieldOf(reason);
  if (field === 'email' || field === 'name' || field === 'role' || field === 'password') return field;
  const message = messageOf(reason).toLowerCase();
  if (message.includes('e-mail') || message.includes('email')) return 'email';
  return undefined;
}

function AddMemberModal({ mayAddOwner, onClose, onAdded }: { mayAddOwner: boolean; onClose: () => void; onAdded: (account: Account) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<MemberField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const formId = useId();
  const id = (field: MemberField) => `${formId}-${field}`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Partial<Record<MemberField, string>> = {};
    if (!EMAIL_PATTERN.test(email.trim())) found.email = 'Enter a valid e-mail address.';
    if (name.trim() === '') found.name = 'Enter the member’s name.';
    else if (name.trim().length > 200) found.name = 'At most 200 characters.';
    if (password !== '' && (password.length < 10 || password.length > 200)) found.password = 'The password needs 10 to 200 characters.';
    setErrors(found);
    setFormError(null);
    const first = Object.keys(found)[0] as MemberField | undefined;
    if (first !== undefined) {
      document.getElementById(id(first))?.focus();
      return;
    }
    setBusy(true);
    api.accounts.create({ email: email.trim(), name: name.trim(), role, ...(password !== '' ? { password } : {}) }).then(
      (account) => {
        setBusy(false);
        onAdded(account);
      },
      (reason: unknown) => {
        setBusy(false);
        const field = memberErrorField(reason);
        if (field !== undefined) setErrors({ [field]: messageOf(reason) });
        else setFormError(messageOf(reason));
      },
    );
  };

  return (
    <Modal
      title="Add member"
      onClose={onClose}
      busy={busy}
      testId="add-member-dialog"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} label="Add member" busyLabel="Adding…" testId="add-member-submit" />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <Field id={id('email')} name="email" label="E-mail" error={errors.email}>
          <input
            id={id('email')}
            type="email"
            autoComplete="off"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            data-testid="member-email"
            {...describedBy(id('email'), errors.email)}
          />
        </Field>
        <Field id={id('name')} name="name" label="Name" error={errors.name}>
          <input id={id('name')} value={name} onChange={(event) => setName(event.target.value)} data-testid="member-name" {...describedBy(id('name'), errors.name)} />
        </Field>
        <Field id={id('role')} name="role" label="Role" error={errors.role} hint={ROLE_HELP[role]}>
          <select id={id('role')} value={role} onChange={(event) => setRole(event.target.value as Role)} data-testid="member-role-select" {...describedBy(id('role'), errors.role, true)}>
            {ROLES.filter((candidate) => candidate !== 'owner' || mayAddOwner).map((candidate) => (
              <option key={candidate} value={candidate}>
                {candidate}
              </option>
            ))}
          </select>
        </Field>
        <Field id={id('password')} name="password" label="Password" optional error={errors.password} hint="For signing in to this dashboard; at least 10 characters. Without one, the member can use only API keys.">
          <input
            id={id('password')}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            data-testid="member-password"
            {...describedBy(id('password'), errors.password, true)}
          />
        </Field>
        {formError !== null && <Alert testId="form-error">{formError}</Alert>}
      </form>
    </Modal>
  );
}

function EditMemberModal({ account, onClose, onSaved }: { account: Account; onClose: () => void; onSaved: (account: Account) => void }) {
  const [email, setEmail] = useState(account.email);
  const [name, setName] = useState(account.name);
  const [errors, setErrors] = useState<Partial<Record<MemberField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const formId = useId();
  const id = (field: MemberField) => `${formId}-${field}`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const found: Partial<Record<MemberField, string>> = {};
    if (!EMAIL_PATTERN.test(email.trim())) found.email = 'Enter a valid e-mail address.';
    if (name.trim() === '') found.name = 'Enter the member’s name.';
    else if (name.trim().length > 200) found.name = 'At most 200 characters.';
    setErrors(found);
    setFormError(null);
    const first = Object.keys(found)[0] as MemberField | undefined;
    if (first !== undefined) {
      document.getElementById(id(first))?.focus();
      return;
    }
    // Send only what changed: an unchanged e-mail must not be checked against itself.
    const patch: AccountInput = {};
    if (name.trim() !== account.name) patch.name = name.trim();
    if (email.trim().toLowerCase() !== account.email.toLowerCase()) patch.email = email.trim();
    if (Object.keys(patch).length === 0) {
      onSaved(account);
      return;
    }
    setBusy(true);
    api.accounts.update(account.id, patch).then(
      (updated) => {
        setBusy(false);
        onSaved(updated);
      },
      (reason: unknown) => {
        setBusy(false);
        const field = memberErrorField(reason);
        if (field === 'email' || field === 'name') {
          setErrors({ [field]: messageOf(reason) });
          document.getElementById(id(field))?.focus();
        } else setFormError(messageOf(reason));
      },
    );
  };

  return (
    <Modal
      title={`Edit ${account.name}`}
      onClose={onClose}
      busy={busy}
      testId="edit-member-dialog"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} label="Save changes" busyLabel="Saving…" testId="edit-member-submit" />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <Field id={id('name')} name="name" label="Name" error={errors.name}>
          <input
            id={id('name')}
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              setErrors((current) => ({ ...current, name: undefined }));
            }}
            data-testid="edit-member-name"
            {...describedBy(id('name'), errors.name)}
          />
        </Field>
        <Field id={id('email')} name="email" label="E-mail" error={errors.email} hint="The address this member signs in with.">
          <input
            id={id('email')}
            type="email"
            autoComplete="off"
            value={email}
            onChange={(event) => {
              setEmail(event.target.value);
              setErrors((current) => ({ ...current, email: undefined }));
            }}
            data-testid="edit-member-email"
            {...describedBy(id('email'), errors.email, true)}
          />
        </Field>
        {formError !== null && <Alert testId="form-error">{formError}</Alert>}
      </form>
    </Modal>
  );
}

function RemoveMemberModal({ account, onClose, onRemoved }: { account: Account; onClose: () => void; onRemoved: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = () => {
    setBusy(true);
    setError(null);
    api.accounts.remove(account.id).then(
      () => {
        setBusy(false);
        onRemoved();
      },
      (reason: unknown) => {
        setBusy(false);
        setError(messageOf(reason));
      },
    );
  };
  return (
    <Modal
      title={`Remove ${account.name}?`}
      onClose={onClose}
      busy={busy}
      size="small"
      testId="remove-member-dialog"
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy} data-autofocus>
            Cancel
          </button>
          <button type="button" className="button button-danger" onClick={remove} disabled={busy} data-testid="remove-member-confirm">
            {busy ? 'Removing…' : 'Remove member'}
          </button>
        </>
      }
    >
      <p>
        <strong>{account.name}</strong> ({account.email}) loses access to this workspace, and <strong>every API key they hold is deleted</strong>.
      </p>
      {error !== null && <Alert testId="remove-member-error">{error}</Alert>}
    </Modal>
  );
}
