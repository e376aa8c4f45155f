// A modal dialog on the native <dialog>: the page behind it is inert, focus starts on the first
// field (or [data-autofocus]), Tab and Shift+Tab stay inside, Escape closes it, and focus goes
// back to whatever opened it.
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((element) => element.offsetParent !== null || element === document.activeElement);
}

interface ModalProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Buttons at the bottom, right-aligned. */
  footer?: ReactNode;
  size?: 'small' | 'medium' | 'large';
  testId?: string;
  /** While a request is in flight, Escape and the close button do nothing. */
  busy?: boolean;
}

export function Modal({ title, onClose, children, footer, size = 'medium', testId, busy = false }: ModalProps) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const bodyRef = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const closeRef = useRef({ onClose, busy });
  closeRef.current = { onClose, busy };

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog === null) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const body = bodyRef.current ?? dialog;
    const first = body.querySelector<HTMLElement>('[data-autofocus]') ?? focusables(body)[0] ?? focusables(dialog)[0];
    first?.focus();
    // The browser may close a dialog on its own (a second Escape without user activation):
    // tell the owner so its state follows. Only if it is still closed: in development StrictMode
    // runs this effect twice, and the first cleanup's close() queues a `close` event that arrives
    // after the dialog has been shown again.
    const closedByBrowser = () => {
      if (!dialog.open) closeRef.current.onClose();
    };
    dialog.addEventListener('close', closedByBrowser);
    return () => {
      dialog.removeEventListener('close', closedByBrowser);
      if (dialog.open) dialog.close();
      if (opener?.isConnected === true) opener.focus();
    };
  }, []);

  const requestClose = () => {
    if (!closeRef.current.busy) closeRef.current.onClose();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      requestClose();
      return;
    }
    if (event.key !== 'Tab' || dialogRef.current === null) return;
    const items = focusables(dialogRef.current);
    const first = items[0];
    const last = items[items.length - 1];
    if (first === undefined || last === undefined) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={dialogRef}
      className={`modal modal-${size}`}
      aria-labelledby={titleId}
      aria-modal="true"
      data-testid={testId}
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        event.preventDefault();
        requestClose();
      }}
    >
      <div className="modal-header">
        <h2 id={titleId} className="modal-title">
          {title}
        </h2>
        <button type="button" className="icon-button" aria-label="Close dialog" onClick={requestClose} disabled={busy} data-testid="modal-close">
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <div className="modal-body" ref={bodyRef}>
        {children}
      </div>
      {footer !== undefined && <div className="modal-footer">{footer}</div>}
    </dialog>
  );
}

interface FormFooterProps {
  /** The id of the <form> in the modal's body that the submit button submits. */
  formId: string;
  busy: boolean;
  onCancel: () => void;
  label: string;
  /** Shown on the submit button while the request is in flight. */
  busyLabel: string;
  testId: string;
  /** A destructive action: the submit button is red. */
  danger?: boolean;
  /** Further reasons to keep the submit button disabled (it always is while busy). */
  disabled?: boolean;
}

/** The usual footer of a form in a modal: Cancel, then the submit button. */
export function FormFooter({ formId, busy, onCancel, label, busyLabel, testId, danger = false, disabled = false }: FormFooterProps) {
  return (
    <>
      <button type="button" className="button button-secondary" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
      <button type="submit" form={formId} className={`button ${danger ? 'button-danger' : 'button-primary'}`} disabled={disabled || busy} data-testid={testId}>
        {busy ? busyLabel : label}
      </button>
    </>
  );
}
