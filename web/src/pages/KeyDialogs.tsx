// The dialogs that act on one key: delete (confirmed twice), rotate with a grace period, and
// reveal (recoverable projects). Rotate and reveal show the secret once.
import { useId, useState, type FormEvent } from 'react';
import { messageOf } from '../api/client';
import * as api from '../api/endpoints';
import { MAX_GRACE_PERIOD_SECONDS, type ApiKey, type ApiKeyWithSecret } from '../api/types';
import { describedBy, Field } from '../components/Field';
import { FormFooter, Modal } from '../components/Modal';
import { KeySecret } from '../components/SecretPanel';
import { Alert } from '../components/States';
import { formatDateTime, formatSeconds, maskedKey } from '../format';

interface KeyDialogProps {
  apiKey: ApiKey;
  onClose: () => void;
}

/** Step 1 asks; step 2 names the key and wants its name typed before the final button works. */
export function DeleteKeyModal({ apiKey, onClose, onDeleted }: KeyDialogProps & { onDeleted: (apiKey: ApiKey) => void }) {
  const [step, setStep] = useState<1 | 2>(1);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const matches = typed.trim() === apiKey.name.trim();

  const remove = (event: FormEvent) => {
    event.preventDefault();
    if (!matches || busy) return;
    setBusy(true);
    setError(null);
    api.keys.remove(apiKey.id).then(
      () => {
        setBusy(false);
        onDeleted(apiKey);
      },
      (reason: unknown) => {
        setBusy(false);
        setError(messageOf(reason));
      },
    );
  };

  if (step === 1) {
    return (
      <Modal
        key="step-1"
        title="Delete this API key?"
        onClose={onClose}
        size="small"
        testId="delete-key-dialog"
        footer={
          <>
            <button type="button" className="button button-secondary" onClick={onClose} data-autofocus>
              Cancel
            </button>
            <button type="button" className="button button-danger" onClick={() => setStep(2)} data-testid="delete-confirm-1">
              Delete
            </button>
          </>
        }
      >
        <p>
          <strong>{apiKey.name}</strong> (<code>{maskedKey(apiKey.start)}</code>) will stop working at once. Services using it will be refused,
          and every data push of this key stops.
        </p>
      </Modal>
    );
  }

  const formId = `${inputId}-form`;
  return (
    <Modal
      key="step-2"
      title="Confirm deletion"
      onClose={onClose}
      size="small"
      busy={busy}
      testId="delete-key-dialog"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} label={`Delete “${apiKey.name}”`} busyLabel="Deleting…" testId="delete-confirm-2" danger disabled={!matches} />
      }
    >
      <form id={formId} onSubmit={remove} noValidate>
        <p>This cannot be undone. The key and its configuration are removed for good.</p>
        <Field id={inputId} label={<>Type the key name to delete: <strong className="break-all">{apiKey.name}</strong></>}>
          <input
            id={inputId}
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="delete-confirm-name"
          />
        </Field>
        {error !== null && <Alert testId="delete-error">{error}</Alert>}
      </form>
    </Modal>
  );
}

const GRACE_PRESETS: [string, number][] = [
  ['None', 0],
  ['1 hour', 3600],
  ['1 day', 86_400],
  ['7 days', 7 * 86_400],
];

export function RotateKeyModal({ apiKey, onClose, onRotated }: KeyDialogProps & { onRotated: (apiKey: ApiKey) => void }) {
  const [grace, setGrace] = useState('0');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [rotated, setRotated] = useState<{ key: ApiKeyWithSecret; oldValidUntil: string | null } | null>(null);
  const inputId = useId();
  const formId = `${inputId}-form`;

  const rotate = (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const seconds = Number(grace.trim());
    if (!/^\d+$/.test(grace.trim()) || seconds > MAX_GRACE_PERIOD_SECONDS) {
      setFieldError(`Enter whole seconds from 0 to ${MAX_GRACE_PERIOD_SECONDS.toLocaleString('en')} (30 days).`);
      return;
    }
    setFieldError(undefined);
    setBusy(true);
    setError(null);
    const startedAt = Date.now();
    api.keys.rotate(apiKey.id, seconds).then(
      (key) => {
        setBusy(false);
        setRotated({ key, oldValidUntil: seconds === 0 ? null : new Date(startedAt + seconds * 1000).toISOString() });
        onRotated(key);
      },
      (reason: unknown) => {
        setBusy(false);
        setError(messageOf(reason));
      },
    );
  };

  if (rotated !== null) {
    return (
      <Modal
        key="rotated"
        title="Key rotated"
        onClose={onClose}
        testId="key-rotated-dialog"
        footer={
          <button type="button" className="button button-primary" onClick={onClose} data-testid="close-secret" data-autofocus>
            Done
          </button>
        }
      >
        <p>
          The new secret of <strong>{apiKey.name}</strong>.{' '}
          {rotated.oldValidUntil === null
            ? 'The old secret no longer works.'
            : `The old secret keeps working until about ${formatDateTime(rotated.oldValidUntil)}.`}
        </p>
        <KeySecret apiKey={rotated.key} />
      </Modal>
    );
  }

  const seconds = /^\d+$/.test(grace.trim()) ? Number(grace.trim()) : null;
  return (
    <Modal
      key="rotate"
      title="Rotate key"
      onClose={onClose}
      busy={busy}
      testId="rotate-key-dialog"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} label="Rotate key" busyLabel="Rotating…" testId="rotate-confirm" />
      }
    >
      <form id={formId} onSubmit={rotate} noValidate>
        <p>
          <strong>{apiKey.name}</strong> gets a new secret. Its id, name, scopes and limits stay the same.
        </p>
        <Field
          id={inputId}
          name="gracePeriodSeconds"
          label="Grace period (seconds)"
          error={fieldError}
          hint={seconds === null ? 'How long the old secret keeps working.' : `The old secret stops working ${seconds === 0 ? 'immediately' : `after ${formatSeconds(seconds)}`}.`}
        >
          <input
            id={inputId}
            type="number"
            min={0}
            max={MAX_GRACE_PERIOD_SECONDS}
            step={1}
            inputMode="numeric"
            value={grace}
            onChange={(event) => setGrace(event.target.value)}
            data-testid="grace-period"
            {...describedBy(inputId, fieldError, true)}
          />
        </Field>
        <div className="chip-row" role="group" aria-label="Grace period presets">
          {GRACE_PRESETS.map(([label, value]) => (
            <button
              key={label}
              type="button"
              className="chip chip-button"
              aria-pressed={seconds === value}
              onClick={() => {
                setGrace(String(value));
                setFieldError(undefined);
              }}
            >
              {label}
            </button>
          ))}
        </div>
        {error !== null && <Alert testId="rotate-error">{error}</Alert>}
      </form>
    </Modal>
  );
}

export function RevealKeyModal({ apiKey, onClose }: KeyDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [revealed, setRevealed] = useState<ApiKeyWithSecret | null>(null);

  const reveal = () => {
    setBusy(true);
    setError(null);
    api.keys.reveal(apiKey.id).then(
      (key) => {
        setBusy(false);
        setRevealed(key);
      },
      (reason: unknown) => {
        setBusy(false);
        setError(messageOf(reason));
      },
    );
  };

  return (
    <Modal
      key={revealed === null ? 'ask' : 'shown'}
      title="Reveal secret"
      onClose={onClose}
      busy={busy}
      testId="reveal-key-dialog"
      footer={
        revealed === null ? (
          <>
            <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button type="button" className="button button-primary" onClick={reveal} disabled={busy} data-testid="reveal-confirm">
              {busy ? 'Revealing…' : 'Reveal secret'}
            </button>
          </>
        ) : (
          <button type="button" className="button button-primary" onClick={onClose} data-autofocus>
            Done
          </button>
        )
      }
    >
      {revealed === null ? (
        <p>
          This project keeps an encrypted copy of its keys. Revealing the secret of <strong>{apiKey.name}</strong> is recorded in the audit log.
        </p>
      ) : (
        <KeySecret apiKey={revealed} revealed />
      )}
      {error !== null && <Alert testId="reveal-error">{error}</Alert>}
    </Modal>
  );
}
