// Project settings (projects:manage): name, scopes, key prefix, the per-account key limit and
// recoverable keys; "New project"; and deleting the project (with its keys, confirmed twice).
import { useEffect, useId, useState, type FormEvent } from 'react';
import { fieldOf, messageOf } from '../api/client';
import * as api from '../api/endpoints';
import { ADMIN_SCOPE, PREFIX_PATTERN, SCOPE_PATTERN, type Project, type ProjectInput } from '../api/types';
import { describedBy, Field, FieldSet } from '../components/Field';
import { FormFooter, Modal } from '../components/Modal';
import { Alert, EmptyState } from '../components/States';
import { useDashboard } from '../context';
import { formatDateTime, plural } from '../format';
import { useTitle } from '../hooks';
import { navigate, paths } from '../router';

type ProjectField = 'name' | 'scopes' | 'prefix' | 'maxKeysPerAccount' | 'recoverable';
type Errors = Partial<Record<ProjectField, string>>;

interface ProjectFormState {
  name: string;
  scopes: string[];
  prefix: string;
  maxKeysPerAccount: string;
  recoverable: boolean;
}

function stateOf(project: Project | undefined): ProjectFormState {
  return {
    name: project?.name ?? '',
    scopes: project?.scopes ?? ['project', 'inference', 'data_extraction'],
    prefix: project?.prefix ?? 'kw',
    maxKeysPerAccount: String(project?.maxKeysPerAccount ?? 10),
    recoverable: project?.recoverable ?? false,
  };
}

function validate(form: ProjectFormState): { errors: Errors; input?: Required<ProjectInput> } {
  const errors: Errors = {};
  const name = form.name.trim();
  if (name === '') errors.name = 'Enter a project name.';
  else if (name.length > 100) errors.name = 'At most 100 characters.';
  if (!PREFIX_PATTERN.test(form.prefix)) errors.prefix = '2 to 16 lowercase letters or digits, starting with a letter.';
  const max = Number(form.maxKeysPerAccount);
  if (!/^\d+$/.test(form.maxKeysPerAccount.trim()) || max < 1 || max > 10_000) errors.maxKeysPerAccount = 'A whole number from 1 to 10,000.';
  if (Object.keys(errors).length > 0) return { errors };
  return { errors, input: { name, scopes: form.scopes, prefix: form.prefix, maxKeysPerAccount: max, recoverable: form.recoverable } };
}

const FIELDS: readonly string[] = ['name', 'scopes', 'prefix', 'maxKeysPerAccount', 'recoverable'];

function ProjectForm({
  project,
  formId,
  onSubmit,
}: {
  project?: Project;
  formId: string;
  onSubmit: (input: Required<ProjectInput>) => Promise<unknown>;
}) {
  const [form, setForm] = useState(() => stateOf(project));
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [newScope, setNewScope] = useState('');
  const id = (field: string) => `${formId}-${field}`;

  const set = <K extends keyof ProjectFormState>(name: K, value: ProjectFormState[K]) => {
    setForm((current) => ({ ...current, [name]: value }));
    setErrors((current) => ({ ...current, [name]: undefined }));
  };

  const addScope = () => {
    const scope = newScope.trim();
    if (scope === '') return;
    if (scope === ADMIN_SCOPE) setErrors((current) => ({ ...current, scopes: '“admin” is built in: every project has it.' }));
    else if (!SCOPE_PATTERN.test(scope)) {
      setErrors((current) => ({ ...current, scopes: 'A scope starts with a lowercase letter, then letters, digits, _ : . or - (up to 64).' }));
    } else if (form.scopes.includes(scope)) setErrors((current) => ({ ...current, scopes: `“${scope}” is already in the list.` }));
    else if (form.scopes.length >= 50) setErrors((current) => ({ ...current, scopes: 'At most 50 scopes.' }));
    else {
      set('scopes', [...form.scopes, scope]);
      setNewScope('');
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { errors: found, input } = validate(form);
    setErrors(found);
    setFormError(null);
    if (input === undefined) return;
    onSubmit(input).catch((reason: unknown) => {
      const field = fieldOf(reason);
      if (field !== undefined && FIELDS.includes(field)) setErrors({ [field]: messageOf(reason) });
      // Servers that do not name the field say "A project named '…' already exists".
      else if (messageOf(reason).includes('named')) setErrors({ name: messageOf(reason) });
      else setFormError(messageOf(reason));
    });
  };

  return (
    <form id={formId} onSubmit={submit} noValidate className="form-grid">
      <Field id={id('name')} name="name" label="Name" error={errors.name}>
        <input id={id('name')} value={form.name} onChange={(event) => set('name', event.target.value)} data-testid="project-name" {...describedBy(id('name'), errors.name)} />
      </Field>
      <FieldSet id={id('scopes')} name="scopes" legend="Scopes" error={errors.scopes} hint="The permissions keys of this project can carry. admin is built in and always available.">
        <ul className="chip-row scope-editor" data-testid="project-scopes">
          <li className="chip chip-admin">admin</li>
          {form.scopes.map((scope) => (
            <li key={scope} className="chip chip-removable">
              {scope}
              <button
                type="button"
                className="chip-remove"
                onClick={() => set('scopes', form.scopes.filter((value) => value !== scope))}
                aria-label={`Remove scope ${scope}`}
                data-testid={`remove-scope-${scope}`}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <div className="input-with-button">
          <input
            id={id('scopes')}
            value={newScope}
            onChange={(event) => {
              setNewScope(event.target.value);
              setErrors((current) => ({ ...current, scopes: undefined }));
            }}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                addScope();
              }
            }}
            placeholder="new_scope"
            aria-label="New scope"
            autoComplete="off"
            data-testid="new-scope"
          />
          <button type="button" className="button button-secondary" onClick={addScope} data-testid="add-scope">
            Add scope
          </button>
        </div>
      </FieldSet>
      <div className="form-row">
        <Field id={id('prefix')} name="prefix" label="Key prefix" error={errors.prefix} hint={`New keys look like ${form.prefix || 'kw'}_live_…`}>
          <input
            id={id('prefix')}
            value={form.prefix}
            onChange={(event) => set('prefix', event.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="project-prefix"
            {...describedBy(id('prefix'), errors.prefix, true)}
          />
        </Field>
        <Field id={id('maxKeysPerAccount')} name="maxKeysPerAccount" label="Keys per account" error={errors.maxKeysPerAccount} hint="The most keys one member may hold here.">
          <input
            id={id('maxKeysPerAccount')}
            type="number"
            min={1}
            max={10000}
            inputMode="numeric"
            value={form.maxKeysPerAccount}
            onChange={(event) => set('maxKeysPerAccount', event.target.value)}
            data-testid="project-max-keys"
            {...describedBy(id('maxKeysPerAccount'), errors.maxKeysPerAccount, true)}
          />
        </Field>
      </div>
      <div className="field">
        <label className="switch">
          <input type="checkbox" role="switch" checked={form.recoverable} onChange={(event) => set('recoverable', event.target.checked)} data-testid="project-recoverable" />
          <span className="switch-track" aria-hidden="true" />
          <span>Recoverable keys</span>
        </label>
        <p className="field-hint">Keep an encrypted copy of each new key so its secret can be revealed later (every reveal is audited).</p>
        {errors.recoverable !== undefined && <p className="field-error">{errors.recoverable}</p>}
      </div>
      {formError !== null && <Alert testId="form-error">{formError}</Alert>}
    </form>
  );
}

export function ProjectSettingsPage({ projectId }: { projectId: string }) {
  const { can, projects, reloadProjects } = useDashboard();
  const project = projects.find((candidate) => candidate.id === projectId);
  useTitle(project === undefined ? 'Project settings' : `Settings · ${project.name}`);
  const formId = useId();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [version, setVersion] = useState(0);
  const [deleting, setDeleting] = useState(false);

  if (!can('projects:manage')) {
    return (
      <EmptyState title="No access to project settings" testId="no-access">
        <p>Changing projects needs the projects:manage permission (owners and admins).</p>
      </EmptyState>
    );
  }
  if (project === undefined) return <EmptyState title="Project not found" testId="project-not-found" />;

  const save = async (input: Required<ProjectInput>) => {
    const patch: ProjectInput = {};
    if (input.name !== project.name) patch.name = input.name;
    if (JSON.stringify(input.scopes) !== JSON.stringify(project.scopes)) patch.scopes = input.scopes;
    if (input.prefix !== project.prefix) patch.prefix = input.prefix;
    if (input.maxKeysPerAccount !== project.maxKeysPerAccount) patch.maxKeysPerAccount = input.maxKeysPerAccount;
    if (input.recoverable !== project.recoverable) patch.recoverable = input.recoverable;
    setSaved(false);
    if (Object.keys(patch).length === 0) {
      setSaved(true);
      return;
    }
    setBusy(true);
    try {
      await api.projects.update(project.id, patch);
      await reloadProjects();
      setSaved(true);
      setVersion((value) => value + 1);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="project-settings-title">
      <div className="page-header">
        <div>
          <h1 id="project-settings-title">Project settings</h1>
          <p className="muted page-subtitle">
            <code>{project.id}</code> · created {formatDateTime(project.createdAt)}
          </p>
        </div>
        <div className="page-actions">
          <NewProjectButton />
        </div>
      </div>
      <div className="card card-form">
        <ProjectForm key={`${project.id}-${version}`} project={project} formId={formId} onSubmit={save} />
        <div className="form-actions">
          {saved && (
            <span className="text-success" role="status" data-testid="project-saved">
              Saved
            </span>
          )}
          <button type="submit" form={formId} className="button button-primary" disabled={busy} data-testid="save-project">
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </div>
      <div className="card card-form card-danger" data-testid="project-danger-zone">
        <h2 className="card-title">Delete this project</h2>
        <p className="muted">
          Deleting <strong>{project.name}</strong> deletes every API key in it too: services using them are refused at once. This cannot be undone.
        </p>
        <div className="form-actions">
          <button type="button" className="button button-danger" onClick={() => setDeleting(true)} data-testid="delete-project">
            Delete project
          </button>
        </div>
      </div>
      {deleting && <DeleteProjectModal project={project} onClose={() => setDeleting(false)} />}
    </section>
  );
}

/** Deletes a project, asked twice: first naming it and how many keys go with it, then typing its name. */
function DeleteProjectModal({ project, onClose }: { project: Project; onClose: () => void }) {
  const { reloadProjects } = useDashboard();
  const [step, setStep] = useState<1 | 2>(1);
  const [keyCount, setKeyCount] = useState<number | null>(null);
  const [countError, setCountError] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const matches = typed.trim() === project.name.trim();

  // projects:manage comes with keys:manage_all, so the list's total is every key in the project.
  const countKeys = () => {
    setCountError(null);
    api.keys.list(project.id, { pageSize: 1 }).then(
      (page) => setKeyCount(page.total),
      (reason: unknown) => setCountError(messageOf(reason)),
    );
  };
  useEffect(countKeys, [project.id]);

  const keysText = keyCount === null ? '' : keyCount === 0 ? 'It has no API keys.' : `Its ${plural(keyCount, 'API key')} will be deleted with it.`;

  const remove = (event: FormEvent) => {
    event.preventDefault();
    if (!matches || busy || keyCount === null) return;
    setBusy(true);
    setError(null);
    api.projects.remove(project.id, keyCount > 0).then(
      async () => {
        const remaining = await reloadProjects().catch(() => []);
        const next = remaining.find((candidate) => candidate.id !== project.id);
        navigate(next === undefined ? '/' : paths.keys(next.id));
      },
      (reason: unknown) => {
        setBusy(false);
        // A 409: the project holds the caller's own credential, or keys were added since we counted.
        setError(messageOf(reason));
        countKeys();
      },
    );
  };

  if (step === 1) {
    return (
      <Modal
        key="step-1"
        title={`Delete the project “${project.name}”?`}
        onClose={onClose}
        size="small"
        testId="delete-project-dialog"
        footer={
          <>
            <button type="button" className="button button-secondary" onClick={onClose} data-autofocus>
              Cancel
            </button>
            <button type="button" className="button button-danger" onClick={() => setStep(2)} disabled={keyCount === null} data-testid="delete-project-confirm-1">
              Delete project
            </button>
          </>
        }
      >
        <p>
          The project <strong className="break-all">{project.name}</strong> and its settings are removed.{' '}
          <span data-testid="delete-project-key-count">{keyCount === null ? (countError === null ? 'Counting its keys…' : '') : keysText}</span>
        </p>
        {keyCount !== null && keyCount > 0 && <p>Services using those keys are refused at once, and their data pushes stop.</p>}
        {countError !== null && <Alert testId="delete-project-error">{countError}</Alert>}
      </Modal>
    );
  }

  const formId = `${inputId}-form`;
  const deleteLabel = keyCount !== null && keyCount > 0 ? `Delete “${project.name}” and ${plural(keyCount, 'key')}` : `Delete “${project.name}”`;
  return (
    <Modal
      key="step-2"
      title="Confirm project deletion"
      onClose={onClose}
      size="small"
      busy={busy}
      testId="delete-project-dialog"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} label={deleteLabel} busyLabel="Deleting…" testId="delete-project-confirm-2" danger disabled={!matches || keyCount === null} />
      }
    >
      <form id={formId} onSubmit={remove} noValidate>
        <p>
          This cannot be undone. <span data-testid="delete-project-key-count">{keysText}</span>
        </p>
        <Field id={inputId} label={<>Type the project name to delete it: <strong className="break-all">{project.name}</strong></>}>
          <input
            id={inputId}
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="delete-project-confirm-name"
          />
        </Field>
        {error !== null && <Alert testId="delete-project-error">{error}</Alert>}
      </form>
    </Modal>
  );
}

export function NewProjectButton() {
  const { reloadProjects } = useDashboard();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const formId = useId();

  const create = async (input: Required<ProjectInput>) => {
    setBusy(true);
    try {
      const project = await api.projects.create(input);
      await reloadProjects();
      setOpen(false);
      navigate(paths.keys(project.id));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" className="button button-secondary" onClick={() => setOpen(true)} data-testid="new-project-button">
        <span aria-hidden="true">+</span> New project
      </button>
      {open && (
        <Modal
          title="New project"
          onClose={() => setOpen(false)}
          busy={busy}
          size="large"
          testId="new-project-dialog"
          footer={
            <>
              <button type="button" className="button button-secondary" onClick={() => setOpen(false)} disabled={busy}>
                Cancel
              </button>
              <button type="submit" form={formId} className="button button-primary" disabled={busy} data-testid="create-project">
                {busy ? 'Creating…' : 'Create project'}
              </button>
            </>
          }
        >
          <ProjectForm formId={formId} onSubmit={create} />
        </Modal>
      )}
    </>
  );
}
