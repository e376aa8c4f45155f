// The one time a secret is on screen: after create, rotate or reveal, and a webhook's signing secret.
import type { ApiKeyWithSecret } from '../api/types';
import { CopyButton } from './CopyButton';

function SecretLine({ label, value, testId, copyLabel }: { label: string; value: string; testId: string; copyLabel: string }) {
  return (
    <div className="secret">
      <span className="secret-label">{label}</span>
      <div className="secret-row">
        <code className="secret-value" data-testid={testId}>
          {value}
        </code>
        <CopyButton text={value} label={copyLabel} testId={`copy-${testId}`} />
      </div>
    </div>
  );
}

export function SecretWarning({ children }: { children?: string }) {
  return (
    <p className="alert alert-warning" role="note" data-testid="secret-warning">
      <strong>Copy it now.</strong> {children ?? 'For your security it will not be shown again. Store it somewhere safe, such as a secret manager.'}
    </p>
  );
}

/** The secret of a key: the token, or the username and password of an identity key. */
export function KeySecret({ apiKey, revealed = false }: { apiKey: ApiKeyWithSecret; revealed?: boolean }) {
  return (
    <div className="secret-panel">
      {!revealed && <SecretWarning />}
      {apiKey.key !== undefined && <SecretLine label="Secret key" value={apiKey.key} testId="new-secret" copyLabel="Copy secret key" />}
      {apiKey.type === 'identity' && apiKey.username !== null && (
        <SecretLine label="Username" value={apiKey.username} testId="new-username" copyLabel="Copy username" />
      )}
      {apiKey.password !== undefined && <SecretLine label="Password" value={apiKey.password} testId="new-secret" copyLabel="Copy password" />}
      {apiKey.type === 'identity' && (
        <p className="field-hint">Send these as <code>Proxy-Authorization: Basic</code> (or <code>Authorization: Basic</code>) credentials.</p>
      )}
    </div>
  );
}

export function WebhookSecret({ secret }: { secret: string }) {
  return (
    <div className="secret-panel">
      <SecretWarning>The signing secret verifies that deliveries come from Keyward (Standard Webhooks). It will not be shown again.</SecretWarning>
      <SecretLine label="Signing secret" value={secret} testId="webhook-secret" copyLabel="Copy signing secret" />
    </div>
  );
}
