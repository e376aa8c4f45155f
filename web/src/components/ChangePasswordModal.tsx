// "Change password" for the signed-in account only (anyone may change their own, knowing the
// current one). The server ends every session of the account when its password changes, this one
// included, so success leads straight to the login page.
import { useId, useState, type FormEvent } from 'react';
import { fieldOf, messageOf } from '../api/client';
import * as api from '../api/endpoints';
import { useDashboard } from '../context';
import { describedBy, Field } from './Field';
import { FormFooter, Modal } from './Modal';
import { Alert } from './States';

type PasswordField = 'current' | 'password' | 'repeat';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 200;

export function ChangePasswordModal({ onClose }: { onClose: () => void }) {
  const { session, passwordChanged } = useDashboard();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<Partial<Record<PasswordField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const formId = useId();
  const id = (field: PasswordField) => `${formId}-${field}`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const found: Partial<Record<PasswordField, string>> = {};
    if (current === '') found.current = 'Enter your current password.';
    if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) found.password = `The password needs ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`;
    else if (repeat !== password) found.repeat = 'The two passwords do not match.';
    setErrors(found);
    setFormError(null);
    const first = Object.keys(found)[0] as PasswordField | undefined;
    if (first !== undefined) {
      document.getElementById(id(first))?.focus();
      return;
    }
    setBusy(true);
    api.accounts.update(session.account.id, { password, currentPassword: current }).then(
      () => passwordChanged(),
      (reason: unknown) => {
        setBusy(false);
        const field = fieldOf(reason);
        if (field === 'currentPassword') setErrors({ current: messageOf(reason) });
        else if (field === 'password') setErrors({ password: messageOf(reason) });
        else setFormError(messageOf(reason));
      },
    );
  };

  return (
    <Modal
      title="Change your password"
      onClose={onClose}
      busy={busy}
      size="small"
      testId="change-password-dialog"
      footer={
        <FormFooter formId={formId} busy={busy} onCancel={onClose} label="Change password" busyLabel="Changing…" testId="change-password-submit" />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          For <strong className="break-all">{session.account.email}</strong>. Every dashboard session of this account ends, this one too: you log in again
          with the new password. API keys keep working.
        </p>
        {/* Lets password managers file the new password under the right account. */}
        <input type="text" name="username" autoComplete="username" value={session.account.email} readOnly hidden />
        <Field id={id('current')} name="currentPassword" label="Current password" error={errors.current}>
          <input
            id={id('current')}
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(event) => {
              setCurrent(event.target.value);
              setErrors((existing) => ({ ...existing, current: undefined }));
            }}
            data-testid="current-password"
            {...describedBy(id('current'), errors.current)}
          />
        </Field>
        <Field id={id('password')} name="password" label="New password" error={errors.password} hint={`${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`}>
          <input
            id={id('password')}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => {
              setPassword(event.target.value);
              setErrors({});
            }}
            data-testid="new-password"
            {...describedBy(id('password'), errors.password, true)}
          />
        </Field>
        <Field id={id('repeat')} name="repeatPassword" label="Repeat the new password" error={errors.repeat}>
          <input
            id={id('repeat')}
            type="password"
            autoComplete="new-password"
            value={repeat}
            onChange={(event) => {
              setRepeat(event.target.value);
              setErrors((current) => ({ ...current, repeat: undefined }));
            }}
            data-testid="repeat-password"
            {...describedBy(id('repeat'), errors.repeat)}
          />
        </Field>
        {formError !== null && <Alert testId="form-error">{formError}</Alert>}
      </form>
    </Modal>
  );
}
