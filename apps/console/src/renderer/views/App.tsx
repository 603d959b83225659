import { useConsole } from '../store/store';
import { Dashboard } from './Dashboard';
import { Header } from './Header';
import { IncidentsView } from './IncidentsView';
import { RoomsView } from './RoomsView';
import { SessionWindow } from './SessionWindow';
import { SettingsView } from './SettingsView';
import { SignIn } from './SignIn';

export function App() {
  const status = useConsole((s) => s.status);
  const hostLost = useConsole((s) => s.hostLost);
  const view = useConsole((s) => s.view);
  const session = useConsole((s) => s.session !== null);
  if (hostLost) return <p className="fatal">The console host stopped. Start it again and reload this page.</p>;
  if (!status) return <p className="loading">Starting…</p>;
  if (!status.account) return <SignIn />;
  return (
    <div className="app">
      <Header />
      <main className="content">
        {view === 'dashboard' && <Dashboard />}
        {view === 'rooms' && <RoomsView />}
        {view === 'incidents' && <IncidentsView />}
        {view === 'settings' && <SettingsView />}
      </main>
      {session && <SessionWindow />}
    </div>
  );
}
