import { createTransport } from 'nodemailer';
import type { RenderedEmail } from '@renkei/delivery';

export interface MailResult {
  statusCode: number | null;
  latencyMs: number;
  ok: boolean;
  error: string | null;
}

export interface Mailer {
  send(to: readonly string[], message: RenderedEmail, deliveryId: string): Promise<MailResult>;
  close(): void;
}

/** The SMTP reply code at the start of a server's answer (`250 2.0.0 Ok`). */
function replyCode(response: unknown): number | null {
  const match = typeof response === 'string' ? /^(\d{3})\b/.exec(response) : null;
  return match ? Number(match[1]) : null;
}

/**
 * Sends delivery e-mail through the operator's SMTP server (nodemailer,
 * STARTTLS whenever the server offers it). One message per delivery to the
 * endpoint's whole list; the delivery id travels in a header so a mail
 * rule can drop a repeat.
 */
export function createMailer(options: { url: string; from: string; timeoutMs: number }): Mailer {
  const transport = createTransport(
    {
      url: options.url,
      // Per SMTP stage; together they bound one attempt.
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    },
    { from: options.from },
  );
  return {
    async send(to, message, deliveryId) {
      const started = performance.now();
      try {
        const info = await transport.sendMail({
          to: [...to],
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: { 'Renkei-Delivery': deliveryId },
        });
        return {
          statusCode: replyCode(info.response),
          latencyMs: Math.round(performance.now() - started),
          ok: true,
          error: null,
        };
      } catch (error) {
        const failure = error as { responseCode?: number; message?: string };
        return {
          statusCode: failure.responseCode ?? null,
          latencyMs: Math.round(performance.now() - started),
          ok: false,
          error: failure.message ?? String(error),
        };
      }
    },
    close: () => transport.close(),
  };
}
