// A labelled form control with its hint and its error message underneath.
import type { ReactNode } from 'react';

interface FieldProps {
  id: string;
  label: ReactNode;
  error?: string | undefined;
  hint?: ReactNode;
  children: ReactNode;
  /** Names the error element `error-<name>` for tests. */
  name?: string;
  optional?: boolean;
  className?: string;
}

/** The aria attributes a control inside a Field needs. */
export function describedBy(id: string, error: string | undefined, hint?: ReactNode) {
  const ids = [hint !== undefined ? `${id}-hint` : null, error !== undefined ? `${id}-error` : null].filter((value) => value !== null);
  return {
    'aria-describedby': ids.length > 0 ? ids.join(' ') : undefined,
    'aria-invalid': error !== undefined ? true : undefined,
  };
}

export function Field({ id, label, error, hint, children, name, optional = false, className }: FieldProps) {
  return (
    <div className={`field${error !== undefined ? ' field-invalid' : ''}${className !== undefined ? ` ${className}` : ''}`}>
      <label htmlFor={id} className="field-label">
        {label}
        {optional && <span className="field-optional"> (optional)</span>}
      </label>
      {children}
      {hint !== undefined && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p id={`${id}-error`} className="field-error" role="alert" data-testid={name !== undefined ? `error-${name}` : undefined}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A group of checkboxes or radios under one legend. */
export function FieldSet({ legend, error, hint, children, name, id }: { legend: ReactNode; error?: string | undefined; hint?: ReactNode; children: ReactNode; name?: string; id: string }) {
  return (
    <fieldset className={`field fieldset${error !== undefined ? ' field-invalid' : ''}`} aria-describedby={describedBy(id, error, hint)['aria-describedby']}>
      <legend className="field-label">{legend}</legend>
      {children}
      {hint !== undefined && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p id={`${id}-error`} className="field-error" role="alert" data-testid={name !== undefined ? `error-${name}` : undefined}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
