import type { Principals } from '@roomlink/shared';
import { useEffect, useId, useState } from 'react';
import { usePlatform } from '../store/store';

export interface PickOption {
  value: string;
  label: string;
  /** Other texts that name this option when typed (a username, a display name). */
  aliases?: string[];
}

/** Users who have signed in and groups seen in tokens; empty for someone who may not list them. */
export function usePrincipals(): { users: PickOption[]; groups: PickOption[] } {
  const { api } = usePlatform();
  const [principals, setPrincipals] = useState<Principals>({ users: [], groups: [] });
  useEffect(() => void api.principals().then(setPrincipals, () => undefined), [api]);
  return {
    users: principals.users.map((u) => ({ value: u.id, label: `${u.name} (${u.username})`, aliases: [u.name, u.username] })),
    groups: principals.groups.map((g) => ({ value: g.id, label: g.id })),
  };
}

/** What the typed text names: an option by its value, label or an alias, else the text itself (an id the directory has not seen yet). */
function resolve(text: string, options: readonly PickOption[]): string {
  const wanted = text.trim().toLowerCase();
  const hit = options.find((o) => [o.value, o.label, ...(o.aliases ?? [])].some((name) => name.toLowerCase() === wanted));
  return hit?.value ?? text.trim();
}

/**
 * Picks any number of items by typing: suggestions from `options`, Enter or
 * Add to take one, × to drop one. With `free`, text that matches no option
 * is taken as it is.
 */
export function TokenPicker({ label, options, value, onChange, free = true }: { label: string; options: readonly PickOption[]; value: readonly string[]; onChange(value: string[]): void; free?: boolean }) {
  const [text, setText] = useState('');
  const listId = useId();
  const labelOf = (v: string) => options.find((o) => o.value === v)?.label ?? v;
  const add = () => {
    if (!text.trim()) return;
    const picked = resolve(text, options);
    if (!free && !options.some((o) => o.value === picked)) return;
    if (!value.includes(picked)) onChange([...value, picked]);
    setText('');
  };
  return (
    <div className="picker">
      <label>
        {label}
        <input
          value={text}
          list={listId}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key !== 'Enter') return;
            e.preventDefault();
            add();
          }}
        />
      </label>
      <datalist id={listId}>
        {options
          .filter((o) => !value.includes(o.value))
          .map((o) => (
            <option key={o.value} value={o.label} />
          ))}
      </datalist>
      <button type="button" onClick={add} aria-label={`Add to ${label}`}>
        Add
      </button>
      <ul className="chips" aria-label={`${label} chosen`}>
        {value.map((v) => (
          <li key={v}>
            {labelOf(v)}
            <button type="button" aria-label={`Remove ${labelOf(v)}`} onClick={() => onChange(value.filter((x) => x !== v))}>
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Any number of a short list, one checkbox each: no Ctrl-click. */
export function Checklist({ label, options, value, onChange }: { label: string; options: readonly PickOption[]; value: readonly string[]; onChange(value: string[]): void }) {
  return (
    <fieldset className="checklist">
      <legend>{label}</legend>
      {options.length === 0 && <span className="hint">None yet.</span>}
      {options.map((o) => (
        <label key={o.value} className="check">
          <input type="checkbox" checked={value.includes(o.value)} onChange={(e) => onChange(e.target.checked ? [...value, o.value] : value.filter((v) => v !== o.value))} />
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}
