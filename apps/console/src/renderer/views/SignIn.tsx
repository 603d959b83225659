import { useConsole } from '../store/store';
import { ErrorNote } from './ui';

export function SignIn() {
  const signingIn = useConsole((s) => s.signingIn);
  const error = useConsole((s) => s.authError);
  const signIn = useConsole((s) => s.signIn);
  const serverUrl = useConsole((s) => s.status?.serverUrl);
  return (
    <main className="sign-in">
      <h1>Roomlink</h1>
      <p>Remote support for meeting rooms. Sign in with your work account.</p>
      <button type="button" className="primary" onClick={() => void signIn()} disabled={signingIn} autoFocus>
        {signingIn ? 'Waiting for the sign-in window…' : 'Sign in'}
      </button>
      {signingIn && <p className="hint">Finish signing in in the window that opened. This page continues by itself.</p>}
      <ErrorNote error={error} />
      <p className="hint">Service: {serverUrl}</p>
    </main>
  );
}
