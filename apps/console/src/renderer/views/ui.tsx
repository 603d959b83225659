import { type ReactNode, useEffect, useRef } from 'react';
import type { ConsoleFailure } from '../../api/console-api';

export function ErrorNote({ error }: { error: ConsoleFailure | null }) {
  if (!error) return null;
  return (
    <div className="error-note" role="alert">
      {error.message}
      {error.details && error.details.length > 0 && <small> ({error.details.join('; ')})</small>}
    </div>
  );
}

/** A modal dialog that takes focus, closes on Esc and gives focus back. */
export function Dialog({ title, onClose, children, className }: { title: string; onClose(): void; children: ReactNode; className?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    dialog?.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={className ?? 'dialog'}
      aria-label={title}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {children}
    </dialog>
  );
}

/** A dialog holding a small form: its fields, the error of the last try, Cancel and one action. */
export function FormDialog({ title, error, action, canAct, onAct, onClose, children }: { title: string; error: ConsoleFailure | null; action: string; canAct: boolean; onAct(): void; onClose(): void; children: ReactNode }) {
  return (
    <Dialog title={title} onClose={onClose}>
      <h2>{title}</h2>
      <ErrorNote error={error} />
      <div className="dialog-body form">{children}</div>
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={!canAct} onClick={onAct}>
          {action}
        </button>
      </div>
    </Dialog>
  );
}

export function Confirm({ title, body, action, danger, onConfirm, onCancel }: { title: string; body: ReactNode; action: string; danger?: boolean; onConfirm(): void; onCancel(): void }) {
  return (
    <Dialog title={title} onClose={onCancel}>
      <h2>{title}</h2>
      <div className="dialog-body">{body}</div>
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm} autoFocus>
          {action}
        </button>
      </div>
    </Dialog>
  );
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "5 minutes ago", with the exact time on hover. */
export function Ago({ at }: { at: string | null }) {
  if (!at) return <span>never</span>;
  const seconds = Math.round((Date.parse(at) - Date.now()) / 1000);
  const [value, unit] =
    Math.abs(seconds) < 60 ? [seconds, 'second'] : Math.abs(seconds) < 3600 ? [Math.round(seconds / 60), 'minute'] : Math.abs(seconds) < 86400 ? [Math.round(seconds / 3600), 'hour'] : [Math.round(seconds / 86400), 'day'];
  return <time title={new Date(at).toLocaleString()}>{relative.format(value, unit as Intl.RelativeTimeFormatUnit)}</time>;
}
