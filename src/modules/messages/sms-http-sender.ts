// SMS through a provider's HTTPS API, provider-neutral: POST {to, from, text} as JSON with a bearer
// token. Errors name the provider and the status, never the token or the message text.
import { AppError } from "../../errors/app-error.ts";
import type { Message, MessageSender } from "./message.ts";
import type { SmsHttpConfig } from "./messages-config.ts";

export type SmsHttpSenderOptions = { timeoutMs?: number };

const defaultTimeoutMs = 15_000;

// E.164: the one phone number form every SMS provider accepts.
const phoneNumber = /^\+[1-9]\d{7,14}$/;

export function createSmsHttpSender(config: SmsHttpConfig, options: SmsHttpSenderOptions = {}): MessageSender {
  const url = new URL(config.url);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;

  return {
    async send(message: Message): Promise<void> {
      if (message.channel !== "sms") throw new AppError("internal_error", `the SMS sender cannot send ${message.channel} messages`);
      if (!phoneNumber.test(message.to)) {
        throw new AppError("bad_request", "an SMS recipient must be a phone number in E.164 form (+ and 8 to 15 digits)");
      }
      const failed = (reason: string) => new AppError("delivery_failed", `could not send the ${message.purpose} SMS through ${url.origin}: ${reason}`);
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${config.token}`, "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ to: message.to, ...(config.from ? { from: config.from } : {}), text: message.text }),
          // A redirect would carry the token elsewhere: a provider API has no reason to redirect.
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw failed(reasonOf(error));
      }
      // The provider's answer may quote the message: it is read only to free the connection.
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) throw failed(`the provider answered HTTP ${response.status}`);
    },
  };
}

function reasonOf(error: unknown): string {
  if ((error as Error).name === "TimeoutError") return "the provider did not answer in time";
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = `${cause?.code ?? ""} ${cause?.message ?? ""}`;
  if (/ECONNREFUSED/.test(detail)) return "the connection was refused";
  if (/ENOTFOUND|EAI_AGAIN/.test(detail)) return "the host name could not be resolved";
  if (/CERT|certificate|ALTNAME/i.test(detail)) return `TLS failed: the provider's certificate is not trusted (${cause?.code ?? "verification failed"})`;
  if (/redirect/i.test(detail)) return "the provider answered with a redirect, which is not followed";
  return `the request failed${cause?.code ? ` (${cause.code})` : ""}`;
}
