import { createRoot } from 'react-dom/client';
import { App } from './views/App';
import { connectPlatform } from './platform/connect';
import { createConsoleStore, StoreContext } from './store/store';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
connectPlatform().then(
  (platform) => {
    const store = createConsoleStore(platform);
    void store.getState().initAuth();
    root.render(
      <StoreContext.Provider value={{ store, platform }}>
        <App />
      </StoreContext.Provider>,
    );
  },
  (error: Error) => root.render(<p className="fatal">{error.message}</p>),
);
