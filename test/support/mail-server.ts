// A real SMTP server (the smtp-server package) on loopback for tests: it keeps every message that
// arrives, decoded enough to read links and codes.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export type ReceivedMail = { to: string[]; raw: string; text: string };

export type MailServer = {
  port: number;
  received: ReceivedMail[];
  // Waits for the next message to this address after `since` messages, and returns it.
  next(to: string, since: number): Promise<ReceivedMail>;
  close(): Promise<void>;
};

export async function startMailServer(): Promise<MailServer> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    size: 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        received.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()), raw, text: decodeQuotedPrintable(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    async next(to, since) {
      for (let attempt = 0; attempt < 100; attempt++) {
        const found = received.slice(since).find((mail) => mail.to.includes(to.toLowerCase()));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no mail arrived for ${to}`);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// Only a quoted-printable message is decoded: in a 7bit one, "=53…" in a link token is the token itself.
function decodeQuotedPrintable(raw: string): string {
  if (!/^Content-Transfer-Encoding: quoted-printable/im.test(raw)) return raw;
  return raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function tokenIn(mail: ReceivedMail): string {
  const match = /#token=([A-Za-z0-9_-]{20,})/.exec(mail.text);
  if (!match) throw new Error("no link token in the message");
  return match[1]!;
}

export function codeIn(mail: ReceivedMail): string {
  const match = /code is (\d{6})/.exec(mail.text);
  if (!match) throw new Error("no code in the message");
  return match[1]!;
}
