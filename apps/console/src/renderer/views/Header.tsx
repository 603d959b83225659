import type { View } from '../store/nav-slice';
import { useConsole } from '../store/store';

const views: [View, string][] = [
  ['dashboard', 'Dashboard'],
  ['rooms', 'Rooms'],
  ['incidents', 'Incidents'],
  ['settings', 'Settings'],
];

const connectionLabels = { connected: 'Connected', connecting: 'Connecting…', offline: 'Offline — reconnecting' } as const;

export function Header() {
  const status = useConsole((s) => s.status)!;
  const view = useConsole((s) => s.view);
  const go = useConsole((s) => s.go);
  const signOut = useConsole((s) => s.signOut);
  const account = status.account!;
  return (
    <header className="header">
      <span className="brand">Roomlink</span>
      <nav aria-label="Main">
        {views.map(([id, label]) => (
          <button key={id} type="button" aria-current={view === id ? 'page' : undefined} onClick={() => go(id)}>
            {label}
          </button>
        ))}
      </nav>
      <span className={`connection ${status.connection}`} data-testid="connection">
        {connectionLabels[status.connection]}
      </span>
      <span className="who" data-testid="who">
        <b>{account.name}</b> · {account.username} · tenant {account.tenantId}
      </span>
      <a href={status.helpUrl} target="_blank" rel="noreferrer">
        Help
      </a>
      <button type="button" onClick={() => void signOut()}>
        Sign out
      </button>
    </header>
  );
}
