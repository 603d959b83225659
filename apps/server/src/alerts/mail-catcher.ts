import type { AddressInfo } from 'node:net';
import type { CaughtMail } from '@roomlink/shared';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const KEEP = 200;

export interface MailCatcher {
  port: number;
  /** Newest first. */
  mail(): CaughtMail[];
  close(): Promise<void>;
}

/**
 * A local SMTP server that keeps what it is sent, for development and the
 * demo (`npm start`): alert mail arrives somewhere a new user can see it.
 * It listens on loopback only and accepts any sender without a password.
 */
export async function startMailCatcher(port = 0): Promise<MailCatcher> {
  const caught: CaughtMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    banner: 'Roomlink development mail catcher',
    size: 1024 * 1024,
    onData(stream, _session, done) {
      simpleParser(stream).then(
        (mail) => {
          const to = (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));
          caught.unshift({ at: new Date().toISOString(), from: mail.from?.text ?? '', to, subject: mail.subject ?? '', text: mail.text ?? '' });
          caught.splice(KEEP);
          done();
        },
        (error: Error) => done(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    mail: () => [...caught],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
