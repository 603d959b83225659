import nodemailer from 'nodemailer';
import type { Senders } from './alerts';

/** Where alert mail goes: an SMTP relay (the embedded catcher in development). */
export interface SmtpConfig {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  from: string;
  auth?: { user: string; pass: string };
}

/** Mail through nodemailer's SMTP transport, webhooks through fetch with a timeout. */
export function realSenders(smtp: SmtpConfig | null): Senders {
  const transport = smtp && nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: smtp.secure, ...(smtp.auth && { auth: smtp.auth }) });
  return {
    async email(to, subject, text, messageId) {
      if (!transport || !smtp) throw new Error('no SMTP server is configured');
      await transport.sendMail({ from: smtp.from, to, subject, text, messageId });
    },
    async post(url, body, headers) {
      const response = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      await response.body?.cancel();
      return response.status;
    },
  };
}
