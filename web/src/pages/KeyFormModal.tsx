// "+ New Key" and "Modify configuration": one form for both. Creating shows the secret once
// when the server has generated it; modifying sends only the fields that changed.
import { useId, useMemo, useState, type FormEvent } from 'react';
import { ApiError, fieldOf, messageOf } from '../api/client';
import * as api from '../api/endpoints';
import {
  ADMIN_SCOPE,
  MAX_KEY_NAME,
  type Account,
  type ApiKey,
  type ApiKeyWithSecret,
  type CreateKeyInput,
  type Environment,
  type KeyType,
  type Project,
  type RefillInterval,
  type UpdateKeyInput,
} from '../api/types';
import { describedBy, Field, FieldSet } from '../components/Field';
import { FormFooter, Modal } from '../components/Modal';
import { KeySecret } from '../components/SecretPanel';
import { Alert } from '../components/States';
import { fromDateTimeLocal, toDateTimeLocal } from '../format';

const MAX_META_BYTES = 4096;
const MAX_HOST_LENGTH = 253;

interface FormState {
  name: string;
  accountId: string;
  scopes: string[];
  environment: Environment;
  type: KeyType;
  enabled: boolean;
  expiry: 'permanent' | 'custom';
  expiresAt: string;
  host: string;
  limitUsage: boolean;
  limitedAmount: string;
  refill: '' | RefillInterval;
  limitRate: boolean;
  rateLimit: string;
  rateWindowSeconds: string;
  meta: string;
}

type FieldName = 'name' | 'accountId' | 'scopes' | 'environment' | 'type' | 'expiresAt' | 'host' | 'limitedAmount' | 'refill' | 'rateLimit' | 'meta' | 'enabled';
type Errors = Partial<Record<FieldName, string>>;

function initialState(apiKey: ApiKey | undefined, ownAccountId: string): FormState {
  return {
    name: apiKey?.name ?? '',
    accountId: apiKey?.accountId ?? ownAccountId,
    scopes: apiKey?.scopes ?? [],
    environment: apiKey?.environment ?? 'live',
    type: apiKey?.type ?? 'token',
    enabled: apiKey?.enabled ?? true,
    expiry: apiKey?.expiresAt != null ? 'custom' : 'permanent',
    expiresAt: toDateTimeLocal(apiKey?.expiresAt ?? null),
    host: apiKey?.host ?? '',
    limitUsage: apiKey?.limitedAmount != null,
    limitedAmount: apiKey?.limitedAmount != null ? String(apiKey.limitedAmount) : '',
    refill: apiKey?.refill?.interval ?? '',
    limitRate: apiKey?.rateLimit != null,
    rateLimit: apiKey?.rateLimit != null ? String(apiKey.rateLimit.limit) : '100',
    rateWindowSeconds: apiKey?.rateLimit != null ? String(apiKey.rateLimit.windowMs / 1000) : '60',
    meta: apiKey?.meta != null ? JSON.stringify(apiKey.meta, null, 2) : '',
  };
}

const isWholeNumber = (text: string) => /^\d+$/.test(text.trim());

/** The request fields of a valid form, or the errors to show next to the fields. */
function validate(form: FormState, editing: boolean): { errors: Errors; values?: Required<Omit<CreateKeyInput, 'accountId' | 'name'>> & { name?: string } } {
  const errors: Errors = {};
  const name = form.name.trim();
  if (editing && name === '') errors.name = 'Enter a name for the key.';
  else if (name.length > MAX_KEY_NAME) errors.name = `The name can have at most ${MAX_KEY_NAME} characters (now ${name.length}).`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  else if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) errors.name = 'The name cannot contain control characters.';

  let expiresAt: string | null = null;
  if (form.expiry === 'custom') {
    expiresAt = fromDateTimeLocal(form.expiresAt);
    if (expiresAt === null) errors.expiresAt = 'Choose the date and time the key expires.';
    else if (Date.parse(expiresAt) <= Date.now() && !editing) errors.expiresAt = 'The expiry must be in the future.';
  }

  const host = form.host.trim();
  if (host.length > MAX_HOST_LENGTH) errors.host = `At most ${MAX_HOST_LENGTH} characters.`;
  else if (/\s/.test(host)) errors.host = 'A host cannot contain spaces.';

  let limitedAmount: number | null = null;
  if (form.limitUsage) {
    if (!isWholeNumber(form.limitedAmount)) errors.limitedAmount = 'Enter a whole number of uses (0 or more).';
    else limitedAmount = Number(form.limitedAmount.trim());
  }

  let rateLimit: { limit: number; windowMs: number } | null = null;
  if (form.limitRate) {
    const limit = Number(form.rateLimit.trim());
    const seconds = Number(form.rateWindowSeconds.trim());
    if (!isWholeNumber(form.rateLimit) || limit < 1 || limit > 1_000_000) errors.rateLimit = 'Requests: a whole number from 1 to 1,000,000.';
    else if (!Number.isFinite(seconds) || seconds < 1 || seconds > 86_400 || !Number.isInteger(seconds * 1000)) {
      errors.rateLimit = 'Window: from 1 to 86,400 seconds.';
    } else rateLimit = { limit, windowMs: Math.round(seconds * 1000) };
  }

  let meta: Record<string, unknown> | null = null;
  if (form.meta.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(form.meta);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) errors.meta = 'Metadata must be a JSON object, like {"team": "search"}.';
      else if (new TextEncoder().encode(JSON.stringify(parsed)).length > MAX_META_BYTES) errors.meta = `Metadata can be at most ${MAX_META_BYTES} bytes.`;
      else meta = parsed as Record<string, unknown>;
    } catch {
      errors.meta = 'This is not valid JSON.';
    }
  }

  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    values: {
      ...(name !== '' ? { name } : {}),
      scopes: form.scopes,
      environment: form.environment,
      type: form.type,
      enabled: form.enabled,
      expiresAt,
      host: host === '' ? null : host,
      limitedAmount,
      refill: limitedAmount !== null && form.refill !== '' ? { interval: form.refill } : null,
      rateLimit,
      meta,
    },
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function changedFields(original: ApiKey, values: NonNullable<ReturnType<typeof validate>['values']>): UpdateKeyInput {
  const patch: UpdateKeyInput = {};
  if (values.name !== undefined && values.name !== original.name) patch.name = values.name;
  if (values.enabled !== original.enabled) patch.enabled = values.enabled;
  if (!same([...values.scopes].sort(), [...original.scopes].sort())) patch.scopes = values.scopes;
  const originalExpiry = original.expiresAt === null ? null : Date.parse(original.expiresAt);
  const newExpiry = values.expiresAt === null ? null : Date.parse(values.expiresAt);
  // The form shows minutes: an untouched expiry with seconds must not count as a change.
  if (originalExpiry === null || newExpiry === null ? originalExpiry !== newExpiry : Math.abs(originalExpiry - newExpiry) >= 60_000) {
    patch.expiresAt = values.expiresAt;
  }
  if (values.host !== original.host) patch.host = values.host;
  if (values.limitedAmount !== original.limitedAmount) patch.limitedAmount = values.limitedAmount;
  if (!same(values.refill, original.refill)) patch.refill = values.refill;
  if (!same(values.rateLimit, original.rateLimit)) patch.rateLimit = values.rateLimit;
  if (!same(values.meta, original.meta)) patch.meta = values.meta;
  return patch;
}

const KNOWN_FIELDS: readonly string[] = ['name', 'accountId', 'scopes', 'environment', 'type', 'expiresAt', 'host', 'limitedAmount', 'refill', 'rateLimit', 'meta', 'enabled'];

interface KeyFormModalProps {
  project: Project;
  /** The key to modify; without it the form creates a key. */
  apiKey?: ApiKey;
  ownAccountId: string;
  /** Members the caller may create keys for (keys:manage_all), or null to create only its own. */
  owners: Account[] | null;
  onClose: () => void;
  onSaved: (apiKey: ApiKey) => void;
  /** After create: to open "Modify configuration" of the new key. */
  onModifyCreated?: (apiKey: ApiKey) => void;
}

export function KeyFormModal({ project, apiKey, ownAccountId, owners, onClose, onSaved, onModifyCreated }: KeyFormModalProps) {
  const editing = apiKey !== undefined;
  const [form, setForm] = useState(() => initialState(apiKey, ownAccountId));
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<ApiKeyWithSecret | null>(null);
  const formId = useId();
  const id = (name: string) => `${formId}-${name}`;

  const scopeChoices = useMemo(() => {
    const choices = [...project.scopes, ADMIN_SCOPE];
    for (const scope of apiKey?.scopes ?? []) if (!choices.includes(scope)) choices.push(scope);
    return choices;
  }, [project.scopes, apiKey?.scopes]);

  const showOwner = !editing && owners !== null && owners.length > 1;
  const [metaOpen] = useState(() => form.meta !== '');

  const set = <K extends keyof FormState>(name: K, value: FormState[K]) => {
    setForm((current) => ({ ...current, [name]: value }));
    const errorKey = name === 'rateWindowSeconds' || name === 'limitRate' ? 'rateLimit' : name === 'limitUsage' ? 'limitedAmount' : name === 'expiry' ? 'expiresAt' : name;
    setErrors((current) => (errorKey in current ? { ...current, [errorKey]: undefined } : current));
  };

  const toggleScope = (scope: string, on: boolean) => {
    set('scopes', on ? [...form.scopes, scope] : form.scopes.filter((value) => value !== scope));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const { errors: found, values } = validate(form, editing);
    setErrors(found);
    setFormError(null);
    if (values === undefined) {
      const first = Object.keys(found)[0];
      if (first !== undefined) document.getElementById(id(first))?.focus();
      return;
    }
    setBusy(true);
    let call: Promise<ApiKey>;
    if (editing) {
      const patch = changedFields(apiKey, values);
      if (Object.keys(patch).length === 0) {
        setBusy(false);
        onClose();
        return;
      }
      call = api.keys.update(apiKey.id, patch);
    } else {
      const input: CreateKeyInput = { ...values };
      if (values.rateLimit === null) delete input.rateLimit;
      if (values.meta === null) delete input.meta;
      if (form.accountId !== ownAccountId) input.accountId = form.accountId;
      call = api.keys.create(project.id, input).then((key) => {
        setCreated(key);
        return key;
      });
    }
    call.then(
      (key) => {
        setBusy(false);
        onSaved(key);
        if (editing) onClose();
      },
      (reason: unknown) => {
        setBusy(false);
        const field = fieldOf(reason);
        const shown = field !== undefined && KNOWN_FIELDS.includes(field) && (field !== 'accountId' || showOwner) && field !== 'enabled';
        if (shown) {
          setErrors({ [field as FieldName]: messageOf(reason) });
          document.getElementById(id(field))?.focus();
        } else if (reason instanceof ApiError && reason.type === 'duplicateNameError') {
          setErrors({ name: reason.message });
        } else {
          setFormError(messageOf(reason));
        }
      },
    );
  };

  if (created !== null) {
    return (
      <Modal
        key="created"
        title="Your new API key"
        onClose={onClose}
        testId="key-created-dialog"
        footer={
          <>
            {onModifyCreated !== undefined && (
              <button type="button" className="button button-secondary" onClick={() => onModifyCreated(created)} data-testid="modify-created-key">
                Modify configuration
              </button>
            )}
            <button type="button" className="button button-primary" onClick={onClose} data-testid="close-secret" data-autofocus>
              Done
            </button>
          </>
        }
      >
        <p>
          <strong data-testid="created-key-name">{created.name}</strong> was created in {project.name}.
        </p>
        <KeySecret apiKey={created} />
      </Modal>
    );
  }

  return (
    <Modal
      key="form"
      title={editing ? 'Modify configuration' : 'New API key'}
      onClose={onClose}
      busy={busy}
      size="large"
      testId={editing ? 'edit-key-dialog' : 'new-key-dialog'}
      footer={
        <FormFooter
          formId={formId}
          busy={busy}
          onCancel={onClose}
          label={editing ? 'Save changes' : 'Generate Key'}
          busyLabel={editing ? 'Saving…' : 'Generating…'}
          testId={editing ? 'save-key' : 'generate-key'}
        />
      }
    >
      <form id={formId} onSubmit={submit} noValidate className="form-grid">
        <Field
          id={id('name')}
          name="name"
          label="Name"
          optional={!editing}
          error={errors.name}
          hint={
            editing
              ? `Required, up to ${MAX_KEY_NAME} characters, unique among the owner's keys in this project.`
              : 'Leave it empty and the key is named “API Key name yyyyMMddHHmmss” (UTC).'
          }
        >
          <input
            id={id('name')}
            value={form.name}
            onChange={(event) => set('name', event.target.value)}
            placeholder={editing ? 'Key name' : 'Auto-named if left empty'}
            maxLength={MAX_KEY_NAME + 50}
            autoComplete="off"
            data-testid="key-name-input"
            {...describedBy(id('name'), errors.name, true)}
          />
        </Field>

        {showOwner && (
          <Field id={id('accountId')} name="accountId" label="Owner" error={errors.accountId} hint="The key is bound to this member for life.">
            <select
              id={id('accountId')}
              value={form.accountId}
              onChange={(event) => set('accountId', event.target.value)}
              data-testid="key-owner-select"
              {...describedBy(id('accountId'), errors.accountId, true)}
            >
              {owners.map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name} ({account.email}){account.id === ownAccountId ? ' — you' : ''}
                </option>
              ))}
            </select>
          </Field>
        )}

        <FieldSet id={id('scopes')} name="scopes" legend="Scopes" error={errors.scopes} hint="Grant only what the key needs. admin lets the key call Keyward's admin API.">
          <div className="checkbox-grid" id={id('scopes')} tabIndex={-1}>
            {scopeChoices.map((scope) => (
              <label key={scope} className="checkbox">
                <input
                  type="checkbox"
                  checked={form.scopes.includes(scope)}
                  onChange={(event) => toggleScope(scope, event.target.checked)}
                  data-testid={`scope-${scope}`}
                />
                <span>{scope}</span>
              </label>
            ))}
          </div>
        </FieldSet>

        <div className="form-row">
          <FieldSet id={id('type')} name="type" legend="Type" error={errors.type}>
            {editing ? (
              <p className="static-value">{form.type === 'token' ? 'Token' : 'Identity (username + password)'}</p>
            ) : (
              <div className="segmented" role="radiogroup" aria-label="Key type">
                {(['token', 'identity'] as const).map((type) => (
                  <label key={type} className="segmented-option">
                    <input type="radio" name={id('type')} value={type} checked={form.type === type} onChange={() => set('type', type)} data-testid={`type-${type}`} />
                    <span>{type === 'token' ? 'Token' : 'Identity'}</span>
                  </label>
                ))}
              </div>
            )}
          </FieldSet>
          <FieldSet id={id('environment')} name="environment" legend="Environment" error={errors.environment}>
            {editing ? (
              <p className="static-value">{form.environment === 'live' ? 'Live' : 'Test'}</p>
            ) : (
              <div className="segmented" role="radiogroup" aria-label="Environment">
                {(['live', 'test'] as const).map((environment) => (
                  <label key={environment} className="segmented-option">
                    <input
                      type="radio"
                      name={id('environment')}
                      value={environment}
                      checked={form.environment === environment}
                      onChange={() => set('environment', environment)}
                      data-testid={`environment-${environment}`}
                    />
                    <span>{environment === 'live' ? 'Live' : 'Test'}</span>
                  </label>
                ))}
              </div>
            )}
          </FieldSet>
        </div>
        {!editing && (
          <p className="field-hint form-note">
            {form.type === 'token'
              ? `A token like ${project.prefix}_${form.environment}_… sent as a Bearer token or X-API-Key.`
              : 'A generated username and password, for proxies (Proxy-Authorization: Basic).'}
          </p>
        )}

        {editing && (
          <div className="field">
            <label className="switch">
              <input type="checkbox" role="switch" checked={form.enabled} onChange={(event) => set('enabled', event.target.checked)} data-testid="key-enabled" />
              <span className="switch-track" aria-hidden="true" />
              <span>{form.enabled ? 'Enabled' : 'Disabled'}: {form.enabled ? 'the key passes verification' : 'the key fails verification'}</span>
            </label>
          </div>
        )}

        <FieldSet id={id('expiresAt')} name="expiresAt" legend="Expiration" error={errors.expiresAt}>
          <div className="segmented" role="radiogroup" aria-label="Expiration">
            <label className="segmented-option">
              <input type="radio" name={id('expiry')} checked={form.expiry === 'permanent'} onChange={() => set('expiry', 'permanent')} data-testid="expiry-permanent" />
              <span>Permanent</span>
            </label>
            <label className="segmented-option">
              <input type="radio" name={id('expiry')} checked={form.expiry === 'custom'} onChange={() => set('expiry', 'custom')} data-testid="expiry-custom" />
              <span>Custom</span>
            </label>
          </div>
          {form.expiry === 'custom' && (
            <input
              id={id('expiresAt')}
              type="datetime-local"
              className="input-spaced"
              aria-label="Expires at"
              value={form.expiresAt}
              onChange={(event) => set('expiresAt', event.target.value)}
              data-testid="key-expires-at"
              {...describedBy(id('expiresAt'), errors.expiresAt)}
            />
          )}
        </FieldSet>

        <Field id={id('host')} name="host" label="Host binding" optional error={errors.host} hint="Only requests from this domain (*.example.com works), IP address or CIDR range pass.">
          <input
            id={id('host')}
            value={form.host}
            onChange={(event) => set('host', event.target.value)}
            placeholder="api.example.com"
            autoComplete="off"
            data-testid="key-host"
            {...describedBy(id('host'), errors.host, true)}
          />
        </Field>

        <FieldSet id={id('limitedAmount')} name="limitedAmount" legend="Usage limit" error={errors.limitedAmount}>
          <label className="checkbox">
            <input type="checkbox" checked={form.limitUsage} onChange={(event) => set('limitUsage', event.target.checked)} data-testid="key-limit-usage" />
            <span>Limit the number of uses{editing && apiKey.limitedAmount !== null ? ` (${apiKey.usedAmount} used so far)` : ''}</span>
          </label>
          {form.limitUsage && (
            <div className="inline-fields">
              <label className="inline-field">
                <span>Uses</span>
                <input
                  id={id('limitedAmount')}
                  type="number"
                  min={0}
                  step={1}
                  inputMode="numeric"
                  value={form.limitedAmount}
                  onChange={(event) => set('limitedAmount', event.target.value)}
                  data-testid="key-limited-amount"
                  {...describedBy(id('limitedAmount'), errors.limitedAmount)}
                />
              </label>
              <label className="inline-field">
                <span>Refill</span>
                <select value={form.refill} onChange={(event) => set('refill', event.target.value as FormState['refill'])} data-testid="key-refill">
                  <option value="">Never</option>
                  <option value="daily">Daily</option>
                  <option value="monthly">Monthly</option>
                </select>
              </label>
            </div>
          )}
        </FieldSet>

        <FieldSet id={id('rateLimit')} name="rateLimit" legend="Rate limit" error={errors.rateLimit}>
          <label className="checkbox">
            <input type="checkbox" checked={form.limitRate} onChange={(event) => set('limitRate', event.target.checked)} data-testid="key-limit-rate" />
            <span>Limit requests per time window</span>
          </label>
          {form.limitRate && (
            <div className="inline-fields">
              <label className="inline-field">
                <span>Requests</span>
                <input
                  id={id('rateLimit')}
                  type="number"
                  min={1}
                  step={1}
                  inputMode="numeric"
                  value={form.rateLimit}
                  onChange={(event) => set('rateLimit', event.target.value)}
                  data-testid="key-rate-limit"
                  {...describedBy(id('rateLimit'), errors.rateLimit)}
                />
              </label>
              <label className="inline-field">
                <span>per seconds</span>
                <input
                  type="number"
                  min={1}
                  max={86400}
                  step={1}
                  inputMode="numeric"
                  value={form.rateWindowSeconds}
                  onChange={(event) => set('rateWindowSeconds', event.target.value)}
                  data-testid="key-rate-window"
                />
              </label>
            </div>
          )}
        </FieldSet>

        <details className="form-advanced" open={metaOpen}>
          <summary>Metadata</summary>
          <Field id={id('meta')} name="meta" label="Metadata (JSON object)" optional error={errors.meta} hint="Returned with every successful verification.">
            <textarea
              id={id('meta')}
              rows={4}
              value={form.meta}
              onChange={(event) => set('meta', event.target.value)}
              placeholder='{"team": "search"}'
              spellCheck={false}
              data-testid="key-meta"
              {...describedBy(id('meta'), errors.meta, true)}
            />
          </Field>
        </details>

        {formError !== null && (
          <Alert testId="form-error">
            {formError}
          </Alert>
        )}
      </form>
    </Modal>
  );
}
