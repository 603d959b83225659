import { useConsole } from '../store/store';
import { ErrorNote } from './ui';

export function SignIn() {
  const signingIn = useConsole((s) => s.signingIn);
  const error = useConsole((s) => s.authError);
  const signIn = useConsole((s) => s.signIn);
  const cancelSignIn = useConsole((s) => s.cancelSignIn);
  const blockedUrl = useConsole((s) => s.blockedSignInUrl);
  const serverUrl = useConsole((s) => s.status?.serverUrl);
  return (
    <main className="sign-in">
      <h1>Roomlink</h1>
      <p>Remote support for meeting rooms. Sign in with your work account.</p>
      <button type="button" className="primary" onClick={() => void signIn()} disabled={signingIn} autoFocus>
        {signingIn ? 'Waiting for the sign-in window…' : 'Sign in'}
      </button>
      {signingIn && !blockedUrl && <p className="hint">Finish signing in in the window that opened. This page continues by itself.</p>}
      {blockedUrl && (
        <p role="status">
          Your browser did not open the sign-in window.{' '}
          <a href={blockedUrl} target="_blank" rel="noreferrer">
            Open the sign-in page
          </a>
          .
        </p>
      )}
      {signingIn && (
        <button type="button" onClick={() => void cancelSignIn()}>
          Cancel
        </button>
      )}
      <ErrorNote error={error} />
      <p className="hint">Service: {serverUrl}</p>
    </main>
  );
}
