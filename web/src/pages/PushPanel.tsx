// Data push of one key (Supametas "Start Data Push"): the webhook address with its signing
// secret shown once, real-time push on/off, and the one-time historical push with live progress.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, fieldOf, messageOf } from '../api/client';
import * as api from '../api/endpoints';
import type { Push } from '../api/types';
import { describedBy, Field } from '../components/Field';
import { Modal } from '../components/Modal';
import { WebhookSecret } from '../components/SecretPanel';
import { Alert, ErrorState, Loading } from '../components/States';
import { formatDateTime, formatNumber } from '../format';
import { useLoader } from '../hooks';

const POLL_MS = 1000;

export function PushPanel({ keyId, mayManage }: { keyId: string; mayManage: boolean }) {
  const state = useLoader(() => api.push.get(keyId), [keyId]);
  const push = state.data;
  const setPush = state.setData;
  const [address, setAddress] = useState('');
  const [addressError, setAddressError] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [busy, setBusy] = useState<null | 'address' | 'realtime' | 'history' | 'remove'>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const inputId = useId();

  // The address field starts with the saved address.
  const savedAddress = push?.webhookUrl ?? null;
  useEffect(() => {
    if (savedAddress !== null) setAddress(savedAddress);
  }, [savedAddress]);

  // While the historical push runs, follow its progress every second.
  const running = push?.history.state === 'running';
  useEffect(() => {
    if (!running) return;
    let stopped = false;
    const timer = window.setInterval(() => {
      api.push.get(keyId).then(
        (next) => {
          if (!stopped) setPush(next);
        },
        () => undefined, // A missed poll is retried on the next tick.
      );
    }, POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [running, keyId, setPush]);

  const act = (kind: NonNullable<typeof busy>, call: () => Promise<Push | undefined>) => {
    setBusy(kind);
    setError(null);
    call().then(
      (next) => {
        setBusy(null);
        if (next !== undefined) setPush(next);
      },
      (reason: unknown) => {
        setBusy(null);
        if (kind === 'address' && fieldOf(reason) === 'webhookUrl') setAddressError(messageOf(reason));
        else if (reason instanceof ApiError && reason.status === 409 && (kind === 'realtime' || kind === 'history') && savedAddress === null) {
          // The API's own wording names the endpoint; here the fix is the field above.
          setError('Set a webhook address first: push cannot start without one.');
        } else setError(messageOf(reason));
      },
    );
  };

  const saveAddress = (event: FormEvent) => {
    event.preventDefault();
    const url = address.trim();
    if (!/^https?:\/\/\S+$/i.test(url)) {
      setAddressError('Enter an http:// or https:// address, like https://example.com/webhooks/keyward.');
      return;
    }
    setAddressError(undefined);
    act('address', () =>
      api.push.configure(keyId, url).then((configured) => {
        setSecret(configured.secret);
        const { secret: _secret, ...rest } = configured;
        return rest;
      }),
    );
  };

  if (push === undefined) {
    return state.error !== null ? <ErrorState message={state.error} onRetry={state.reload} /> : <Loading label="Loading push settings…" />;
  }

  const history = push.history;
  const historyLabel =
    history.state === 'idle'
      ? 'Not started'
      : history.state === 'running'
        ? `Historical Data Push Progress ${history.progress}%`
        : `Completed: ${formatNumber(history.delivered)} of ${formatNumber(history.total)} events delivered`;

  return (
    <div className="push-panel" data-testid="push-panel">
      <form onSubmit={saveAddress} noValidate className="push-address">
        <Field
          id={inputId}
          name="webhookUrl"
          label="Webhook address"
          error={addressError}
          hint="Events are signed (Standard Webhooks). Saving a new address issues a new signing secret."
        >
          <div className="input-with-button">
            <input
              id={inputId}
              type="url"
              inputMode="url"
              value={address}
              onChange={(event) => {
                setAddress(event.target.value);
                setAddressError(undefined);
              }}
              placeholder="https://example.com/webhooks/keyward"
              disabled={!mayManage}
              data-testid="webhook-url"
              {...describedBy(inputId, addressError, true)}
            />
            {mayManage && (
              <button type="submit" className="button button-primary" disabled={busy !== null || address.trim() === (savedAddress ?? '')} data-testid="save-webhook">
                {busy === 'address' ? 'Saving…' : savedAddress === null ? 'Save address' : 'Update address'}
              </button>
            )}
          </div>
        </Field>
      </form>
      {secret !== null && <WebhookSecret secret={secret} />}

      <div className="push-controls">
        <div className="push-control">
          <div>
            <h3 className="push-control-title">Real-time push</h3>
            <p className="muted">Sends this project’s key and usage events to the address as they happen.</p>
            <p>
              <span className={`badge ${push.realtime ? 'badge-status-active' : 'badge-neutral'}`} data-testid="realtime-status">
                <span className="badge-dot" aria-hidden="true" />
                {push.realtime ? 'Running' : 'Stopped'}
              </span>
            </p>
          </div>
          {mayManage && (
            <button
              type="button"
              className={`button ${push.realtime ? 'button-secondary' : 'button-primary'}`}
              disabled={busy !== null}
              onClick={() => act('realtime', () => api.push.realtime(keyId, !push.realtime))}
              data-testid="realtime-toggle"
            >
              {busy === 'realtime' ? 'Working…' : push.realtime ? 'Stop real-time push' : 'Start real-time push'}
            </button>
          )}
        </div>

        <div className="push-control">
          <div className="push-history">
            <h3 className="push-control-title">Historical data push</h3>
            <p className="muted">Sends every event recorded before, once only.</p>
            <div
              className="progress"
              role="progressbar"
              aria-label="Historical data push progress"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={history.progress}
              aria-valuetext={historyLabel}
              data-testid="history-progress"
              data-state={history.state}
            >
              <div className={`progress-fill progress-${history.state}`} style={{ width: `${history.progress}%` }} />
            </div>
            <p className="progress-label" data-testid="history-status" aria-live="polite">
              {historyLabel}
            </p>
          </div>
          {mayManage && (
            <button
              type="button"
              className="button button-secondary"
              disabled={busy !== null || history.state !== 'idle'}
              onClick={() => act('history', () => api.push.startHistory(keyId))}
              data-testid="history-push"
              title={history.state === 'completed' ? 'The historical push runs only once' : undefined}
            >
              {busy === 'history' ? 'Starting…' : history.state === 'completed' ? 'Historical push done' : 'Historical Data Push'}
            </button>
          )}
        </div>
      </div>

      {error !== null && <Alert testId="push-error">{error}</Alert>}

      {(push.delivery.lastDeliveryAt !== null || push.delivery.lastError !== null || push.delivery.failedEvents > 0) && (
        <dl className="details details-compact push-delivery" data-testid="push-delivery">
          <div>
            <dt>Last delivery</dt>
            <dd>{push.delivery.lastDeliveryAt === null ? 'None yet' : formatDateTime(push.delivery.lastDeliveryAt)}</dd>
          </div>
          {push.delivery.lastError !== null && (
            <div>
              <dt>Last error</dt>
              <dd className="text-danger">
                {push.delivery.lastError}
                {push.delivery.pendingRetry ? ' (retrying)' : ''}
              </dd>
            </div>
          )}
          {push.delivery.failedEvents > 0 && (
            <div>
              <dt>Events given up on</dt>
              <dd>{formatNumber(push.delivery.failedEvents)}</dd>
            </div>
          )}
        </dl>
      )}

      {mayManage && savedAddress !== null && (
        <p>
          <button type="button" className="button button-danger-ghost button-small" onClick={() => setConfirmRemove(true)} data-testid="remove-webhook">
            Remove webhook and stop all pushes
          </button>
        </p>
      )}
      {confirmRemove && (
        <Modal
          title="Remove the webhook?"
          size="small"
          onClose={() => setConfirmRemove(false)}
          busy={busy === 'remove'}
          footer={
            <>
              <button type="button" className="button button-secondary" onClick={() => setConfirmRemove(false)} data-autofocus>
                Cancel
              </button>
              <button
                type="button"
                className="button button-danger"
                data-testid="remove-webhook-confirm"
                onClick={() => {
                  setConfirmRemove(false);
                  act('remove', () =>
                    api.push.remove(keyId).then(() => {
                      setAddress('');
                      setSecret(null);
                      return api.push.get(keyId);
                    }),
                  );
                }}
              >
                Remove
              </button>
            </>
          }
        >
          <p>Real-time and historical pushes of this key stop, and the address and signing secret are forgotten.</p>
        </Modal>
      )}
    </div>
  );
}
