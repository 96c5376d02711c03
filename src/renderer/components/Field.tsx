import { useId, type InputHTMLAttributes, type ReactNode, type Ref } from 'react';

/**
 * A labelled form control with its hint and its error, wired for screen readers
 * (aria-describedby, aria-invalid) so a form can be filled and checked by label alone.
 * Pass react-hook-form's `register(name)` result as props.
 */
export function Field({
  label,
  hint,
  error,
  multiline,
  ref,
  ...input
}: {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  multiline?: boolean;
  /** React 19 passes `ref` as a prop: react-hook-form's register() result fits as is. */
  ref?: Ref<HTMLInputElement & HTMLTextAreaElement>;
} & InputHTMLAttributes<HTMLInputElement & HTMLTextAreaElement>) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy || undefined,
    ref,
    ...input,
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? <textarea rows={6} {...common} /> : <input {...common} />}
      {hint && (
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      )}
      {error && (
        <span id={errorId} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

/** Saves text as a file through the browser's download (recovery kits). */
export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
